// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IGroth16Verifier, Groth16Proof} from "../verifier/IGroth16Verifier.sol";
import {AccountLists} from "./AccountLists.sol";
import {Configuration, MarketplaceConfig} from "./Configuration.sol";
import {FieldEncoding} from "./FieldEncoding.sol";
import {Payouts} from "./Payouts.sol";
import {Period} from "./Periods.sol";
import {Proofs} from "./Proofs.sol";
import {RequestRecord, SlotRecord} from "./Records.sol";
import {Ask, Content, Request, RequestId, RequestState, Requests, SlotId, SlotState} from "./Requests.sol";
import {SlotReservations} from "./SlotReservations.sol";
import {Vault} from "./Vault.sol";

/// @title Marketplace
/// @notice The storage marketplace: clients pay for a dataset to be stored in slots for a duration,
/// hosts reserve and fill slots with collateral and prove storage every period a proof is asked,
/// anyone marks missing proofs for a share of the slash, hosts that miss too many are removed and
/// their slots repaired by others. Everyone collects their own money once the request ends.
/// @dev Composition: Configuration (validated settings), Periods and Proofs (challenges and the proof
/// record), SlotReservations (who may fill), Vault (token movements and validator rewards), Payouts
/// (the money rules). This contract holds the request and slot records and their state machine.
/// Functions that move tokens are nonReentrant and follow checks-effects-interactions.
contract Marketplace is SlotReservations, Proofs, Vault {
    using AccountLists for bytes32[];

    /// @notice A slot together with its request, as returned by getActiveSlot.
    struct ActiveSlot {
        Request request;
        uint64 slotIndex;
    }

    mapping(RequestId => RequestRecord) private _requests;
    mapping(SlotId => SlotRecord) private _slots;
    mapping(address client => bytes32[] requestIds) private _requestsOf;
    mapping(address host => bytes32[] slotIds) private _slotsOf;

    /// @notice request.client is not the caller.
    error Marketplace_InvalidClientAddress();
    /// @notice A request with this id exists already.
    error Marketplace_RequestAlreadyExists();
    /// @notice ask.slots is zero.
    error Marketplace_InsufficientSlots();
    /// @notice ask.slots does not fit 32 bits.
    error Marketplace_TooManySlots();
    /// @notice ask.maxSlotLoss exceeds ask.slots.
    error Marketplace_InvalidMaxSlotLoss();
    /// @notice ask.duration exceeds the configured requestDurationLimit.
    error Marketplace_DurationExceedsLimit();
    /// @notice expiry is zero or exceeds ask.duration.
    error Marketplace_InvalidExpiry();
    /// @notice ask.proofProbability is zero.
    error Marketplace_InsufficientProofProbability();
    /// @notice ask.proofProbability does not fit 32 bits.
    error Marketplace_ProofProbabilityTooLarge();
    /// @notice ask.pricePerBytePerSecond is zero.
    error Marketplace_InsufficientReward();
    /// @notice ask.collateralPerByte is zero.
    error Marketplace_InsufficientCollateral();
    /// @notice ask.slotSize is zero.
    error Marketplace_InsufficientSlotSize();
    /// @notice content.cid is empty.
    error Marketplace_InvalidCid();
    /// @notice content.merkleRoot, read little-endian, is not below the field modulus: no proof
    /// could ever be checked against it.
    error Marketplace_InvalidMerkleRoot();
    /// @notice The price or collateral does not fit 128 bits (see Requests.amounts).
    error Marketplace_AmountTooLarge();
    /// @notice No request has this id.
    error Marketplace_UnknownRequest();
    /// @notice The slot index is not below the request's number of slots.
    error Marketplace_InvalidSlot();
    /// @notice The slot is not Free or Repair, or its request no longer takes hosts.
    error Marketplace_SlotNotFree();
    /// @notice The caller holds no reservation on the slot's current round.
    error Marketplace_ReservationRequired();
    /// @notice Only the slot's host may submit its proofs.
    error Marketplace_ProofNotSubmittedByHost();
    /// @notice The slot is not Filled, so it neither takes nor owes proofs.
    error Marketplace_SlotNotAcceptingProofs();
    /// @notice The caller is not the slot's host.
    error Marketplace_InvalidSlotHost();
    /// @notice The slot's host was paid already.
    error Marketplace_AlreadyPaid();
    /// @notice The request has not ended (it is New or Started).
    error Marketplace_InvalidState();
    /// @notice The client withdrew this request's funds already.
    error Marketplace_AlreadyWithdrawn();
    /// @notice The slot was never filled.
    error Marketplace_SlotIsFree();

    /// @notice A client requested storage and paid for it.
    /// @param expiry the timestamp by which every slot must be filled
    event StorageRequested(RequestId indexed requestId, Ask ask, uint256 expiry);
    /// @notice The last slot of a New request was filled: the request started.
    event RequestFulfilled(RequestId indexed requestId);
    /// @notice The request expired before it started; emitted by the first settlement that sees it.
    event RequestCancelled(RequestId indexed requestId);
    /// @notice The request lost more than maxSlotLoss slots while started.
    event RequestFailed(RequestId indexed requestId);
    /// @notice A host filled the slot.
    event SlotFilled(RequestId indexed requestId, uint64 slotIndex);
    /// @notice The slot's host was removed or left; the slot is in Repair.
    event SlotFreed(RequestId indexed requestId, uint64 slotIndex);
    /// @notice `validator` marked the slot's proof for `period` missing and the host was slashed.
    event ProofMarkedMissing(SlotId indexed slotId, Period period, address indexed validator);
    /// @notice The host of an ended slot collected `amount` (payment and remaining collateral).
    event SlotPaid(SlotId indexed slotId, address indexed host, uint256 amount);
    /// @notice The client of an ended request collected `amount`.
    event FundsWithdrawn(RequestId indexed requestId, address indexed client, uint256 amount);

    /// @param config the configuration; rejected with a Configuration_ error when invalid
    /// @param token_ the ERC-20 the marketplace is paid in
    /// @param verifier the storage-proof verifier
    constructor(
        MarketplaceConfig memory config,
        IERC20 token_,
        IGroth16Verifier verifier
    ) Configuration(config) Proofs(verifier) Vault(token_) {}

    // ---------------------------------------------------------------------------------------------
    // Requests

    /// @notice Requests storage as described by `request` and takes its full price,
    /// slots * duration * pricePerBytePerSecond * slotSize, from the caller (approve it first).
    /// @dev Reverts with a Marketplace_ error naming the first rule `request` breaks: the caller
    /// must be request.client; slots in [1, 2**32); maxSlotLoss <= slots; duration within the
    /// limit; expiry in (0, duration]; proofProbability in [1, 2**32); non-zero price, collateral,
    /// slot size and cid; a merkle root below the field modulus; amounts within 128 bits; a new id.
    /// @param request the request; its id is keccak256(abi.encode(request))
    function requestStorage(Request calldata request) external nonReentrant {
        Ask calldata ask = request.ask;
        if (request.client != msg.sender) revert Marketplace_InvalidClientAddress();
        if (ask.slots == 0) revert Marketplace_InsufficientSlots();
        if (ask.slots > type(uint32).max) revert Marketplace_TooManySlots();
        if (ask.maxSlotLoss > ask.slots) revert Marketplace_InvalidMaxSlotLoss();
        if (ask.duration > _requestDurationLimit) revert Marketplace_DurationExceedsLimit();
        if (request.expiry == 0 || request.expiry > ask.duration) revert Marketplace_InvalidExpiry();
        if (ask.proofProbability == 0) revert Marketplace_InsufficientProofProbability();
        if (ask.proofProbability > type(uint32).max) revert Marketplace_ProofProbabilityTooLarge();
        if (ask.pricePerBytePerSecond == 0) revert Marketplace_InsufficientReward();
        if (ask.collateralPerByte == 0) revert Marketplace_InsufficientCollateral();
        if (ask.slotSize == 0) revert Marketplace_InsufficientSlotSize();
        if (request.content.cid.length == 0) revert Marketplace_InvalidCid();
        if (FieldEncoding.merkleRootToField(request.content.merkleRoot) >= FieldEncoding.FIELD_MODULUS) {
            revert Marketplace_InvalidMerkleRoot();
        }
        Requests.Amounts memory amounts = Requests.amounts(ask);
        if (!amounts.fits) revert Marketplace_AmountTooLarge();
        RequestId requestId = Requests.id(request);
        RequestRecord storage record = _requests[requestId];
        if (record.client != address(0)) revert Marketplace_RequestAlreadyExists();

        uint40 createdAt = uint40(block.timestamp);
        uint40 expiresAt = createdAt + uint40(request.expiry);
        record.client = msg.sender;
        record.proofProbability = uint32(ask.proofProbability);
        record.slots = uint32(ask.slots);
        record.maxSlotLoss = uint32(ask.maxSlotLoss);
        record.createdAt = createdAt;
        record.expiresAt = expiresAt;
        record.endsAt = createdAt + uint40(ask.duration);
        record.clientListPosition = _requestsOf[msg.sender].add(RequestId.unwrap(requestId));
        record.pricePerSlotPerSecond = uint128(amounts.pricePerSlotPerSecond);
        record.collateralPerSlot = uint128(amounts.collateralPerSlot);
        record.clientFunds = uint128(amounts.maxPrice);
        record.escrow = uint128(amounts.maxPrice);
        record.merkleRoot = request.content.merkleRoot;
        record.nonce = request.nonce;
        record.slotSize = ask.slotSize;
        record.cid = request.content.cid;

        emit StorageRequested(requestId, ask, expiresAt);
        _pull(amounts.maxPrice);
    }

    /// @notice The client of an ended request (Finished, Cancelled or Failed) collects, once, what
    /// nobody else is owed: the payment for time no host held a slot, what removed hosts forfeited
    /// and the non-validator share of slashes.
    /// @dev Reverts with Marketplace_UnknownRequest, Marketplace_InvalidClientAddress (caller is not
    /// the client), Marketplace_InvalidState (not ended) or Marketplace_AlreadyWithdrawn.
    /// @param requestId the request
    function withdrawFunds(RequestId requestId) external nonReentrant {
        RequestRecord storage request = _knownRequest(requestId);
        if (request.client != msg.sender) revert Marketplace_InvalidClientAddress();
        RequestState state = _requestState(request);
        if (_takesHosts(state)) revert Marketplace_InvalidState();
        if (request.clientWithdrawn) revert Marketplace_AlreadyWithdrawn();

        uint256 amount = Payouts.clientRefund(
            request.clientFunds,
            request.slotsFilled,
            request.pricePerSlotPerSecond,
            _settledAt(request, state),
            request.endsAt
        );
        request.clientWithdrawn = true;
        request.clientFunds = 0;
        request.escrow -= uint128(amount);
        _unlistRequest(msg.sender, request);
        _noteCancellation(requestId, request, state);

        emit FundsWithdrawn(requestId, msg.sender, amount);
        _push(amount);
    }

    // ---------------------------------------------------------------------------------------------
    // Slots

    /// @notice Fills a slot the caller has reserved: checks `proof` against the slot's current
    /// challenge, takes collateralPerSlot from the caller (less the repair reward for a Repair slot;
    /// approve it first) and starts the request when this was its last free slot.
    /// @dev Reverts with Marketplace_UnknownRequest, Marketplace_InvalidSlot, Marketplace_SlotNotFree,
    /// Marketplace_ReservationRequired or Proofs_InvalidProof.
    /// @param requestId the request
    /// @param slotIndex the slot's index in the request
    /// @param proof a storage proof of the slot's data for the current challenge
    function fillSlot(RequestId requestId, uint64 slotIndex, Groth16Proof calldata proof) external nonReentrant {
        RequestRecord storage request = _knownRequest(requestId);
        if (slotIndex >= request.slots) revert Marketplace_InvalidSlot();
        SlotId slotId = Requests.slotId(requestId, slotIndex);
        SlotRecord storage slot = _slots[slotId];
        RequestState state = _requestState(request);
        bool repair = slot.state == SlotState.Repair;
        if ((slot.state != SlotState.Free && !repair) || !_takesHosts(state)) revert Marketplace_SlotNotFree();
        if (!_isReserved(_roundKey(slotId, slot.round), msg.sender)) revert Marketplace_ReservationRequired();
        _verifyProof(proof, slotId, request.merkleRoot, slotIndex);

        uint256 collateral = request.collateralPerSlot;
        uint256 discount = repair ? Payouts.repairReward(collateral, _repairRewardPercentage) : 0;
        uint256 deposit = collateral - discount;
        // The slot now holds its payment until the end and, for a repair, the reward its host will
        // collect with its collateral; both come out of the client's share.
        uint256 committed = Payouts.payment(request.pricePerSlotPerSecond, block.timestamp, request.endsAt);
        request.clientFunds -= uint128(committed + discount);
        request.escrow += uint128(deposit);
        uint32 filled = request.slotsFilled + 1;
        request.slotsFilled = filled;

        slot.requestId = requestId;
        slot.host = msg.sender;
        slot.slotIndex = uint32(slotIndex);
        slot.state = SlotState.Filled;
        slot.filledAt = uint40(block.timestamp);
        _startProofs(slot);
        slot.hostListPosition = _slotsOf[msg.sender].add(SlotId.unwrap(slotId));

        emit SlotFilled(requestId, slotIndex);
        if (filled == request.slots && state == RequestState.New) {
            request.state = RequestState.Started;
            emit RequestFulfilled(requestId);
        }
        _pull(deposit);
    }

    /// @notice Frees the caller's slot. While the request runs this abandons it: the host forfeits
    /// its collateral and its payment and the slot goes to Repair. Once the request has ended the
    /// host collects its payment until the end (the expiry when Cancelled, the failure when Failed)
    /// and its remaining collateral, once.
    /// @dev Reverts with Marketplace_InvalidSlotHost (caller is not the host) or Marketplace_AlreadyPaid.
    /// @param slotId the slot
    function freeSlot(SlotId slotId) external nonReentrant {
        SlotRecord storage slot = _slots[slotId];
        if (slot.host != msg.sender) revert Marketplace_InvalidSlotHost();
        if (slot.state == SlotState.Paid) revert Marketplace_AlreadyPaid();
        RequestId requestId = slot.requestId;
        RequestRecord storage request = _requests[requestId];
        RequestState state = _requestState(request);
        if (_takesHosts(state)) {
            _removeHost(slot, request);
            return;
        }

        uint256 collateralLeft = Payouts.remainingCollateral(
            request.collateralPerSlot,
            _slashPercentage,
            slot.missedProofs
        );
        uint256 amount = Payouts.hostPayout(
            request.pricePerSlotPerSecond,
            slot.filledAt,
            _settledAt(request, state),
            collateralLeft
        );
        slot.state = SlotState.Paid;
        _unlistSlot(msg.sender, slot);
        request.escrow -= uint128(amount);
        _noteCancellation(requestId, request, state);

        emit SlotPaid(slotId, msg.sender, amount);
        _push(amount);
    }

    // ---------------------------------------------------------------------------------------------
    // Proofs

    /// @notice The slot's host proves storage for the current period. The marketplace computes the
    /// public inputs itself: entropy from getChallenge(slotId), the request's merkle root and the
    /// slot index (see FieldEncoding). At most one proof per slot per period.
    /// @dev Reverts with Marketplace_ProofNotSubmittedByHost, Marketplace_SlotNotAcceptingProofs,
    /// Proofs_ProofAlreadySubmitted or Proofs_InvalidProof.
    /// @param slotId the slot
    /// @param proof the storage proof
    function submitProof(SlotId slotId, Groth16Proof calldata proof) external {
        SlotRecord storage slot = _slots[slotId];
        if (slot.host != msg.sender) revert Marketplace_ProofNotSubmittedByHost();
        RequestRecord storage request = _requests[slot.requestId];
        if (slot.state != SlotState.Filled || !_takesHosts(_requestState(request))) {
            revert Marketplace_SlotNotAcceptingProofs();
        }
        _recordProof(slot);
        _verifyProof(proof, slotId, request.merkleRoot, slot.slotIndex);
        emit ProofSubmitted(slotId);
    }

    /// @notice Marks the proof of a Filled slot for `period` missing. Allowed from the end of the
    /// period until `timeout` seconds later, when a proof was required, none arrived and the period
    /// was not marked yet. The host loses slashPercentage of collateralPerSlot; the caller is
    /// credited validatorRewardPercentage of that (collect it with withdrawValidatorReward) and the
    /// rest goes to the client. At maxNumberOfSlashes missed proofs the host is removed.
    /// @dev Reverts with Marketplace_SlotNotAcceptingProofs or a Proofs_ error naming the broken rule.
    /// @param slotId the slot
    /// @param period the period whose proof is missing
    function markProofAsMissing(SlotId slotId, Period period) external {
        SlotRecord storage slot = _slots[slotId];
        RequestRecord storage request = _requests[slot.requestId];
        if (_slotState(slot, request) != SlotState.Filled) revert Marketplace_SlotNotAcceptingProofs();
        _checkMissing(slot, slotId, period);

        uint256 missed = _recordMissing(slot, period);
        uint256 slashed = Payouts.slashAmount(request.collateralPerSlot, _slashPercentage);
        uint256 reward = Payouts.validatorReward(slashed, _validatorRewardPercentage);
        request.clientFunds += uint128(slashed - reward);
        if (reward != 0) {
            request.escrow -= uint128(reward);
            _creditValidator(msg.sender, reward);
        }
        emit ProofMarkedMissing(slotId, period, msg.sender);
        if (missed >= _maxNumberOfSlashes) _removeHost(slot, request);
    }

    // ---------------------------------------------------------------------------------------------
    // Views

    /// @notice The request with id `requestId`, as it was submitted.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @return request the request
    function getRequest(RequestId requestId) external view returns (Request memory request) {
        return _toRequest(_knownRequest(requestId));
    }

    /// @notice A slot that was filled at least once, with its request.
    /// @param slotId the slot; reverts with Marketplace_SlotIsFree when it was never filled
    /// @return slot the request and the slot's index
    function getActiveSlot(SlotId slotId) external view returns (ActiveSlot memory slot) {
        SlotRecord storage record = _slots[slotId];
        if (RequestId.unwrap(record.requestId) == 0) revert Marketplace_SlotIsFree();
        slot.request = _toRequest(_requests[record.requestId]);
        slot.slotIndex = record.slotIndex;
    }

    /// @notice The slot's current host (or its last, once Paid); zero when Free or Repair.
    /// @param slotId the slot
    /// @return host the host
    function getHost(SlotId slotId) external view returns (address host) {
        return _slots[slotId].host;
    }

    /// @notice The request's state now, Cancelled and Finished derived from the time.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @return state the state
    function requestState(RequestId requestId) external view returns (RequestState state) {
        return _requestState(_knownRequest(requestId));
    }

    /// @notice The slot's state now; Free for slots never filled (and unknown ids).
    /// @param slotId the slot
    /// @return state the state
    function slotState(SlotId slotId) external view returns (SlotState state) {
        SlotRecord storage slot = _slots[slotId];
        return _slotState(slot, _requests[slot.requestId]);
    }

    /// @notice When the request ends or ended: its expiry when Cancelled, the moment it failed when
    /// Failed, otherwise the end of its duration.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @return end a timestamp
    function requestEnd(RequestId requestId) external view returns (uint256 end) {
        RequestRecord storage request = _knownRequest(requestId);
        RequestState state = _requestState(request);
        return _takesHosts(state) ? request.endsAt : _settledAt(request, state);
    }

    /// @notice The timestamp by which every slot of the request must be filled.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @return expiry a timestamp
    function requestExpiry(RequestId requestId) external view returns (uint256 expiry) {
        return _knownRequest(requestId).expiresAt;
    }

    /// @notice Tokens the marketplace holds for the request: the client's payment and the hosts'
    /// collateral, less validator rewards and what was collected already.
    /// @param requestId the request; reverts with Marketplace_UnknownRequest when unknown
    /// @return escrow in the token's smallest unit
    function requestEscrow(RequestId requestId) external view returns (uint256 escrow) {
        return _knownRequest(requestId).escrow;
    }

    /// @notice The collateral the slot's host would get back: collateralPerSlot less its slashes
    /// (a repairing host counts from the full amount; the difference is its repair reward).
    /// @param slotId the slot
    /// @return collateral zero unless the slot holds a host that was not paid yet
    function currentCollateral(SlotId slotId) external view returns (uint256 collateral) {
        SlotRecord storage slot = _slots[slotId];
        if (slot.state != SlotState.Filled) return 0;
        return
            Payouts.remainingCollateral(
                _requests[slot.requestId].collateralPerSlot,
                _slashPercentage,
                slot.missedProofs
            );
    }

    /// @notice Proofs the slot's current host missed (reset when a host is removed).
    /// @param slotId the slot
    /// @return missed a count below maxNumberOfSlashes
    function missingProofs(SlotId slotId) external view returns (uint256 missed) {
        return _slots[slotId].missedProofs;
    }

    /// @notice The caller's requests whose funds it has not withdrawn yet, in no particular order.
    /// @return ids request ids
    function myRequests() external view returns (RequestId[] memory ids) {
        bytes32[] memory list = _requestsOf[msg.sender];
        // Same memory layout: reinterpret the bytes32[] as RequestId[] instead of copying it.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            ids := list
        }
    }

    /// @notice The slots the caller holds and has not been paid for yet, in no particular order.
    /// @return ids slot ids
    function mySlots() external view returns (SlotId[] memory ids) {
        bytes32[] memory list = _slotsOf[msg.sender];
        // Same memory layout: reinterpret the bytes32[] as SlotId[] instead of copying it.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            ids := list
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Hooks for Proofs and SlotReservations

    function _proofSubject(
        SlotId id
    ) internal view override returns (bool filled, uint256 filledAt, uint256 probability) {
        SlotRecord storage slot = _slots[id];
        RequestRecord storage request = _requests[slot.requestId];
        return (_slotState(slot, request) == SlotState.Filled, slot.filledAt, request.proofProbability);
    }

    function _reservationSubject(
        RequestId requestId,
        uint64 slotIndex
    ) internal view override returns (ReservationSubject memory subject) {
        RequestRecord storage request = _knownRequest(requestId);
        if (slotIndex >= request.slots) revert Marketplace_InvalidSlot();
        SlotRecord storage slot = _slots[Requests.slotId(requestId, slotIndex)];
        SlotState stored = slot.state;
        subject.open = (stored == SlotState.Free || stored == SlotState.Repair) && _takesHosts(_requestState(request));
        subject.round = slot.round;
        subject.openedAt = subject.round == 0 ? request.createdAt : slot.reopenedAt;
        subject.expiry = request.expiresAt - request.createdAt;
    }

    // ---------------------------------------------------------------------------------------------
    // Internals

    function _knownRequest(RequestId requestId) private view returns (RequestRecord storage request) {
        request = _requests[requestId];
        if (request.client == address(0)) revert Marketplace_UnknownRequest();
    }

    /// @dev The state machine's lazy part: New turns Cancelled after the expiry, Started turns
    /// Finished after the end.
    function _requestState(RequestRecord storage request) private view returns (RequestState) {
        RequestState stored = request.state;
        if (stored == RequestState.New && block.timestamp > request.expiresAt) return RequestState.Cancelled;
        if (stored == RequestState.Started && block.timestamp > request.endsAt) return RequestState.Finished;
        return stored;
    }

    function _slotState(SlotRecord storage slot, RequestRecord storage request) private view returns (SlotState) {
        if (RequestId.unwrap(slot.requestId) == 0) return SlotState.Free;
        SlotState stored = slot.state;
        if (stored == SlotState.Paid) return SlotState.Paid;
        RequestState state = _requestState(request);
        if (state == RequestState.Cancelled) return SlotState.Cancelled;
        if (state == RequestState.Finished) return SlotState.Finished;
        if (state == RequestState.Failed) return SlotState.Failed;
        return stored;
    }

    /// @dev New and Started requests take hosts, proofs and slashes; the others have ended.
    function _takesHosts(RequestState state) private pure returns (bool) {
        return state == RequestState.New || state == RequestState.Started;
    }

    /// @dev When an ended request stopped paying hosts.
    function _settledAt(RequestRecord storage request, RequestState state) private view returns (uint256) {
        if (state == RequestState.Cancelled) return request.expiresAt;
        if (state == RequestState.Failed) return request.failedAt;
        return request.endsAt;
    }

    /// @dev Stores and announces a cancellation the first time a settlement sees it.
    function _noteCancellation(RequestId requestId, RequestRecord storage request, RequestState state) private {
        if (state == RequestState.Cancelled && request.state == RequestState.New) {
            request.state = RequestState.Cancelled;
            emit RequestCancelled(requestId);
        }
    }

    /// @dev Removes the slot's host, who forfeits its payment and remaining collateral to the
    /// client; the slot opens a new reservation round in Repair. Fails a started request that has
    /// now lost more than maxSlotLoss slots.
    function _removeHost(SlotRecord storage slot, RequestRecord storage request) private {
        RequestId requestId = slot.requestId;
        uint256 forfeited =
            Payouts.payment(request.pricePerSlotPerSecond, slot.filledAt, request.endsAt) +
                Payouts.remainingCollateral(request.collateralPerSlot, _slashPercentage, slot.missedProofs);
        request.clientFunds += uint128(forfeited);
        uint32 filled = request.slotsFilled - 1;
        request.slotsFilled = filled;

        _unlistSlot(slot.host, slot);
        slot.host = address(0);
        slot.state = SlotState.Repair;
        slot.missedProofs = 0;
        ++slot.round;
        slot.reopenedAt = uint40(block.timestamp);

        emit SlotFreed(requestId, slot.slotIndex);
        if (request.state == RequestState.Started && request.slots - filled > request.maxSlotLoss) {
            request.state = RequestState.Failed;
            request.failedAt = uint40(block.timestamp);
            emit RequestFailed(requestId);
        }
    }

    function _unlistSlot(address host, SlotRecord storage slot) private {
        uint32 position = slot.hostListPosition;
        bytes32 moved = _slotsOf[host].remove(position);
        if (moved != 0) _slots[SlotId.wrap(moved)].hostListPosition = position;
        slot.hostListPosition = 0;
    }

    function _unlistRequest(address client, RequestRecord storage request) private {
        uint32 position = request.clientListPosition;
        bytes32 moved = _requestsOf[client].remove(position);
        if (moved != 0) _requests[RequestId.wrap(moved)].clientListPosition = position;
        request.clientListPosition = 0;
    }

    function _toRequest(RequestRecord storage record) private view returns (Request memory request) {
        uint256 slotSize = record.slotSize;
        request.client = record.client;
        request.ask = Ask({
            proofProbability: record.proofProbability,
            pricePerBytePerSecond: record.pricePerSlotPerSecond / slotSize,
            collateralPerByte: record.collateralPerSlot / slotSize,
            slots: record.slots,
            slotSize: uint64(slotSize),
            duration: record.endsAt - record.createdAt,
            maxSlotLoss: record.maxSlotLoss
        });
        request.content = Content({cid: record.cid, merkleRoot: record.merkleRoot});
        request.expiry = record.expiresAt - record.createdAt;
        request.nonce = record.nonce;
    }
}
