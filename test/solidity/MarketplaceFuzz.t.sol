// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {Test} from "./helpers/Test.sol";
import {TestToken} from "../../contracts/TestToken.sol";
import {TestGroth16Verifier} from "../../contracts/testing/TestGroth16Verifier.sol";
import {Marketplace} from "../../contracts/marketplace/Marketplace.sol";
import {FieldEncoding} from "../../contracts/marketplace/FieldEncoding.sol";
import {SlotReservations} from "../../contracts/marketplace/SlotReservations.sol";
import {
    Configuration,
    MarketplaceConfig,
    CollateralConfig,
    ProofConfig,
    SlotReservationsConfig
} from "../../contracts/marketplace/Configuration.sol";
import {Ask, Content, Request, RequestId} from "../../contracts/marketplace/Requests.sol";

function exampleConfig() pure returns (MarketplaceConfig memory) {
    return
        MarketplaceConfig({
            collateral: CollateralConfig({
                repairRewardPercentage: 10,
                maxNumberOfSlashes: 2,
                slashPercentage: 20,
                validatorRewardPercentage: 20
            }),
            proofs: ProofConfig({
                period: 120,
                timeout: 30,
                downtime: 64,
                downtimeProduct: 67,
                zkeyHash: "",
                minBlockTimeMs: 1000
            }),
            reservations: SlotReservationsConfig({
                maxReservations: 3,
                windowDoublings: 0,
                windowExpansionPercentage: 50
            }),
            requestDurationLimit: 30 days
        });
}

/// @notice FieldEncoding against a byte-by-byte reading of the storage-proof specification.
contract FieldEncodingFuzzTest is Test {
    function littleEndian(bytes32 value, uint256 length) internal pure returns (uint256 result) {
        for (uint256 i = 0; i < length; ++i) result |= uint256(uint8(value[i])) << (8 * i);
    }

    function testFuzz_entropyIsBytes0To30LittleEndian(bytes32 challenge) public pure {
        uint256 entropy = FieldEncoding.challengeToEntropy(challenge);
        assertEq(entropy, littleEndian(challenge, 31), "entropy");
        assertTrue(entropy < FieldEncoding.FIELD_MODULUS, "entropy below r");
    }

    function testFuzz_rootIs32BytesLittleEndian(bytes32 root) public pure {
        assertEq(FieldEncoding.merkleRootToField(root), littleEndian(root, 32), "root");
    }

    function testFuzz_reverseBytesIsAnInvolution(bytes32 value) public pure {
        bytes32 reversed = FieldEncoding.reverseBytes(value);
        for (uint256 i = 0; i < 32; ++i) assertTrue(reversed[i] == value[31 - i], "byte order");
        assertTrue(FieldEncoding.reverseBytes(reversed) == value, "involution");
    }
}

/// @notice Exposes the reservation window of a configured marketplace part.
contract WindowHarness is SlotReservations {
    constructor(MarketplaceConfig memory config) Configuration(config) {}

    function eligibleAt(bytes32 key, address host, uint256 openedAt, uint256 expiry) external view returns (uint256) {
        return _eligibleAt(key, host, openedAt, expiry);
    }

    function _reservationSubject(RequestId, uint64) internal pure override returns (ReservationSubject memory subject) {
        return subject; // not used: the harness only exposes the window
    }
}

/// @notice The reservation window: its two descriptions (a window of bits growing with time, and a
/// time from which each host is admitted) agree, and it grows monotonically to everyone.
contract ReservationWindowFuzzTest is Test {
    function harness(uint8 doublings, uint8 percentage) internal returns (WindowHarness) {
        MarketplaceConfig memory config = exampleConfig();
        config.reservations.windowDoublings = doublings;
        config.reservations.windowExpansionPercentage = percentage;
        return new WindowHarness(config);
    }

    function bitLength(uint256 x) internal pure returns (uint256 bits) {
        while (x != 0) {
            ++bits;
            x >>= 1;
        }
    }

    function testFuzz_windowAdmitsExactlyTheDocumentedDistances(
        uint8 doublings,
        uint8 percentage,
        bytes32 key,
        address host,
        uint32 expiry,
        uint32 elapsed
    ) public {
        doublings = uint8(bound(doublings, 1, 160));
        percentage = uint8(bound(percentage, 1, 100));
        expiry = uint32(bound(expiry, 1, 30 days));
        WindowHarness window = harness(doublings, percentage);
        uint256 openedAt = 1_000_000;
        uint256 at = window.eligibleAt(key, host, openedAt, expiry);

        // The documented rule: admitted at t when bits <= 160 - D + floor(t * D / E), all from t >= E.
        uint256 expansion = (uint256(expiry) * percentage) / 100;
        uint256 bits = bitLength(uint160(host) ^ uint160(uint256(key)));
        uint256 allowed = elapsed >= expansion ? 160 : 160 - doublings + (uint256(elapsed) * doublings) / expansion;
        assertTrue((openedAt + elapsed >= at) == (bits <= allowed), "two descriptions of the window");
        assertLe(at, openedAt + expansion, "everyone is in after the expansion");
    }

    function testFuzz_closerHostsAreAdmittedNoLater(bytes32 key, uint8 shiftA, uint8 shiftB, uint32 expiry) public {
        WindowHarness window = harness(16, 50);
        expiry = uint32(bound(expiry, 1, 30 days));
        uint160 source = uint160(uint256(key));
        uint256 a = bound(shiftA, 0, 159);
        uint256 b = bound(shiftB, a, 159);
        address near = address(source ^ uint160(1 << a));
        address far = address(source ^ uint160(1 << b));
        assertLe(window.eligibleAt(key, near, 0, expiry), window.eligibleAt(key, far, 0, expiry), "monotone");
        assertEq(window.eligibleAt(key, address(source), 0, expiry), 0, "the source itself at once");
    }

    function testFuzz_noWindowAdmitsEveryoneAtOnce(bytes32 key, address host, uint32 openedAt) public {
        WindowHarness window = harness(0, 50);
        assertEq(window.eligibleAt(key, host, openedAt, 3_600), openedAt, "no window");
    }
}

/// @notice The constructor accepts every configuration the documented rules allow, and rejects each
/// broken rule with its own error.
contract ConfigurationFuzzTest is Test {
    TestToken internal token;
    TestGroth16Verifier internal verifier;

    function setUp() public {
        vm.roll(1_000);
        token = new TestToken(address(this), 0);
        verifier = new TestGroth16Verifier();
    }

    /// A valid configuration drawn from `seed`: every rule holds, often at its boundary.
    function validConfig(uint256 seed) internal pure returns (MarketplaceConfig memory config) {
        config = exampleConfig();
        uint256 slashes = bound(seed, 1, 10);
        uint256 slash = bound(seed >> 8, 0, 100 / slashes);
        config.collateral = CollateralConfig({
            repairRewardPercentage: uint8(bound(seed >> 16, 0, 100 - slashes * slash)),
            maxNumberOfSlashes: uint8(slashes),
            slashPercentage: uint8(slash),
            validatorRewardPercentage: uint8(bound(seed >> 24, 0, 100))
        });
        uint256 blockTimeMs = bound(seed >> 32, 1, 15_000);
        uint256 downtime = bound(seed >> 64, 1, 255);
        // longest period and timeout that fit: periodBlocks <= 256 - downtime, timeoutBlocks <= downtime
        uint256 maxPeriod = ((256 - downtime) * blockTimeMs) / 1000;
        uint256 maxTimeout = (downtime * blockTimeMs) / 1000;
        vm.assume(maxPeriod > 0 && maxTimeout > 0);
        uint256 period = bound(seed >> 96, 1, maxPeriod);
        config.proofs = ProofConfig({
            period: uint64(period),
            timeout: uint64(bound(seed >> 128, 1, period < maxTimeout ? period : maxTimeout)),
            downtime: uint8(downtime),
            downtimeProduct: uint8(bound(seed >> 160, 0, 127) * 2 + 1),
            zkeyHash: "zkey",
            minBlockTimeMs: uint32(blockTimeMs)
        });
        config.reservations = SlotReservationsConfig({
            maxReservations: uint8(bound(seed >> 168, 1, 16)),
            windowDoublings: uint8(bound(seed >> 176, 0, 160)),
            windowExpansionPercentage: uint8(bound(seed >> 184, 0, 100))
        });
        config.requestDurationLimit = uint64(bound(seed >> 192, 1, type(uint32).max));
    }

    function testFuzz_validConfigurationsDeployAndRoundTrip(uint256 seed) public {
        MarketplaceConfig memory config = validConfig(seed);
        Marketplace market = new Marketplace(config, token, verifier);
        assertTrue(keccak256(abi.encode(market.configuration())) == keccak256(abi.encode(config)), "stored");
    }

    function testFuzz_eachBrokenRuleIsRejectedByName(uint256 seed, uint8 rule) public {
        MarketplaceConfig memory config = validConfig(seed);
        CollateralConfig memory c = config.collateral;
        ProofConfig memory p = config.proofs;
        bytes4 expected;
        rule = rule % 13;
        if (rule == 0) {
            c.maxNumberOfSlashes = 0;
            expected = Configuration.Configuration_InvalidMaxNumberOfSlashes.selector;
        } else if (rule == 1) {
            c.slashPercentage = uint8(100 / c.maxNumberOfSlashes + 1);
            c.repairRewardPercentage = 0;
            expected = Configuration.Configuration_MaximumSlashingTooHigh.selector;
        } else if (rule == 2) {
            c.repairRewardPercentage = uint8(100 - uint256(c.maxNumberOfSlashes) * c.slashPercentage + 1);
            expected = Configuration.Configuration_RepairRewardPercentageTooHigh.selector;
        } else if (rule == 3) {
            c.validatorRewardPercentage = uint8(bound(seed, 101, 255));
            expected = Configuration.Configuration_ValidatorRewardPercentageTooHigh.selector;
        } else if (rule == 4) {
            p.period = 0;
            expected = Configuration.Configuration_InvalidPeriod.selector;
        } else if (rule == 5) {
            p.timeout = seed % 2 == 0 ? 0 : p.period + 1;
            expected = Configuration.Configuration_InvalidTimeout.selector;
        } else if (rule == 6) {
            p.downtimeProduct = uint8(bound(seed, 0, 127) * 2);
            expected = Configuration.Configuration_InvalidDowntimeProduct.selector;
        } else if (rule == 7) {
            p.minBlockTimeMs = 0;
            expected = Configuration.Configuration_InvalidBlockTime.selector;
        } else if (rule == 8) {
            // the longest period that fits, plus one second
            p.period = uint64(((256 - uint256(p.downtime)) * p.minBlockTimeMs) / 1000 + 1);
            p.timeout = 1;
            expected = Configuration.Configuration_PeriodExceedsBlockWindow.selector;
        } else if (rule == 9) {
            // the longest timeout that fits, plus one second, as long as a period allows it
            p.timeout = uint64((uint256(p.downtime) * p.minBlockTimeMs) / 1000 + 1);
            vm.assume(p.timeout <= p.period);
            expected = Configuration.Configuration_TimeoutExceedsDowntime.selector;
        } else if (rule == 10) {
            config.reservations.maxReservations = seed % 2 == 0 ? 0 : uint8(bound(seed, 17, 255));
            expected = Configuration.Configuration_InvalidMaxReservations.selector;
        } else if (rule == 11) {
            config.reservations.windowDoublings = uint8(bound(seed, 161, 255));
            expected = Configuration.Configuration_InvalidWindowDoublings.selector;
        } else {
            config.requestDurationLimit = seed % 2 == 0 ? 0 : uint64(bound(seed, 2 ** 32, type(uint64).max));
            expected = Configuration.Configuration_InvalidRequestDurationLimit.selector;
        }
        try new Marketplace(config, token, verifier) {
            revert AssertionFailedUint("a broken rule was accepted", rule, 0);
        } catch (bytes memory reason) {
            assertTrue(bytes4(reason) == expected, "rejected with the rule's own error");
        }
    }
}

/// @notice Valid requests are stored as submitted, whatever their values.
contract RequestFuzzTest is Test {
    TestToken internal token;
    Marketplace internal market;
    address internal constant CLIENT = address(0xC11E47);

    function setUp() public {
        vm.roll(1_000);
        vm.warp(1_750_000_000);
        token = new TestToken(address(this), 0);
        market = new Marketplace(exampleConfig(), token, new TestGroth16Verifier());
    }

    function testFuzz_validRequestsRoundTrip(
        uint64 slots,
        uint64 slotSize,
        uint64 duration,
        uint64 expiry,
        uint256 price,
        uint256 collateral,
        uint256 probability,
        bytes32 root,
        bytes calldata cid,
        bytes32 nonce
    ) public {
        Request memory request;
        request.client = CLIENT;
        request.ask = Ask({
            proofProbability: bound(probability, 1, type(uint32).max),
            pricePerBytePerSecond: bound(price, 1, type(uint48).max),
            collateralPerByte: bound(collateral, 1, type(uint48).max),
            slots: uint64(bound(slots, 1, 256)),
            slotSize: uint64(bound(slotSize, 1, 2 ** 36)),
            duration: uint64(bound(duration, 1, 30 days)),
            maxSlotLoss: 0
        });
        request.ask.maxSlotLoss = uint64(bound(slots >> 8, 0, request.ask.slots));
        request.expiry = uint64(bound(expiry, 1, request.ask.duration));
        vm.assume(cid.length > 0);
        request.content = Content({cid: cid, merkleRoot: root & ~bytes32(uint256(0xff))});
        request.nonce = nonce;

        uint256 maxPrice =
            uint256(request.ask.slots) *
                request.ask.duration *
                request.ask.pricePerBytePerSecond *
                request.ask.slotSize;
        token.mint(CLIENT, maxPrice);
        vm.startPrank(CLIENT);
        token.approve(address(market), maxPrice);
        market.requestStorage(request);
        vm.stopPrank();

        RequestId id = RequestId.wrap(keccak256(abi.encode(request)));
        Request memory stored = market.getRequest(id);
        assertTrue(keccak256(abi.encode(stored)) == keccak256(abi.encode(request)), "round trip");
        assertEq(market.requestEscrow(id), maxPrice, "escrow");
        assertEq(token.balanceOf(address(market)), maxPrice, "balance");
        assertEq(market.requestExpiry(id), block.timestamp + request.expiry, "expiry");
        assertEq(market.requestEnd(id), block.timestamp + request.ask.duration, "end");
    }
}
