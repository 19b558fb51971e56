// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title Payouts
/// @notice The money rules of a slot and a request over time: the one implementation of them.
/// Percentages are whole numbers out of 100 and every division rounds down.
/// @dev The accounting these rules serve: a request's escrow holds the client's payment plus every
/// host's collateral deposit, minus validator rewards. When a slot is filled at t the payment for
/// [t, end) and any repair reward move from the client's share to the slot; when its host is removed,
/// that payment and the host's remaining collateral move back. So at every moment escrow =
/// clientFunds + sum over filled slots of (payment(filledAt, end) + remaining collateral), and each
/// settlement below splits exactly that sum.
library Payouts {
    /// @notice Payment for holding a slot from `from` to `until` (timestamps, from <= until).
    function payment(uint256 pricePerSlotPerSecond, uint256 from, uint256 until) internal pure returns (uint256) {
        return (until - from) * pricePerSlotPerSecond;
    }

    /// @notice What one missed proof takes from a host's collateral.
    function slashAmount(uint256 collateralPerSlot, uint256 slashPercentage) internal pure returns (uint256) {
        return (collateralPerSlot * slashPercentage) / 100;
    }

    /// @notice The share of one slash owed to the validator that marked the proof missing.
    function validatorReward(uint256 slashed, uint256 validatorRewardPercentage) internal pure returns (uint256) {
        return (slashed * validatorRewardPercentage) / 100;
    }

    /// @notice The collateral discount of a host taking over a Repair slot. It is paid from the
    /// collateral the removed host left behind, which the configuration guarantees is enough.
    function repairReward(uint256 collateralPerSlot, uint256 repairRewardPercentage) internal pure returns (uint256) {
        return (collateralPerSlot * repairRewardPercentage) / 100;
    }

    /// @notice A host's collateral after `missedProofs` slashes. A repairing host starts from the full
    /// collateralPerSlot too, although it deposited less: the difference is its repair reward.
    function remainingCollateral(
        uint256 collateralPerSlot,
        uint256 slashPercentage,
        uint256 missedProofs
    ) internal pure returns (uint256) {
        return collateralPerSlot - missedProofs * slashAmount(collateralPerSlot, slashPercentage);
    }

    /// @notice What the host of a slot collects when its request has ended at `settledAt` (the end
    /// when Finished, the expiry when Cancelled, the moment of failure when Failed): payment from its
    /// fill until then, and its remaining collateral.
    function hostPayout(
        uint256 pricePerSlotPerSecond,
        uint256 filledAt,
        uint256 settledAt,
        uint256 collateralLeft
    ) internal pure returns (uint256) {
        return payment(pricePerSlotPerSecond, filledAt, settledAt) + collateralLeft;
    }

    /// @notice What the client collects when its request has ended at `settledAt`: its share, plus the
    /// payment between `settledAt` and the end reserved for each slot still filled, which no host earned.
    function clientRefund(
        uint256 clientFunds,
        uint256 slotsFilled,
        uint256 pricePerSlotPerSecond,
        uint256 settledAt,
        uint256 endsAt
    ) internal pure returns (uint256) {
        return clientFunds + slotsFilled * payment(pricePerSlotPerSecond, settledAt, endsAt);
    }
}
