// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Configuration} from "./Configuration.sol";
import {RequestId, Requests, SlotId} from "./Requests.sol";

/// @title SlotReservations
/// @notice Before filling a slot a host reserves it. At most `maxReservations` hosts hold a
/// reservation on a slot at a time, a host reserves a slot once, only Free and Repair slots take
/// reservations, and reservations are cleared when a host is removed from the slot.
///
/// Which hosts may reserve is limited by an expanding window (Codex design "slot-reservations",
/// which Codex's contracts left as a TODO), so that filling a fresh slot is not a gas race among all
/// hosts at once:
/// - Each time a slot opens (round 0 when the request is made, round k after the k-th removal of a
///   host) it gets a key: key = keccak256(abi.encode(slotId, round)). Its low 160 bits are the
///   window's source in address space; the whole key names the round's reservation set, so the
///   set of a new round starts empty.
/// - A host's distance to the source is the bit length d of (uint160(host) XOR source), 0..160.
/// - With D = windowDoublings and E = expiry * windowExpansionPercentage / 100 seconds, the window
///   at t seconds after the slot opened admits every d <= 160 - D + floor(t * D / E), and every d
///   from t >= E on. So the window starts on 2**-D of the address space, doubles in D equal steps,
///   and holds everyone after E. D = 0 turns the window off.
/// - Equivalently, a host may reserve from openedAt + ceil(s * E / D) on, s = d - (160 - D) (from
///   openedAt when s <= 0): `reservationEligibleAt`.
/// The source depends on the slot and the round, so the hosts favoured differ per slot and per repair.
/// Codex's design also scales the growth by a random factor per block; that is left out so that
/// eligibility only grows and a host can plan when to reserve.
abstract contract SlotReservations is Configuration {
    /// @dev round key => position => host, positions filled from 0 without gaps.
    mapping(bytes32 roundKey => mapping(uint256 position => address host)) private _reservations;

    /// @notice A slot as reservations see it.
    struct ReservationSubject {
        bool open; // Free or Repair and its request is New or Started
        uint32 round; // times the slot was reopened for repair
        uint256 openedAt; // when the current round began
        uint256 expiry; // the request's expiry in seconds, which sets the window's pace
    }

    /// @notice The slot is not Free or Repair, or its request no longer takes hosts.
    error SlotReservations_SlotNotReservable();
    /// @notice The host already holds a reservation on the slot.
    error SlotReservations_AlreadyReserved();
    /// @notice The slot already holds maxReservations reservations.
    error SlotReservations_ReservationsFull();
    /// @notice The host is not in the slot's reservation window yet.
    /// @param eligibleAt the first timestamp at which it will be
    error SlotReservations_NotInWindow(uint256 eligibleAt);

    /// @notice The slot now holds maxReservations reservations and takes no more.
    event SlotReservationsFull(RequestId indexed requestId, uint64 slotIndex);

    /// @notice The slot of the request at `slotIndex` as reservations see it; reverts for an unknown
    /// request or an index out of range.
    function _reservationSubject(
        RequestId requestId,
        uint64 slotIndex
    ) internal view virtual returns (ReservationSubject memory);

    /// @notice Reserves slot `slotIndex` of request `requestId` for the caller, which is then allowed
    /// to fill it. Emits SlotReservationsFull when this reservation fills the set.
    /// @dev Reverts with Marketplace_UnknownRequest, Marketplace_InvalidSlot or one of this
    /// contract's errors.
    /// @param requestId the request
    /// @param slotIndex the slot's index in the request
    function reserveSlot(RequestId requestId, uint64 slotIndex) external {
        ReservationSubject memory subject = _reservationSubject(requestId, slotIndex);
        if (!subject.open) revert SlotReservations_SlotNotReservable();
        bytes32 key = _roundKey(Requests.slotId(requestId, slotIndex), subject.round);
        uint256 eligibleAt = _eligibleAt(key, msg.sender, subject.openedAt, subject.expiry);
        if (block.timestamp < eligibleAt) revert SlotReservations_NotInWindow(eligibleAt);

        mapping(uint256 => address) storage set = _reservations[key];
        uint256 max = _maxReservations;
        for (uint256 i = 0; i < max; ++i) {
            address holder = set[i];
            if (holder == msg.sender) revert SlotReservations_AlreadyReserved();
            if (holder == address(0)) {
                set[i] = msg.sender;
                if (i + 1 == max) emit SlotReservationsFull(requestId, slotIndex);
                return;
            }
        }
        revert SlotReservations_ReservationsFull();
    }

    /// @notice Whether `host` may reserve slot `slotIndex` of request `requestId` now.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @param slotIndex the slot's index; reverts with Marketplace_InvalidSlot when out of range
    /// @param host the would-be host
    /// @return allowed true when reserveSlot by `host` would succeed in this block
    function canReserveSlot(RequestId requestId, uint64 slotIndex, address host) external view returns (bool allowed) {
        ReservationSubject memory subject = _reservationSubject(requestId, slotIndex);
        if (!subject.open) return false;
        bytes32 key = _roundKey(Requests.slotId(requestId, slotIndex), subject.round);
        if (block.timestamp < _eligibleAt(key, host, subject.openedAt, subject.expiry)) return false;
        mapping(uint256 => address) storage set = _reservations[key];
        uint256 max = _maxReservations;
        for (uint256 i = 0; i < max; ++i) {
            address holder = set[i];
            if (holder == host) return false;
            if (holder == address(0)) return true;
        }
        return false;
    }

    /// @notice When `host` enters the reservation window of the slot's current round.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @param slotIndex the slot's index; reverts with Marketplace_InvalidSlot when out of range
    /// @param host the would-be host
    /// @return eligibleAt a timestamp; at or after it the window admits `host`
    function reservationEligibleAt(
        RequestId requestId,
        uint64 slotIndex,
        address host
    ) external view returns (uint256 eligibleAt) {
        ReservationSubject memory subject = _reservationSubject(requestId, slotIndex);
        bytes32 key = _roundKey(Requests.slotId(requestId, slotIndex), subject.round);
        return _eligibleAt(key, host, subject.openedAt, subject.expiry);
    }

    /// @notice The hosts holding a reservation on the slot's current round, in the order they reserved.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @param slotIndex the slot's index; reverts with Marketplace_InvalidSlot when out of range
    /// @return hosts between 0 and maxReservations addresses
    function getReservations(RequestId requestId, uint64 slotIndex) external view returns (address[] memory hosts) {
        ReservationSubject memory subject = _reservationSubject(requestId, slotIndex);
        mapping(uint256 => address) storage set = _reservations[
            _roundKey(Requests.slotId(requestId, slotIndex), subject.round)
        ];
        uint256 count;
        uint256 max = _maxReservations;
        while (count < max && set[count] != address(0)) ++count;
        hosts = new address[](count);
        for (uint256 i = 0; i < count; ++i) hosts[i] = set[i];
    }

    /// @dev The key of a slot's reservation round; also the source of its window.
    function _roundKey(SlotId id, uint32 round) internal pure returns (bytes32) {
        return keccak256(abi.encode(id, round));
    }

    /// @dev Whether `host` holds a reservation in round `key`.
    function _isReserved(bytes32 key, address host) internal view returns (bool) {
        mapping(uint256 => address) storage set = _reservations[key];
        uint256 max = _maxReservations;
        for (uint256 i = 0; i < max; ++i) {
            address holder = set[i];
            if (holder == host) return true;
            if (holder == address(0)) return false;
        }
        return false;
    }

    /// @dev The window rule (see the contract notes): when `host` may reserve in round `key`.
    function _eligibleAt(bytes32 key, address host, uint256 openedAt, uint256 expiry) internal view returns (uint256) {
        uint256 doublings = _windowDoublings;
        uint256 distance = uint160(host) ^ uint160(uint256(key));
        uint256 bits = distance == 0 ? 0 : Math.log2(distance) + 1;
        uint256 base = ADDRESS_BITS - doublings;
        if (bits <= base) return openedAt;
        uint256 expansion = (expiry * _windowExpansionPercentage) / 100;
        return openedAt + Math.ceilDiv((bits - base) * expansion, doublings);
    }
}
