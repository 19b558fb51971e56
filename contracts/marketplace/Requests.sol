// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice Identifies a storage request: keccak256(abi.encode(request)).
type RequestId is bytes32;

/// @notice Identifies one slot of a request: keccak256(abi.encode(requestId, slotIndex)).
type SlotId is bytes32;

/// @notice A client's request to store a dataset, as submitted and as returned by `getRequest`.
/// @dev Field order and ABI types follow Codex's marketplace, so the same request hashes to the same id.
/// Storage packing is RequestRecord's business, not this calldata type's.
// solhint-disable-next-line gas-struct-packing
struct Request {
    address client; // pays for the storage and gets back what is not owed to anyone
    Ask ask;
    Content content;
    uint64 expiry; // seconds after the request is made by which every slot must be filled
    bytes32 nonce; // tells apart otherwise identical requests
}

/// @notice What the client asks for and what it pays.
struct Ask {
    uint256 proofProbability; // a proof is required about once every this many periods
    uint256 pricePerBytePerSecond; // tokens paid to a host per byte of its slot per second
    uint256 collateralPerByte; // tokens a host locks per byte of its slot
    uint64 slots; // number of slots the dataset is cut into
    uint64 slotSize; // bytes per slot
    uint64 duration; // seconds the data must be kept, counted from the request
    uint64 maxSlotLoss; // slots that may be lost before the request fails
}

/// @notice The dataset.
struct Content {
    bytes cid; // content identifier to download the dataset
    bytes32 merkleRoot; // dataset root of the storage proofs: a field element, 32 bytes little-endian
}

/// @notice Life of a request. Cancelled and Finished follow from time alone and are derived lazily.
enum RequestState {
    New, // waiting for its slots to be filled
    Started, // every slot was filled before expiry
    Cancelled, // expiry passed before every slot was filled
    Finished, // the duration passed while the request was started
    Failed // more than maxSlotLoss slots were lost while started
}

/// @notice Life of a slot. Finished, Cancelled and Failed are derived from the request's state.
enum SlotState {
    Free, // never filled
    Filled, // a host holds it and proves
    Finished, // its request finished; the host may collect payment and collateral
    Failed, // its request failed; the host may collect what it earned until then
    Paid, // the host collected its payout
    Cancelled, // its request was cancelled; the host may collect payment and collateral
    Repair // its host was removed; another host may take it over
}

/// @title Requests
/// @notice Ids of requests and slots, and the per-slot amounts a request implies: the one place these
/// rules live. Payout arithmetic over time is in `Payouts`.
library Requests {
    /// @notice The amounts a request implies, each at most 2**128 - 1 when `fits`.
    struct Amounts {
        uint256 pricePerSlotPerSecond; // pricePerBytePerSecond * slotSize
        uint256 collateralPerSlot; // collateralPerByte * slotSize
        uint256 maxPrice; // slots * duration * pricePerSlotPerSecond: what the client pays up front
        bool fits; // false when a product overflows or maxPrice + slots * collateralPerSlot >= 2**128
    }

    /// @notice The id of `request`.
    function id(Request calldata request) internal pure returns (RequestId) {
        return RequestId.wrap(keccak256(abi.encode(request)));
    }

    /// @notice The id of slot `slotIndex` of request `requestId`.
    function slotId(RequestId requestId, uint256 slotIndex) internal pure returns (SlotId result) {
        // keccak256(abi.encode(requestId, slotIndex)) in scratch space, without a memory allocation.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0x00, requestId)
            mstore(0x20, slotIndex)
            result := keccak256(0x00, 0x40)
        }
    }

    /// @notice Price and collateral per slot and the up-front price of `ask`, with overflow reported
    /// in `fits` rather than by a panic, so that the caller can reject the request with its own error.
    /// @dev Bounding every amount, and the most a request can hold before any repair, by 2**128 lets
    /// the marketplace keep them in 128-bit fields and add them without overflow.
    function amounts(Ask calldata ask) internal pure returns (Amounts memory result) {
        bool ok;
        uint256 totalCollateral;
        (ok, result.pricePerSlotPerSecond) = Math.tryMul(ask.pricePerBytePerSecond, ask.slotSize);
        result.fits = ok;
        (ok, result.collateralPerSlot) = Math.tryMul(ask.collateralPerByte, ask.slotSize);
        result.fits = result.fits && ok;
        (ok, result.maxPrice) = Math.tryMul(uint256(ask.slots) * ask.duration, result.pricePerSlotPerSecond);
        result.fits = result.fits && ok;
        (ok, totalCollateral) = Math.tryMul(ask.slots, result.collateralPerSlot);
        result.fits =
            result.fits &&
            ok &&
            result.maxPrice < type(uint128).max &&
            totalCollateral < type(uint128).max - result.maxPrice;
    }
}
