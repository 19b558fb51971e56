// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @notice Everything a marketplace deployment is configured with; fixed for its lifetime.
struct MarketplaceConfig {
    CollateralConfig collateral;
    ProofConfig proofs;
    SlotReservationsConfig reservations;
    uint64 requestDurationLimit; // longest duration a request may ask for, in seconds
}

/// @notice What happens to a host's collateral. Percentages are of the slot's collateral, except the
/// validator's, which is of one slash.
struct CollateralConfig {
    uint8 repairRewardPercentage; // discount on the collateral of a host that takes over a Repair slot
    uint8 maxNumberOfSlashes; // a host is removed at this many missed proofs
    uint8 slashPercentage; // taken from the collateral per missed proof
    uint8 validatorRewardPercentage; // share of each slash owed to whoever marked the proof missing
}

/// @notice When proofs are due and how they are checked. Codex's fields first, in Codex's order; it
/// is read once, in the constructor, so its packing does not matter.
// solhint-disable-next-line gas-struct-packing
struct ProofConfig {
    uint64 period; // seconds per proof period
    uint64 timeout; // seconds after a period's end during which a missing proof can be marked
    uint8 downtime; // blocks at the start of each pointer cycle in which no proof is required
    uint8 downtimeProduct; // moves the pointer by this many blocks per period; odd, so prime to 256
    string zkeyHash; // hash of the proving key the verifier belongs to, for nodes to check
    uint32 minBlockTimeMs; // shortest time between two blocks of the chain, in milliseconds
}

/// @notice Who may reserve a slot, and how many.
struct SlotReservationsConfig {
    uint8 maxReservations; // hosts that may hold a reservation on one slot at a time
    uint8 windowDoublings; // the reservation window opens on 2**-windowDoublings of the addresses; 0: no window
    uint8 windowExpansionPercentage; // % of the request's expiry after which every address is in the window
}

/// @title Configuration
/// @notice Validates the deployment's configuration once, in the constructor, and keeps it in
/// immutables so the hot paths read it for 3 gas. Validation runs before any other part of the
/// marketplace is constructed, because every other part inherits from this contract.
abstract contract Configuration {
    /// @notice Most reservations a slot can be configured to hold (reservations are scanned linearly).
    uint256 internal constant MAX_RESERVATIONS = 16;

    /// @notice Bits of an address; the reservation window is a distance in this space.
    uint256 internal constant ADDRESS_BITS = 160;

    /// @notice The pointer walks over the 256 most recent block hashes, the ones the EVM serves.
    uint256 internal constant BLOCK_HASH_WINDOW = 256;

    uint8 internal immutable _repairRewardPercentage;
    uint8 internal immutable _maxNumberOfSlashes;
    uint8 internal immutable _slashPercentage;
    uint8 internal immutable _validatorRewardPercentage;
    uint64 internal immutable _period;
    uint64 internal immutable _timeout;
    uint8 internal immutable _downtime;
    uint8 internal immutable _downtimeProduct;
    uint32 internal immutable _minBlockTimeMs;
    uint8 internal immutable _maxReservations;
    uint8 internal immutable _windowDoublings;
    uint8 internal immutable _windowExpansionPercentage;
    uint64 internal immutable _requestDurationLimit;
    string private _zkeyHash;

    /// @notice maxNumberOfSlashes is zero: a host could never be removed for missing proofs.
    error Configuration_InvalidMaxNumberOfSlashes();
    /// @notice maxNumberOfSlashes * slashPercentage exceeds 100: slashes could exceed the collateral.
    error Configuration_MaximumSlashingTooHigh();
    /// @notice repairRewardPercentage + maxNumberOfSlashes * slashPercentage exceeds 100: the
    /// collateral a removed host leaves behind could not pay the repair reward.
    error Configuration_RepairRewardPercentageTooHigh();
    /// @notice validatorRewardPercentage exceeds 100.
    error Configuration_ValidatorRewardPercentageTooHigh();
    /// @notice period is zero.
    error Configuration_InvalidPeriod();
    /// @notice timeout is zero or longer than a period.
    error Configuration_InvalidTimeout();
    /// @notice downtimeProduct is even, so repeated periods would cycle over a subset of pointers.
    error Configuration_InvalidDowntimeProduct();
    /// @notice minBlockTimeMs is zero.
    error Configuration_InvalidBlockTime();
    /// @notice A period can span more blocks than fit in the hash window outside downtime.
    /// @param periodBlocks most blocks a period can span on this chain
    /// @param limit 256 - downtime
    error Configuration_PeriodExceedsBlockWindow(uint256 periodBlocks, uint256 limit);
    /// @notice A timeout can span more blocks than the downtime, so a validator could mark a proof
    /// missing against a challenge that appeared only after the period ended.
    /// @param timeoutBlocks most blocks a timeout can span on this chain
    /// @param downtime blocks of downtime
    error Configuration_TimeoutExceedsDowntime(uint256 timeoutBlocks, uint256 downtime);
    /// @notice maxReservations is zero or above MAX_RESERVATIONS.
    error Configuration_InvalidMaxReservations();
    /// @notice windowDoublings exceeds the 160 bits of an address.
    error Configuration_InvalidWindowDoublings();
    /// @notice windowExpansionPercentage exceeds 100.
    error Configuration_InvalidWindowExpansion();
    /// @notice requestDurationLimit is zero or does not fit 32 bits (about 136 years).
    error Configuration_InvalidRequestDurationLimit();

    /// @param config the deployment's configuration; see the errors for what is rejected
    constructor(MarketplaceConfig memory config) {
        _checkCollateral(config.collateral);
        _checkProofs(config.proofs);
        _checkReservations(config.reservations);
        if (config.requestDurationLimit == 0 || config.requestDurationLimit > type(uint32).max) {
            revert Configuration_InvalidRequestDurationLimit();
        }

        _repairRewardPercentage = config.collateral.repairRewardPercentage;
        _maxNumberOfSlashes = config.collateral.maxNumberOfSlashes;
        _slashPercentage = config.collateral.slashPercentage;
        _validatorRewardPercentage = config.collateral.validatorRewardPercentage;
        _period = config.proofs.period;
        _timeout = config.proofs.timeout;
        _downtime = config.proofs.downtime;
        _downtimeProduct = config.proofs.downtimeProduct;
        _zkeyHash = config.proofs.zkeyHash;
        _minBlockTimeMs = config.proofs.minBlockTimeMs;
        _maxReservations = config.reservations.maxReservations;
        _windowDoublings = config.reservations.windowDoublings;
        _windowExpansionPercentage = config.reservations.windowExpansionPercentage;
        _requestDurationLimit = config.requestDurationLimit;
    }

    /// @notice The configuration this marketplace was deployed with.
    /// @return config every configured value, as given to the constructor
    function configuration() external view returns (MarketplaceConfig memory config) {
        config.collateral = CollateralConfig({
            repairRewardPercentage: _repairRewardPercentage,
            maxNumberOfSlashes: _maxNumberOfSlashes,
            slashPercentage: _slashPercentage,
            validatorRewardPercentage: _validatorRewardPercentage
        });
        config.proofs = ProofConfig({
            period: _period,
            timeout: _timeout,
            downtime: _downtime,
            downtimeProduct: _downtimeProduct,
            zkeyHash: _zkeyHash,
            minBlockTimeMs: _minBlockTimeMs
        });
        config.reservations = SlotReservationsConfig({
            maxReservations: _maxReservations,
            windowDoublings: _windowDoublings,
            windowExpansionPercentage: _windowExpansionPercentage
        });
        config.requestDurationLimit = _requestDurationLimit;
    }

    function _checkCollateral(CollateralConfig memory collateral) private pure {
        if (collateral.maxNumberOfSlashes == 0) revert Configuration_InvalidMaxNumberOfSlashes();
        uint256 maxSlashing = uint256(collateral.maxNumberOfSlashes) * collateral.slashPercentage;
        if (maxSlashing > 100) revert Configuration_MaximumSlashingTooHigh();
        if (collateral.repairRewardPercentage + maxSlashing > 100) {
            revert Configuration_RepairRewardPercentageTooHigh();
        }
        if (collateral.validatorRewardPercentage > 100) revert Configuration_ValidatorRewardPercentageTooHigh();
    }

    /// @dev The challenge of a slot for a period is read from a block hash through a pointer that
    /// moves one block per block and jumps to a fresh block hash every 256 blocks; the first
    /// `downtime` blocks after a jump ask no proof. Two conditions, on the chain's shortest block time:
    /// - a period spans at most 256 - downtime blocks (the marketplace specification's rule);
    /// - a timeout spans at most `downtime` blocks. A validator marks period p during its timeout and
    ///   the pointer must then be out of downtime, so the hash it reads was chosen at least
    ///   `downtime` blocks earlier: before p ended. Hence a host is only ever marked against a
    ///   challenge it could read, and prove, during p.
    function _checkProofs(ProofConfig memory proofs) private pure {
        if (proofs.period == 0) revert Configuration_InvalidPeriod();
        if (proofs.timeout == 0 || proofs.timeout > proofs.period) revert Configuration_InvalidTimeout();
        if (proofs.downtimeProduct % 2 == 0) revert Configuration_InvalidDowntimeProduct();
        if (proofs.minBlockTimeMs == 0) revert Configuration_InvalidBlockTime();
        uint256 periodBlocks = _maxBlocksIn(proofs.period, proofs.minBlockTimeMs);
        uint256 limit = BLOCK_HASH_WINDOW - proofs.downtime;
        if (periodBlocks > limit) revert Configuration_PeriodExceedsBlockWindow(periodBlocks, limit);
        uint256 timeoutBlocks = _maxBlocksIn(proofs.timeout, proofs.minBlockTimeMs);
        if (timeoutBlocks > proofs.downtime) {
            revert Configuration_TimeoutExceedsDowntime(timeoutBlocks, proofs.downtime);
        }
    }

    function _checkReservations(SlotReservationsConfig memory reservations) private pure {
        if (reservations.maxReservations == 0 || reservations.maxReservations > MAX_RESERVATIONS) {
            revert Configuration_InvalidMaxReservations();
        }
        if (reservations.windowDoublings > ADDRESS_BITS) revert Configuration_InvalidWindowDoublings();
        if (reservations.windowExpansionPercentage > 100) revert Configuration_InvalidWindowExpansion();
    }

    /// @dev Most blocks whose timestamps fit in a window of `seconds_` seconds when consecutive
    /// blocks are at least `blockTimeMs` apart: ceil(seconds_ * 1000 / blockTimeMs).
    function _maxBlocksIn(uint256 seconds_, uint256 blockTimeMs) private pure returns (uint256) {
        return (seconds_ * 1000 + blockTimeMs - 1) / blockTimeMs;
    }
}
