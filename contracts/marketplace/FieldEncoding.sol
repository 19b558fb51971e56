// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title FieldEncoding
/// @notice How the marketplace turns on-chain bytes into the public inputs of a storage proof
/// (storage-proof spec, "Sampling" and "On chain"): the one implementation of these conversions.
/// Bytes are numbered from 0 at the left of a bytes32, as Solidity and the wire order do.
library FieldEncoding {
    /// @notice The order r of BN254's scalar field; public inputs must be below it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The entropy of a 32-byte challenge: bytes 0..30 read as a little-endian integer, so
    /// byte 0 is the least significant and byte 31 is dropped. Always below 2**248 < r.
    function challengeToEntropy(bytes32 challenge) internal pure returns (uint256) {
        // Clearing byte 31 before the swap drops it from the result.
        return uint256(reverseBytes(challenge & ~bytes32(uint256(0xff))));
    }

    /// @notice A dataset root stored as 32 bytes little-endian, read as an integer (byte 0 least
    /// significant). The caller decides what to do with values that are not below r.
    function merkleRootToField(bytes32 merkleRoot) internal pure returns (uint256) {
        return uint256(reverseBytes(merkleRoot));
    }

    /// @notice `value` with its 32 bytes in reverse order.
    /// @dev Swaps neighbours of growing width (bytes, 2-byte pairs, 4, 8, 16) in log2(32) steps.
    function reverseBytes(bytes32 value) internal pure returns (bytes32) {
        uint256 v = uint256(value);
        v =
            ((v & 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00) >> 8) |
            ((v & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff) << 8);
        v =
            ((v & 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000) >> 16) |
            ((v & 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff) << 16);
        v =
            ((v & 0xffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000) >> 32) |
            ((v & 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff) << 32);
        v =
            ((v & 0xffffffffffffffff0000000000000000ffffffffffffffff0000000000000000) >> 64) |
            ((v & 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff) << 64);
        v = (v >> 128) | (v << 128);
        return bytes32(v);
    }
}
