// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {Configuration} from "./Configuration.sol";

/// @notice A proof period: time cut into consecutive runs of `period` seconds, numbered from the Unix
/// epoch, so period p covers timestamps [p * period, (p + 1) * period).
type Period is uint64;

/// @title Periods
/// @notice Converts between timestamps and proof periods.
abstract contract Periods is Configuration {
    /// @notice The period the current block falls in.
    /// @return period the period of block.timestamp
    function currentPeriod() external view returns (Period period) {
        return _currentPeriod();
    }

    function _periodOf(uint256 timestamp) internal view returns (Period) {
        return Period.wrap(uint64(timestamp / _period));
    }

    function _currentPeriod() internal view returns (Period) {
        return _periodOf(block.timestamp);
    }

    /// @dev First timestamp after `period`.
    function _periodEnd(Period period) internal view returns (uint256) {
        return (uint256(Period.unwrap(period)) + 1) * _period;
    }
}
