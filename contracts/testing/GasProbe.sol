// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title GasProbe
/// @notice Test and benchmark helper, not for production networks: makes a static call from inside a
/// transaction and records the gas it took, so that a view function's cost as another contract pays it
/// can be read from a transaction (its event and receipt) rather than only from eth_estimateGas.
contract GasProbe {
    /// @notice One measured call.
    /// @param target the contract called
    /// @param success whether the call returned without reverting
    /// @param gasUsed gas the STATICCALL took, with the account access (2,600 gas when cold) and the
    /// copy of its return data
    /// @param returnData what it returned
    event Measured(address indexed target, bool indexed success, uint256 indexed gasUsed, bytes returnData);

    /// @notice Static-calls `target` with `data` and emits Measured with the gas the call took.
    /// @param target the contract to call
    /// @param data the call data (selector and arguments)
    /// @return success whether the call returned without reverting
    /// @return returnData what it returned
    /// @return gasUsed gas the STATICCALL took
    function measure(
        address target,
        bytes calldata data
    ) external returns (bool success, bytes memory returnData, uint256 gasUsed) {
        uint256 before = gasleft();
        // solhint-disable-next-line avoid-low-level-calls
        (success, returnData) = target.staticcall(data);
        gasUsed = before - gasleft();
        emit Measured(target, success, gasUsed, returnData);
    }
}
