// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title FalseReturningToken
/// @notice A non-conforming ERC-20 for tests: once `failing` is set, transfers return false instead of
/// reverting, as some deployed tokens do. Anyone may mint.
contract FalseReturningToken is ERC20 {
    /// @notice Whether transfers currently fail (by returning false).
    bool public failing;

    constructor() ERC20("False Returning Token", "FRT") {}

    /// @notice Mints `amount` to `to`.
    /// @param to receiver
    /// @param amount amount
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Makes transfers fail, or succeed again.
    /// @param failing_ whether they fail
    function setFailing(bool failing_) external {
        failing = failing_;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failing) return false;
        return super.transferFrom(from, to, value);
    }
}
