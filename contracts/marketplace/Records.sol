// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {RequestId, RequestState, SlotState} from "./Requests.sol";

/// @notice How the marketplace stores a request: packed so that each call touches few storage words.
/// Values the submitted `Request` holds but that can be derived are not stored: per-byte prices are
/// per-slot amounts divided by slotSize, expiry and duration are expiresAt and endsAt minus createdAt.
/// @dev Timestamps are uint40 (good until year 36812); counts and indices are uint32, which
/// `requestStorage` enforces; token amounts are uint128, which `Requests.amounts` enforces.
struct RequestRecord {
    // word 0: identity and the proof and loss parameters
    address client; // zero for an unknown request
    uint32 proofProbability;
    uint32 slots;
    uint32 maxSlotLoss;
    // word 1: lifecycle, read by nearly every call
    RequestState state; // New, Started, Failed, or Cancelled once a settlement has seen it
    bool clientWithdrawn;
    uint32 slotsFilled;
    uint40 createdAt;
    uint40 expiresAt;
    uint40 endsAt;
    uint40 failedAt; // zero unless Failed
    uint32 clientListPosition; // 1-based position in the client's request list; 0 once removed
    // word 2: per-slot amounts
    uint128 pricePerSlotPerSecond;
    uint128 collateralPerSlot;
    // word 3: the request's money. `escrow` is every token the marketplace holds for this request
    // (its whole balance is the sum of all escrows and validator rewards); `clientFunds` is the
    // part owed to the client if every slot that is filled now stays filled until the end.
    uint128 clientFunds;
    uint128 escrow;
    // words 4 to 6 and on: only read to answer getRequest, and the root by proofs
    bytes32 merkleRoot;
    bytes32 nonce;
    uint64 slotSize;
    bytes cid;
}

/// @notice How the marketplace stores a slot.
/// @dev Word 1 holds everything `submitProof` reads and writes besides the request: who may prove,
/// which slot it is, and which periods were proven. Because the timeout is at most one period,
/// a period can only be marked missing during the next one, so the last proven period plus one bit
/// for the period before it are all the proof history needed.
struct SlotRecord {
    // word 0
    RequestId requestId; // zero until the slot is first filled
    // word 1
    address host; // zero unless Filled or Paid
    uint32 slotIndex;
    uint40 lastProofPeriod; // last period in which the current host submitted a proof (or filled)
    bool previousPeriodProven; // whether the period before lastProofPeriod was proven too
    SlotState state; // stored part of the state: Free, Filled, Repair or Paid
    // word 2
    uint40 filledAt;
    uint8 missedProofs; // missed proofs of the current host; a host is removed at maxNumberOfSlashes
    uint40 lastMissedPeriod; // last period marked missing; marks come in period order
    uint32 round; // how many times the slot was reopened for repair; keys its reservations
    uint40 reopenedAt; // when the current repair round began
    uint32 hostListPosition; // 1-based position in the host's slot list; 0 when not listed
}
