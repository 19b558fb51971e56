// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {FieldEncoding} from "../marketplace/FieldEncoding.sol";

/// @title FieldEncodingHarness
/// @notice Exposes the FieldEncoding library to tests (Solidity and TypeScript) that pin its byte order.
contract FieldEncodingHarness {
    /// @notice FieldEncoding.challengeToEntropy
    /// @param challenge a 32-byte challenge
    /// @return entropy bytes 0..30 little-endian
    function challengeToEntropy(bytes32 challenge) external pure returns (uint256) {
        return FieldEncoding.challengeToEntropy(challenge);
    }

    /// @notice FieldEncoding.merkleRootToField
    /// @param merkleRoot 32 bytes little-endian
    /// @return value the integer they encode
    function merkleRootToField(bytes32 merkleRoot) external pure returns (uint256) {
        return FieldEncoding.merkleRootToField(merkleRoot);
    }

    /// @notice FieldEncoding.reverseBytes
    /// @param value any 32 bytes
    /// @return reversed the same bytes in reverse order
    function reverseBytes(bytes32 value) external pure returns (bytes32) {
        return FieldEncoding.reverseBytes(value);
    }
}
