// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title TestToken
/// @notice The ERC-20 the marketplace is paid in on local and test networks. Not for production:
/// its owner mints at will and, where the faucet is enabled, anyone can draw a small amount.
contract TestToken is ERC20, Ownable {
    /// @notice Largest amount one faucet call hands out, in the token's smallest unit.
    uint256 public immutable faucetLimit;

    /// @notice A faucet call asked for more than `faucetLimit`.
    /// @param requested the amount asked for
    /// @param limit the largest amount one call hands out
    error TestToken_FaucetLimitExceeded(uint256 requested, uint256 limit);

    /// @notice The faucet is disabled on this deployment (faucetLimit is zero).
    error TestToken_FaucetDisabled();

    /// @param initialOwner account allowed to mint without limit
    /// @param faucetLimit_ largest amount one `faucet` call may mint; 0 disables the faucet
    constructor(address initialOwner, uint256 faucetLimit_) ERC20("Holdfast Test Token", "HFT") Ownable(initialOwner) {
        faucetLimit = faucetLimit_;
    }

    /// @notice Mints `amount` tokens to `to`. Only the owner may call it.
    /// @param to receiver of the new tokens
    /// @param amount amount to mint, in the token's smallest unit
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /// @notice Mints up to `faucetLimit` tokens to the caller; for local and test networks.
    /// @dev Reverts with TestToken_FaucetDisabled when faucetLimit is zero and with
    /// TestToken_FaucetLimitExceeded when `amount` is above it.
    /// @param amount amount to mint, in the token's smallest unit
    function faucet(uint256 amount) external {
        if (faucetLimit == 0) revert TestToken_FaucetDisabled();
        if (amount > faucetLimit) revert TestToken_FaucetLimitExceeded(amount, faucetLimit);
        _mint(msg.sender, amount);
    }
}
