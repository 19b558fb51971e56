// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {IGroth16Verifier, Groth16Proof} from "../verifier/IGroth16Verifier.sol";
import {FieldEncoding} from "./FieldEncoding.sol";
import {Period, Periods} from "./Periods.sol";
import {SlotRecord} from "./Records.sol";
import {SlotId} from "./Requests.sol";

/// @title Proofs
/// @notice When a slot owes a storage proof, what it must prove, and the record of proofs received and
/// missed.
/// @dev Challenges come from recent block hashes through a pointer (Codex design
/// "storage-proof-timing"): for slot s in period p at block n,
///   pointer   = (n % 256 + (p * downtimeProduct) % 256 + uint(s) % 256) % 256
///   challenge = keccak256(blockhash(n - 1 - pointer)).
/// While n advances, n - 1 - pointer stays on the same block until the pointer wraps from 255 to 0,
/// when it jumps 256 blocks ahead: each slot and period sees a fresh block hash every 256 blocks.
/// A proof is required in p when p is after the fill period, the pointer is at least `downtime` and
/// challenge % (proofProbability * (256 - downtime) / 256) == 0 (every period when that is 0). During
/// downtime the challenge already holds and `willProofBeRequired` says whether it will ask a proof.
abstract contract Proofs is Periods {
    IGroth16Verifier internal immutable _verifier;

    /// @notice Deployed at block 256 or earlier: the pointer could reach before block 0.
    error Proofs_InsufficientBlockHeight();
    /// @notice The verifier address holds no code.
    error Proofs_InvalidVerifier();
    /// @notice The verifier rejected the proof for the slot's public inputs.
    error Proofs_InvalidProof();
    /// @notice The slot already has a proof for the current period.
    error Proofs_ProofAlreadySubmitted();
    /// @notice The period to mark has not ended yet.
    error Proofs_PeriodNotEnded();
    /// @notice The timeout after the period to mark has passed.
    error Proofs_ValidationTimedOut();
    /// @notice A proof was submitted for the period to mark.
    error Proofs_ProofNotMissing();
    /// @notice No proof was required in the period to mark.
    error Proofs_ProofNotRequired();
    /// @notice The period was already marked missing.
    error Proofs_ProofAlreadyMarkedMissing();

    /// @notice The host of `id` proved storage for the current period.
    event ProofSubmitted(SlotId indexed id);

    /// @param verifier the Groth16 verifier of the storage-proof circuit
    constructor(IGroth16Verifier verifier) {
        if (block.number <= BLOCK_HASH_WINDOW) revert Proofs_InsufficientBlockHeight();
        if (address(verifier).code.length == 0) revert Proofs_InvalidVerifier();
        _verifier = verifier;
    }

    /// @notice What proofs need to know about a slot.
    /// @return filled whether the slot is Filled (its request is New or Started, not ended)
    /// @return filledAt when its current host filled it
    /// @return probability the request's proofProbability
    function _proofSubject(
        SlotId id
    ) internal view virtual returns (bool filled, uint256 filledAt, uint256 probability);

    /// @notice The pointer of slot `id` for the current period and block (see the contract notes).
    /// @param id the slot
    /// @return pointer a number in [0, 256): how many blocks before the previous one the hash is read
    function getPointer(SlotId id) external view returns (uint8 pointer) {
        return _pointer(id, _currentPeriod());
    }

    /// @notice The challenge a proof for slot `id` submitted in this block must answer.
    /// @param id the slot
    /// @return challenge 32 bytes; its bytes 0..30 little-endian are the proof's entropy input
    function getChallenge(SlotId id) external view returns (bytes32 challenge) {
        return _challenge(_pointer(id, _currentPeriod()));
    }

    /// @notice Whether slot `id` owes a proof for the current period, judged at this block.
    /// @param id the slot
    /// @return required false for slots that are not Filled and in the period the slot was filled
    function isProofRequired(SlotId id) external view returns (bool required) {
        (bool hit, uint8 pointer) = _requirement(id, _currentPeriod());
        return hit && pointer >= _downtime;
    }

    /// @notice Whether slot `id` is in downtime now and will owe a proof for the current period once
    /// the downtime ends; a host should prove now, against the current challenge.
    /// @param id the slot
    /// @return willBeRequired true only during downtime
    function willProofBeRequired(SlotId id) external view returns (bool willBeRequired) {
        (bool hit, uint8 pointer) = _requirement(id, _currentPeriod());
        return hit && pointer < _downtime;
    }

    /// @notice The divisor the challenge of slot `id` is tested against: proofProbability scaled by
    /// (256 - downtime) / 256, so that with downtime a proof is still due about once every
    /// proofProbability periods. 0 means every period.
    /// @param id the slot
    /// @return probability zero for slots without a known request
    function slotProbability(SlotId id) external view returns (uint256 probability) {
        (, , uint256 proofProbability) = _proofSubject(id);
        return _scaledProbability(proofProbability);
    }

    function _pointer(SlotId id, Period period) internal view returns (uint8) {
        uint256 blockOffset = block.number % 256;
        uint256 periodOffset = (uint256(Period.unwrap(period)) * _downtimeProduct) % 256;
        uint256 slotOffset = uint256(SlotId.unwrap(id)) % 256;
        return uint8((blockOffset + periodOffset + slotOffset) % 256);
    }

    function _challenge(uint8 pointer) internal view returns (bytes32) {
        return keccak256(abi.encode(blockhash(block.number - 1 - pointer)));
    }

    function _scaledProbability(uint256 proofProbability) private view returns (uint256) {
        return (proofProbability * (BLOCK_HASH_WINDOW - _downtime)) / BLOCK_HASH_WINDOW;
    }

    /// @dev Whether the challenge of `id` for `period`, read at this block, asks a proof (`hit`),
    /// ignoring downtime, and the pointer it was read through.
    function _requirement(SlotId id, Period period) internal view returns (bool hit, uint8 pointer) {
        (bool filled, uint256 filledAt, uint256 probability) = _proofSubject(id);
        if (!filled || Period.unwrap(period) <= Period.unwrap(_periodOf(filledAt))) return (false, 0);
        pointer = _pointer(id, period);
        uint256 scaled = _scaledProbability(probability);
        hit = scaled == 0 || uint256(_challenge(pointer)) % scaled == 0;
    }

    /// @dev Checks `proof` against the slot's public inputs, which the marketplace computes itself:
    /// entropy from the current challenge, the dataset root, and the slot index.
    function _verifyProof(Groth16Proof calldata proof, SlotId id, bytes32 merkleRoot, uint256 slotIndex) internal view {
        uint256[3] memory publicInputs = [
            FieldEncoding.challengeToEntropy(_challenge(_pointer(id, _currentPeriod()))),
            FieldEncoding.merkleRootToField(merkleRoot),
            slotIndex
        ];
        if (!_verifier.verify(proof, publicInputs)) revert Proofs_InvalidProof();
    }

    /// @dev Notes a proof for the current period; at most one per period.
    function _recordProof(SlotRecord storage slot) internal {
        uint40 period = uint40(Period.unwrap(_currentPeriod()));
        uint40 last = slot.lastProofPeriod;
        if (last == period) revert Proofs_ProofAlreadySubmitted();
        slot.previousPeriodProven = last + 1 == period;
        slot.lastProofPeriod = period;
    }

    /// @dev Starts the proof record of a newly filled slot: the fill proof counts for this period.
    function _startProofs(SlotRecord storage slot) internal {
        slot.lastProofPeriod = uint40(Period.unwrap(_currentPeriod()));
        slot.previousPeriodProven = false;
        slot.missedProofs = 0;
    }

    /// @dev Whether a proof was recorded for `period`. Exact for the current and the previous period,
    /// the only ones that can be asked about while a proof can still be marked missing.
    function _proven(SlotRecord storage slot, Period period) internal view returns (bool) {
        uint256 last = slot.lastProofPeriod;
        uint256 asked = Period.unwrap(period);
        return last == asked || (last == asked + 1 && slot.previousPeriodProven);
    }

    /// @dev Reverts unless a proof for `period` can be marked missing now; see the errors.
    function _checkMissing(SlotRecord storage slot, SlotId id, Period period) internal view {
        uint256 end = _periodEnd(period);
        if (block.timestamp < end) revert Proofs_PeriodNotEnded();
        if (block.timestamp >= end + _timeout) revert Proofs_ValidationTimedOut();
        if (_proven(slot, period)) revert Proofs_ProofNotMissing();
        (bool hit, uint8 pointer) = _requirement(id, period);
        if (!hit || pointer < _downtime) revert Proofs_ProofNotRequired();
        if (slot.lastMissedPeriod >= Period.unwrap(period)) revert Proofs_ProofAlreadyMarkedMissing();
    }

    /// @dev Records that the proof for `period` was missed; returns the host's missed proofs so far.
    function _recordMissing(SlotRecord storage slot, Period period) internal returns (uint256 missed) {
        missed = slot.missedProofs + 1;
        slot.missedProofs = uint8(missed);
        slot.lastMissedPeriod = uint40(Period.unwrap(period));
    }
}
