// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./helpers/Test.sol";
import {TestToken} from "../../contracts/TestToken.sol";
import {TestGroth16Verifier} from "../../contracts/testing/TestGroth16Verifier.sol";
import {Groth16Proof} from "../../contracts/verifier/IGroth16Verifier.sol";
import {Marketplace} from "../../contracts/marketplace/Marketplace.sol";
import {FieldEncoding} from "../../contracts/marketplace/FieldEncoding.sol";
import {Period} from "../../contracts/marketplace/Periods.sol";
import {
    MarketplaceConfig,
    CollateralConfig,
    ProofConfig,
    SlotReservationsConfig
} from "../../contracts/marketplace/Configuration.sol";
import {
    Ask,
    Content,
    Request,
    RequestId,
    RequestState,
    SlotId,
    SlotState
} from "../../contracts/marketplace/Requests.sol";

/// @notice Drives random sequences of marketplace calls by several clients, hosts and validators, and
/// keeps its own model of what the specification says each call should do and what everyone is
/// owed. Every outcome that differs from the model, every payout that differs from the model's
/// amount and every state change the specification does not allow counts as a violation, which
/// the invariants read.
contract MarketplaceHandler is Test {
    // Codex's defaults; the reservation window is off so that hosts are picked by the fuzzer alone.
    uint256 internal constant PERIOD = 120;
    uint256 internal constant TIMEOUT = 30;
    uint256 internal constant DOWNTIME = 64;
    uint256 internal constant DOWNTIME_PRODUCT = 67;
    uint256 internal constant MAX_SLASHES = 2;
    uint256 internal constant SLASH_PERCENTAGE = 20;
    uint256 internal constant VALIDATOR_PERCENTAGE = 20;
    uint256 internal constant REPAIR_PERCENTAGE = 10;
    uint256 internal constant MAX_RESERVATIONS = 3;
    uint256 internal constant MAX_REQUESTS = 20;

    struct RequestModel {
        RequestId id;
        address client;
        bytes32 root;
        uint256 slots;
        uint256 maxSlotLoss;
        uint256 rate;
        uint256 collateral;
        uint256 expiresAt;
        uint256 endsAt;
        uint256 filled;
        bool started;
        bool failed;
        uint256 failedAt;
        uint256 deposits; // price plus every collateral deposit
        uint256 validatorRewards;
        uint256 paidOut; // to hosts and the client
        bool clientPaid;
    }

    struct SlotModel {
        address host;
        uint256 filledAt;
        uint256 missed;
        uint256 round;
        bool everFilled;
        bool paid;
        uint256 reservations;
    }

    Marketplace public immutable market;
    TestToken public immutable token;
    TestGroth16Verifier public immutable verifier;

    address[] internal _clients;
    address[] internal _hosts;
    address[] internal _validators;

    RequestModel[] internal _requests;
    mapping(uint256 request => mapping(uint256 index => SlotModel)) internal _slots;
    mapping(bytes32 roundKey => mapping(address host => bool)) internal _reserved;
    mapping(SlotId => mapping(uint256 period => bool)) internal _proven;
    mapping(SlotId => mapping(uint256 period => bool)) internal _marked;
    mapping(address validator => uint256) public validatorOwed;

    mapping(uint256 request => RequestState) internal _lastRequestState;
    mapping(uint256 request => mapping(uint256 index => SlotState)) internal _lastSlotState;

    uint256 public violations;
    string public firstViolation;
    uint256 public withdrawalsChecked;
    mapping(bytes32 action => uint256) public successes;

    constructor() {
        token = new TestToken(address(this), 0);
        verifier = new TestGroth16Verifier();
        market = new Marketplace(_config(), token, verifier);
        for (uint256 i = 0; i < 3; ++i) _clients.push(address(uint160(0xC000 + i)));
        for (uint256 i = 0; i < 5; ++i) _hosts.push(address(uint160(0xB000 + i)));
        for (uint256 i = 0; i < 2; ++i) _validators.push(address(uint160(0xA000 + i)));
    }

    function _config() internal pure returns (MarketplaceConfig memory) {
        return
            MarketplaceConfig({
                collateral: CollateralConfig({
                    repairRewardPercentage: uint8(REPAIR_PERCENTAGE),
                    maxNumberOfSlashes: uint8(MAX_SLASHES),
                    slashPercentage: uint8(SLASH_PERCENTAGE),
                    validatorRewardPercentage: uint8(VALIDATOR_PERCENTAGE)
                }),
                proofs: ProofConfig({
                    period: uint64(PERIOD),
                    timeout: uint64(TIMEOUT),
                    downtime: uint8(DOWNTIME),
                    downtimeProduct: uint8(DOWNTIME_PRODUCT),
                    zkeyHash: "",
                    minBlockTimeMs: 1000
                }),
                reservations: SlotReservationsConfig({
                    maxReservations: uint8(MAX_RESERVATIONS),
                    windowDoublings: 0,
                    windowExpansionPercentage: 0
                }),
                requestDurationLimit: 30 days
            });
    }

    // ---- actions ----------------------------------------------------------------------------

    function requestStorage(
        uint256 clientSeed,
        uint256 slots,
        uint256 lossSeed,
        uint256 duration,
        uint256 expiry,
        uint256 price,
        uint256 collateralPerByte,
        uint256 slotSize
    ) external {
        if (_requests.length >= MAX_REQUESTS) return;
        address client = _clients[clientSeed % _clients.length];
        Request memory request;
        request.client = client;
        request.ask = Ask({
            proofProbability: 1, // every period, so the model knows exactly when a proof is owed
            pricePerBytePerSecond: bound(price, 1, 1_000),
            collateralPerByte: bound(collateralPerByte, 1, 1_000_000),
            slots: uint64(bound(slots, 1, 4)),
            slotSize: uint64(bound(slotSize, 1, 4_096)),
            duration: uint64(bound(duration, 30 minutes, 12 hours)),
            maxSlotLoss: 0
        });
        request.ask.maxSlotLoss = uint64(lossSeed % (request.ask.slots + 1));
        request.expiry = uint64(bound(expiry, 1, request.ask.duration > 1 hours ? 1 hours : request.ask.duration));
        // Byte 31 is the most significant of the little-endian root: clearing it keeps the root below r.
        request.content = Content({
            cid: "cid",
            merkleRoot: bytes32(uint256(keccak256(abi.encode(_requests.length))) << 8)
        });
        request.nonce = bytes32(_requests.length);

        uint256 rate = request.ask.pricePerBytePerSecond * request.ask.slotSize;
        uint256 price_ = rate * request.ask.slots * request.ask.duration;
        token.mint(client, price_);
        vm.startPrank(client);
        token.approve(address(market), price_);
        market.requestStorage(request);
        vm.stopPrank();

        _requests.push(
            RequestModel({
                id: RequestId.wrap(keccak256(abi.encode(request))),
                client: client,
                root: request.content.merkleRoot,
                slots: request.ask.slots,
                maxSlotLoss: request.ask.maxSlotLoss,
                rate: rate,
                collateral: request.ask.collateralPerByte * request.ask.slotSize,
                expiresAt: block.timestamp + request.expiry,
                endsAt: block.timestamp + request.ask.duration,
                filled: 0,
                started: false,
                failed: false,
                failedAt: 0,
                deposits: price_,
                validatorRewards: 0,
                paidOut: 0,
                clientPaid: false
            })
        );
        _count("requestStorage");
        _observe();
    }

    function reserveSlot(uint256 hostSeed, uint256 requestSeed, uint256 indexSeed) external {
        if (_requests.length == 0) return;
        uint256 r = requestSeed % _requests.length;
        uint256 index = indexSeed % _requests[r].slots;
        // Half of the time aim at a slot that takes hosts, the other half anywhere (refusals).
        if (hostSeed % 2 == 0) {
            (bool found, uint256 openR, uint256 openIndex) = _pickOpen(requestSeed, indexSeed);
            if (found) (r, index) = (openR, openIndex);
        }
        _reserve(r, index, _hosts[(hostSeed / 2) % _hosts.length]);
        _observe();
    }

    function _reserve(uint256 r, uint256 index, address host) internal returns (bool reserved) {
        RequestModel storage model = _requests[r];
        SlotModel storage slot = _slots[r][index];
        bytes32 key = _roundKey(r, index);
        bool expected =
            _takesHosts(model) &&
                slot.host == address(0) &&
                slot.reservations < MAX_RESERVATIONS &&
                !_reserved[key][host];

        vm.prank(host);
        try market.reserveSlot(model.id, uint64(index)) {
            if (!expected) _violation("reserveSlot succeeded against the rules");
            _reserved[key][host] = true;
            slot.reservations += 1;
            _count("reserveSlot");
            return true;
        } catch {
            if (expected) _violation("reserveSlot refused an allowed reservation");
        }
    }

    /// @notice Fills a slot that takes hosts (any slot, one time in four), reserving it first when
    /// the host holds no reservation and there is room.
    function fillSlot(uint256 hostSeed, uint256 requestSeed, uint256 indexSeed) external {
        if (_requests.length == 0) return;
        uint256 r = requestSeed % _requests.length;
        uint256 index = indexSeed % _requests[r].slots;
        if (hostSeed % 4 != 0) {
            (bool found, uint256 openR, uint256 openIndex) = _pickOpen(requestSeed, indexSeed);
            if (found) (r, index) = (openR, openIndex);
        }
        RequestModel storage model = _requests[r];
        SlotModel storage slot = _slots[r][index];
        address host = _hosts[(hostSeed / 4) % _hosts.length];
        bytes32 key = _roundKey(r, index);
        if (!_reserved[key][host] && hostSeed % 8 != 1) {
            if (slot.reservations < MAX_RESERVATIONS) {
                _reserve(r, index, host);
            } else {
                // the set is full: hand the fill to a host that holds a reservation
                for (uint256 i = 1; i < _hosts.length && !_reserved[key][host]; ++i) {
                    host = _hosts[(hostSeed / 4 + i) % _hosts.length];
                }
            }
        }
        bool repair = slot.everFilled;
        uint256 deposit = model.collateral - (repair ? (model.collateral * REPAIR_PERCENTAGE) / 100 : 0);
        bool expected = _takesHosts(model) && slot.host == address(0) && _reserved[key][host];

        SlotId slotId = _slotId(r, index);
        Groth16Proof memory proof = _proof(slotId, model.root, index);
        token.mint(host, deposit);
        uint256 before = token.balanceOf(host);
        vm.startPrank(host);
        token.approve(address(market), deposit);
        try market.fillSlot(model.id, uint64(index), proof) {
            vm.stopPrank();
            if (!expected) _violation("fillSlot succeeded against the rules");
            if (before - token.balanceOf(host) != deposit) _violation("fillSlot took a wrong collateral");
            slot.host = host;
            slot.filledAt = block.timestamp;
            slot.missed = 0;
            slot.everFilled = true;
            model.deposits += deposit;
            model.filled += 1;
            _proven[slotId][_period()] = true; // the fill proves its own period
            if (model.filled == model.slots && !model.started) model.started = true;
            _count("fillSlot");
        } catch {
            vm.stopPrank();
            if (expected) _violation("fillSlot refused an allowed fill");
        }
        _observe();
    }

    function submitProof(uint256 requestSeed, uint256 indexSeed) external {
        (bool found, uint256 r, uint256 index) = _pickFilled(requestSeed, indexSeed);
        if (!found) return;
        _prove(r, index);
        _observe();
    }

    function _prove(uint256 r, uint256 index) internal {
        RequestModel storage model = _requests[r];
        SlotModel storage slot = _slots[r][index];
        if (slot.host == address(0) || slot.paid) return;
        SlotId slotId = _slotId(r, index);
        uint256 period = _period();
        bool expected = _takesHosts(model) && !_proven[slotId][period];
        Groth16Proof memory proof = _proof(slotId, model.root, index);
        vm.prank(slot.host);
        try market.submitProof(slotId, proof) {
            if (!expected) _violation("submitProof succeeded against the rules");
            _proven[slotId][period] = true;
            _count("submitProof");
        } catch {
            if (expected) _violation("submitProof refused a due proof");
        }
    }

    /// @notice Lets the current period of a filled slot end and marks its proof missing at a
    /// random moment of the timeout, with the pointer out of downtime.
    function missProof(uint256 requestSeed, uint256 indexSeed, uint256 validatorSeed, uint256 delay) external {
        (bool found, uint256 r, uint256 index) = _pickFilled(requestSeed, indexSeed);
        if (!found) return;
        // The fill period asks no proof: miss the next one then.
        uint256 period = _period();
        uint256 fillPeriod = _slots[r][index].filledAt / PERIOD;
        if (period <= fillPeriod) period = fillPeriod + 1;
        vm.warp((period + 1) * PERIOD + (delay % TIMEOUT));
        SlotId slotId = _slotId(r, index);
        uint256 pointer = _pointer(slotId, period, block.number);
        if (pointer < DOWNTIME) vm.roll(block.number + (DOWNTIME - pointer));
        _mark(r, index, period, _validators[validatorSeed % _validators.length]);
    }

    /// @notice Moves into the timeout after the current period, has the host prove the new period,
    /// then marks the period before: the record must still know whether that one was proven.
    function proveNextThenMark(uint256 requestSeed, uint256 indexSeed, uint256 validatorSeed, uint256 delay) external {
        (bool found, uint256 r, uint256 index) = _pickFilled(requestSeed, indexSeed);
        if (!found) return;
        uint256 period = _period();
        vm.warp((period + 1) * PERIOD + (delay % TIMEOUT));
        SlotId slotId = _slotId(r, index);
        uint256 pointer = _pointer(slotId, period, block.number);
        if (pointer < DOWNTIME) vm.roll(block.number + (DOWNTIME - pointer));
        _prove(r, index);
        _mark(r, index, period, _validators[validatorSeed % _validators.length]);
    }

    /// @notice Marks any recent period at the current moment; mostly exercises the refusals.
    function markProofAsMissing(uint256 requestSeed, uint256 indexSeed, uint256 validatorSeed, uint256 back) external {
        if (_requests.length == 0) return;
        uint256 r = requestSeed % _requests.length;
        uint256 index = indexSeed % _requests[r].slots;
        uint256 period = _period();
        period = period - (back % 3 > period ? 0 : back % 3);
        _mark(r, index, period, _validators[validatorSeed % _validators.length]);
    }

    function freeSlot(uint256 requestSeed, uint256 indexSeed) external {
        (bool found, uint256 r, uint256 index) = _pickFilled(requestSeed, indexSeed);
        if (!found) return;
        RequestModel storage model = _requests[r];
        SlotModel storage slot = _slots[r][index];
        address host = slot.host;
        bool running = _takesHosts(model);
        uint256 expectedPayout = running ? 0 : _hostPayout(model, slot);
        uint256 before = token.balanceOf(host);
        vm.prank(host);
        try market.freeSlot(_slotId(r, index)) {
            uint256 received = token.balanceOf(host) - before;
            if (slot.paid) _violation("a host was paid twice");
            if (received != expectedPayout) _violation("freeSlot paid a wrong amount");
            if (running) {
                _remove(r, index);
            } else {
                slot.paid = true;
                model.paidOut += received;
                ++withdrawalsChecked;
            }
            _count(running ? bytes32("freeSlot (abandon)") : bytes32("freeSlot (payout)"));
        } catch {
            if (!slot.paid) _violation("freeSlot refused the host");
        }
        _observe();
    }

    function withdrawFunds(uint256 requestSeed) external {
        if (_requests.length == 0) return;
        uint256 r = requestSeed % _requests.length;
        RequestModel storage model = _requests[r];
        bool expected = !_takesHosts(model) && !model.clientPaid;
        uint256 amount = expected ? _clientPayout(r) : 0;
        uint256 before = token.balanceOf(model.client);
        vm.prank(model.client);
        try market.withdrawFunds(model.id) {
            uint256 received = token.balanceOf(model.client) - before;
            if (!expected) _violation("withdrawFunds succeeded against the rules");
            if (received != amount) _violation("withdrawFunds paid a wrong amount");
            model.clientPaid = true;
            model.paidOut += received;
            ++withdrawalsChecked;
            _count("withdrawFunds");
        } catch {
            if (expected) _violation("withdrawFunds refused the client");
        }
        _observe();
    }

    function withdrawValidatorReward(uint256 validatorSeed) external {
        address validator = _validators[validatorSeed % _validators.length];
        uint256 owed = validatorOwed[validator];
        uint256 before = token.balanceOf(validator);
        vm.prank(validator);
        try market.withdrawValidatorReward() {
            if (token.balanceOf(validator) - before != owed || owed == 0) {
                _violation("withdrawValidatorReward paid a wrong amount");
            }
            validatorOwed[validator] = 0;
            ++withdrawalsChecked;
            _count("withdrawValidatorReward");
        } catch {
            if (owed != 0) _violation("withdrawValidatorReward refused a validator");
        }
        _observe();
    }

    /// @notice Moves the clock up to 20 minutes (one time in eight up to 8 hours) and the chain up to
    /// 300 blocks.
    function advanceTime(uint256 seconds_, uint256 blocks) external {
        uint256 most = seconds_ % 8 == 0 ? 8 hours : 20 minutes;
        vm.warp(block.timestamp + bound(seconds_ / 8, 1, most));
        vm.roll(block.number + bound(blocks, 1, 300));
        _observe();
    }

    // ---- settlement, for afterInvariant ---------------------------------------------------------

    /// @notice Ends every request and has everyone collect; afterwards nothing may be left.
    function settleEverything() external {
        uint256 latestEnd;
        for (uint256 r = 0; r < _requests.length; ++r) {
            if (_requests[r].endsAt > latestEnd) latestEnd = _requests[r].endsAt;
        }
        if (latestEnd >= block.timestamp) vm.warp(latestEnd + 1);
        _observe();
        for (uint256 r = 0; r < _requests.length; ++r) {
            for (uint256 index = 0; index < _requests[r].slots; ++index) {
                SlotModel storage slot = _slots[r][index];
                if (slot.host != address(0) && !slot.paid) this.freeSlot(r, index);
            }
            if (!_requests[r].clientPaid) this.withdrawFunds(r);
        }
        for (uint256 v = 0; v < _validators.length; ++v) {
            if (validatorOwed[_validators[v]] != 0) this.withdrawValidatorReward(v);
        }
    }

    // ---- what the invariants read ---------------------------------------------------------------

    function requestCount() external view returns (uint256) {
        return _requests.length;
    }

    function requestIdAt(uint256 r) external view returns (RequestId) {
        return _requests[r].id;
    }

    /// @notice What the model says the marketplace still owes for request r.
    function outstanding(uint256 r) public view returns (uint256) {
        RequestModel storage model = _requests[r];
        return model.deposits - model.validatorRewards - model.paidOut;
    }

    function totalOutstanding() external view returns (uint256 total) {
        for (uint256 r = 0; r < _requests.length; ++r) total += outstanding(r);
        for (uint256 v = 0; v < _validators.length; ++v) total += validatorOwed[_validators[v]];
    }

    function validatorCount() external view returns (uint256) {
        return _validators.length;
    }

    function validatorAt(uint256 v) external view returns (address) {
        return _validators[v];
    }

    /// @notice For each filled slot: the collateral the model expects and the most it may be.
    function slotCount(uint256 r) external view returns (uint256) {
        return _requests[r].slots;
    }

    function expectedCollateral(uint256 r, uint256 index) external view returns (uint256) {
        SlotModel storage slot = _slots[r][index];
        if (slot.host == address(0) || slot.paid) return 0;
        RequestModel storage model = _requests[r];
        return model.collateral - slot.missed * ((model.collateral * SLASH_PERCENTAGE) / 100);
    }

    function slotIdAt(uint256 r, uint256 index) external view returns (SlotId) {
        return _slotId(r, index);
    }

    // ---- the model ------------------------------------------------------------------------------

    function _mark(uint256 r, uint256 index, uint256 period, address validator) internal {
        RequestModel storage model = _requests[r];
        SlotModel storage slot = _slots[r][index];
        SlotId slotId = _slotId(r, index);
        uint256 end = (period + 1) * PERIOD;
        bool expected =
            _takesHosts(model) &&
                slot.host != address(0) &&
                block.timestamp >= end &&
                block.timestamp < end + TIMEOUT &&
                period > slot.filledAt / PERIOD &&
                !_proven[slotId][period] &&
                !_marked[slotId][period] &&
                _pointer(slotId, period, block.number) >= DOWNTIME;
        vm.prank(validator);
        try market.markProofAsMissing(slotId, Period.wrap(uint64(period))) {
            if (!expected) _violation("markProofAsMissing succeeded against the rules");
            _marked[slotId][period] = true;
            uint256 slashed = (model.collateral * SLASH_PERCENTAGE) / 100;
            uint256 reward = (slashed * VALIDATOR_PERCENTAGE) / 100;
            slot.missed += 1;
            model.validatorRewards += reward;
            validatorOwed[validator] += reward;
            if (slot.missed >= MAX_SLASHES) _remove(r, index);
            _count("markProofAsMissing");
        } catch {
            if (expected) _violation("markProofAsMissing refused a missing proof");
        }
        _observe();
    }

    function _remove(uint256 r, uint256 index) internal {
        RequestModel storage model = _requests[r];
        SlotModel storage slot = _slots[r][index];
        slot.host = address(0);
        slot.missed = 0;
        slot.round += 1;
        slot.reservations = 0;
        model.filled -= 1;
        if (model.started && !model.failed && model.slots - model.filled > model.maxSlotLoss) {
            model.failed = true;
            model.failedAt = block.timestamp;
        }
    }

    function _state(RequestModel storage model) internal view returns (RequestState) {
        if (model.failed) return RequestState.Failed;
        if (!model.started) return block.timestamp > model.expiresAt ? RequestState.Cancelled : RequestState.New;
        return block.timestamp > model.endsAt ? RequestState.Finished : RequestState.Started;
    }

    function _takesHosts(RequestModel storage model) internal view returns (bool) {
        RequestState state = _state(model);
        return state == RequestState.New || state == RequestState.Started;
    }

    function _settledAt(RequestModel storage model) internal view returns (uint256) {
        RequestState state = _state(model);
        if (state == RequestState.Cancelled) return model.expiresAt;
        if (state == RequestState.Failed) return model.failedAt;
        return model.endsAt;
    }

    function _hostPayout(RequestModel storage model, SlotModel storage slot) internal view returns (uint256) {
        uint256 slashes = slot.missed * ((model.collateral * SLASH_PERCENTAGE) / 100);
        return (_settledAt(model) - slot.filledAt) * model.rate + model.collateral - slashes;
    }

    /// @dev The client gets whatever the request holds that no host in place and no validator is owed.
    function _clientPayout(uint256 r) internal view returns (uint256) {
        RequestModel storage model = _requests[r];
        uint256 hosts;
        for (uint256 index = 0; index < model.slots; ++index) {
            SlotModel storage slot = _slots[r][index];
            if (slot.host != address(0)) hosts += _hostPayout(model, slot);
        }
        return model.deposits - model.validatorRewards - hosts;
    }

    /// @dev Checks every request and slot state against the model and the allowed transitions.
    function _observe() internal {
        for (uint256 r = 0; r < _requests.length; ++r) {
            RequestModel storage model = _requests[r];
            RequestState state = market.requestState(model.id);
            if (state != _state(model)) _violation("request state differs from the model");
            if (!_allowedRequestStep(_lastRequestState[r], state)) {
                _violation(_step("request moved along no transition", uint8(_lastRequestState[r]), uint8(state)));
            }
            _lastRequestState[r] = state;
            for (uint256 index = 0; index < model.slots; ++index) {
                SlotState slotState = market.slotState(_slotId(r, index));
                if (slotState != _slotStateModel(model, _slots[r][index])) {
                    _violation("slot state differs from the model");
                }
                if (!_allowedSlotStep(_lastSlotState[r][index], slotState)) {
                    _violation(
                        _step("slot moved along no transition", uint8(_lastSlotState[r][index]), uint8(slotState))
                    );
                }
                _lastSlotState[r][index] = slotState;
            }
        }
    }

    function _slotStateModel(RequestModel storage model, SlotModel storage slot) internal view returns (SlotState) {
        if (!slot.everFilled) return SlotState.Free;
        if (slot.paid) return SlotState.Paid;
        RequestState state = _state(model);
        if (state == RequestState.Cancelled) return SlotState.Cancelled;
        if (state == RequestState.Finished) return SlotState.Finished;
        if (state == RequestState.Failed) return SlotState.Failed;
        return slot.host == address(0) ? SlotState.Repair : SlotState.Filled;
    }

    /// @dev New -> Started -> Finished; New -> Cancelled; Started -> Failed.
    function _allowedRequestStep(RequestState from, RequestState to) internal pure returns (bool) {
        if (from == to) return true;
        if (from == RequestState.New) return to == RequestState.Started || to == RequestState.Cancelled;
        if (from == RequestState.Started) return to == RequestState.Finished || to == RequestState.Failed;
        return false;
    }

    /// @dev Free -> Filled -> (Finished | Cancelled | Failed | Repair); Repair -> Filled or the
    /// request's end; an ended slot -> Paid. A Free slot stays Free when its request ends.
    function _allowedSlotStep(SlotState from, SlotState to) internal pure returns (bool) {
        if (from == to) return true;
        if (from == SlotState.Free) return to == SlotState.Filled;
        if (from == SlotState.Filled) {
            return
                to == SlotState.Repair ||
                to == SlotState.Finished ||
                to == SlotState.Cancelled ||
                to == SlotState.Failed;
        }
        if (from == SlotState.Repair) {
            return
                to == SlotState.Filled ||
                to == SlotState.Finished ||
                to == SlotState.Cancelled ||
                to == SlotState.Failed;
        }
        if (from == SlotState.Finished || from == SlotState.Cancelled || from == SlotState.Failed) {
            return to == SlotState.Paid;
        }
        return false;
    }

    // ---- helpers --------------------------------------------------------------------------------

    function _pickOpen(uint256 requestSeed, uint256 indexSeed) internal view returns (bool, uint256, uint256) {
        uint256 count = _requests.length;
        for (uint256 i = 0; i < count; ++i) {
            uint256 r = (requestSeed + i) % count;
            if (!_takesHosts(_requests[r])) continue;
            uint256 slots = _requests[r].slots;
            for (uint256 j = 0; j < slots; ++j) {
                uint256 index = (indexSeed + j) % slots;
                if (_slots[r][index].host == address(0)) return (true, r, index);
            }
        }
        return (false, 0, 0);
    }

    function _pickFilled(uint256 requestSeed, uint256 indexSeed) internal view returns (bool, uint256, uint256) {
        uint256 count = _requests.length;
        for (uint256 i = 0; i < count; ++i) {
            uint256 r = (requestSeed + i) % count;
            uint256 slots = _requests[r].slots;
            for (uint256 j = 0; j < slots; ++j) {
                uint256 index = (indexSeed + j) % slots;
                SlotModel storage slot = _slots[r][index];
                if (slot.host != address(0) && !slot.paid) return (true, r, index);
            }
        }
        return (false, 0, 0);
    }

    function _slotId(uint256 r, uint256 index) internal view returns (SlotId) {
        return SlotId.wrap(keccak256(abi.encode(_requests[r].id, index)));
    }

    function _roundKey(uint256 r, uint256 index) internal view returns (bytes32) {
        return keccak256(abi.encode(r, index, _slots[r][index].round));
    }

    function _period() internal view returns (uint256) {
        return block.timestamp / PERIOD;
    }

    function _pointer(SlotId slotId, uint256 period, uint256 blockNumber) internal pure returns (uint256) {
        return
            ((blockNumber % 256) + ((period * DOWNTIME_PRODUCT) % 256) + (uint256(SlotId.unwrap(slotId)) % 256)) % 256;
    }

    /// @dev The proof the input-binding test verifier accepts for the slot's current challenge.
    function _proof(SlotId slotId, bytes32 root, uint256 index) internal view returns (Groth16Proof memory proof) {
        proof.a.x = FieldEncoding.challengeToEntropy(market.getChallenge(slotId));
        proof.a.y = FieldEncoding.merkleRootToField(root);
        proof.c.x = index;
    }

    function _step(string memory what, uint8 from, uint8 to) internal pure returns (string memory) {
        // States are single digits. (OpenZeppelin's Strings needs MCOPY, which Shanghai lacks.)
        return
            string.concat(
                what,
                ": ",
                string(abi.encodePacked(bytes1(48 + from))),
                " -> ",
                string(abi.encodePacked(bytes1(48 + to)))
            );
    }

    function _violation(string memory what) internal {
        if (violations == 0) firstViolation = what;
        ++violations;
    }

    function _count(bytes32 action) internal {
        ++successes[action];
    }
}

/// @notice Random sequences of request, reserve, fill, prove, miss, mark, free and withdraw by three
/// clients, five hosts and two validators, checked against the handler's model of the specification.
contract MarketplaceInvariantTest is Test {
    MarketplaceHandler internal handler;

    function setUp() public {
        // The pointer reads 256 blocks back; start from a realistic clock and height.
        vm.warp(1_750_000_000);
        vm.roll(1_000);
        handler = new MarketplaceHandler();
        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = MarketplaceHandler.requestStorage.selector;
        selectors[1] = MarketplaceHandler.reserveSlot.selector;
        selectors[2] = MarketplaceHandler.fillSlot.selector;
        selectors[3] = MarketplaceHandler.submitProof.selector;
        selectors[4] = MarketplaceHandler.missProof.selector;
        selectors[5] = MarketplaceHandler.markProofAsMissing.selector;
        selectors[6] = MarketplaceHandler.freeSlot.selector;
        selectors[7] = MarketplaceHandler.withdrawFunds.selector;
        selectors[8] = MarketplaceHandler.withdrawValidatorReward.selector;
        selectors[9] = MarketplaceHandler.advanceTime.selector;
        selectors[10] = MarketplaceHandler.proveNextThenMark.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// A fixed sequence through the handler in which every action succeeds at least once: the
    /// handler is not vacuous, and its model agrees with the marketplace on a full life.
    function test_handlerDrivesEveryAction() public {
        // 2 slots, maxSlotLoss 1, 6 hours, expiry 30 minutes.
        handler.requestStorage(0, 1, 1, 19_800, 1_799, 4, 99, 99);
        handler.reserveSlot(0, 0, 0); // hosts[0] on slot 0
        handler.fillSlot(2, 0, 0); // hosts[0] fills slot 0
        handler.fillSlot(6, 0, 1); // hosts[1] reserves and fills slot 1: started
        handler.advanceTime(8 * 130, 1);
        handler.submitProof(0, 0);
        handler.markProofAsMissing(0, 1, 0, 0); // too early: refused, as the model expects
        handler.missProof(0, 1, 0, 0);
        handler.proveNextThenMark(0, 1, 1, 5); // hosts[1] removed at its second missed proof
        handler.fillSlot(10, 0, 1); // hosts[2] repairs slot 1
        handler.freeSlot(0, 0); // hosts[0] abandons slot 0
        handler.reserveSlot(2, 0, 0);
        handler.advanceTime(8 * 28_000, 1); // past the end
        handler.freeSlot(0, 1); // hosts[2] collects
        handler.withdrawFunds(0);
        handler.withdrawValidatorReward(0);
        handler.withdrawValidatorReward(1);

        bytes32[10] memory actions = [
            bytes32("requestStorage"),
            "reserveSlot",
            "fillSlot",
            "submitProof",
            "markProofAsMissing",
            "freeSlot (abandon)",
            "freeSlot (payout)",
            "withdrawFunds",
            "withdrawValidatorReward",
            "requestStorage"
        ];
        for (uint256 i = 0; i < actions.length; ++i) {
            assertTrue(handler.successes(actions[i]) > 0, string(abi.encodePacked(actions[i])));
        }
        _callsFollowTheSpecification();
        _balanceEqualsWhatIsOwed();
        assertEq(handler.token().balanceOf(address(handler.market())), 0, "everything collected");
    }

    /// After every call of every sequence: the properties below.
    function invariant_marketplace() public view {
        _callsFollowTheSpecification();
        _balanceEqualsWhatIsOwed();
        _collateralFollowsSlashes();
    }

    /// Every call did what the specification says, paid what it says, and every state moved along
    /// the specification's transitions (the handler checks each step against its model).
    function _callsFollowTheSpecification() internal view {
        if (handler.violations() != 0) revert AssertionFailed(handler.firstViolation());
    }

    /// The marketplace's token balance is exactly what it still owes clients, hosts and validators.
    function _balanceEqualsWhatIsOwed() internal view {
        uint256 balance = handler.token().balanceOf(address(handler.market()));
        assertEq(balance, handler.totalOutstanding(), "balance vs owed by the model");
        uint256 held;
        for (uint256 r = 0; r < handler.requestCount(); ++r) {
            uint256 escrow = handler.market().requestEscrow(handler.requestIdAt(r));
            assertEq(escrow, handler.outstanding(r), "request escrow vs the model");
            held += escrow;
        }
        for (uint256 v = 0; v < handler.validatorCount(); ++v) {
            address validator = handler.validatorAt(v);
            uint256 reward = handler.market().validatorReward(validator);
            assertEq(reward, handler.validatorOwed(validator), "validator reward vs the model");
            held += reward;
        }
        assertEq(balance, held, "balance vs escrows and rewards");
    }

    /// Collateral never goes negative: each host holds collateralPerSlot less its slashes.
    function _collateralFollowsSlashes() internal view {
        for (uint256 r = 0; r < handler.requestCount(); ++r) {
            for (uint256 i = 0; i < handler.slotCount(r); ++i) {
                assertEq(
                    handler.market().currentCollateral(handler.slotIdAt(r, i)),
                    handler.expectedCollateral(r, i),
                    "collateral vs slashes"
                );
            }
        }
    }

    /// Nothing is locked forever: once every request has ended and everyone has collected (each
    /// exactly once, for exactly the model's amount), the marketplace holds nothing.
    function afterInvariant() public {
        handler.settleEverything();
        _callsFollowTheSpecification();
        assertEq(handler.token().balanceOf(address(handler.market())), 0, "left in the marketplace");
        for (uint256 r = 0; r < handler.requestCount(); ++r) {
            RequestId id = handler.requestIdAt(r);
            assertEq(handler.market().requestEscrow(id), 0, "left in a request");
        }
    }
}
