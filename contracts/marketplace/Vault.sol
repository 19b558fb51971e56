// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
// OpenZeppelin 5's storage-based guard, not ReentrancyGuardTransient: Taiko runs the Shanghai rules
// and has no TSTORE.
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title Vault
/// @notice Moves the marketplace's tokens. Tokens come in only from the caller (`_pull`) and go out
/// only to the caller (`_push`): every party collects its own money (pull payments), so no one can
/// block another's payout. Validator rewards are credited here and withdrawn by the validator.
/// @dev The token must move exactly the amounts asked: tokens that charge fees on transfer or
/// rebase would break the accounting and are not supported.
abstract contract Vault is ReentrancyGuard {
    using SafeERC20 for IERC20;

    IERC20 internal immutable _token;

    /// @dev Rewards owed to validators for marking missing proofs, collected with withdrawValidatorReward.
    mapping(address validator => uint256 amount) private _validatorRewards;

    /// @notice The token address holds no code.
    error Vault_InvalidToken();
    /// @notice The caller is owed no validator reward.
    error Vault_NoValidatorReward();

    /// @notice `validator` collected `amount` of validator rewards.
    // solhint-disable-next-line gas-indexed-events
    event ValidatorRewardWithdrawn(address indexed validator, uint256 amount);

    /// @param token_ the ERC-20 everything is paid in
    constructor(IERC20 token_) {
        if (address(token_).code.length == 0) revert Vault_InvalidToken();
        _token = token_;
    }

    /// @notice The ERC-20 the marketplace is paid in.
    /// @return the token
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice Validator rewards `validator` has earned and not yet withdrawn.
    /// @param validator the account that marked proofs missing
    /// @return amount in the token's smallest unit
    function validatorReward(address validator) external view returns (uint256 amount) {
        return _validatorRewards[validator];
    }

    /// @notice Sends the caller every validator reward it is owed. Reverts with
    /// Vault_NoValidatorReward when that is nothing.
    function withdrawValidatorReward() external nonReentrant {
        uint256 amount = _validatorRewards[msg.sender];
        if (amount == 0) revert Vault_NoValidatorReward();
        _validatorRewards[msg.sender] = 0;
        emit ValidatorRewardWithdrawn(msg.sender, amount);
        _push(amount);
    }

    function _creditValidator(address validator, uint256 amount) internal {
        _validatorRewards[validator] += amount;
    }

    /// @dev Takes `amount` from the caller, who must have approved it. Call last (interactions).
    function _pull(uint256 amount) internal {
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Sends `amount` to the caller. Call last (interactions).
    function _push(uint256 amount) internal {
        _token.safeTransfer(msg.sender, amount);
    }
}
