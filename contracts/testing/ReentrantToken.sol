// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice A hostile ERC-20 for tests: once armed, its next transfer calls back into a target (the
/// marketplace) with a chosen payload and records whether that re-entry succeeded. Anyone may mint.
contract ReentrantToken is ERC20 {
    address private _target;
    bytes private _payload;

    /// @notice Whether the armed re-entry ran, and how it ended.
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryResult;

    constructor() ERC20("Reentrant Test Token", "RTT") {}

    /// @notice Mints `amount` to `to`.
    /// @param to receiver
    /// @param amount amount
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes the next transfer call `target` with `payload`.
    /// @param target the contract to re-enter
    /// @param payload the call data
    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
        reentered = false;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = _target;
        if (target != address(0)) {
            _target = address(0);
            reentered = true;
            // solhint-disable-next-line avoid-low-level-calls
            (reentrySucceeded, reentryResult) = target.call(_payload);
        }
    }
}
