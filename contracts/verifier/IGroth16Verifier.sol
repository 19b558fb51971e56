// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @notice A point on BN254's G1, affine coordinates.
struct G1Point {
    uint256 x;
    uint256 y;
}

/// @notice An element of Fp2 = Fp[i]/(i^2 + 1): real + imag * i.
struct Fp2Element {
    uint256 real;
    uint256 imag;
}

/// @notice A point on BN254's G2 (over Fp2), affine coordinates.
struct G2Point {
    Fp2Element x;
    Fp2Element y;
}

/// @notice A Groth16 proof as snarkjs produces it (pi_a, pi_b, pi_c), coordinates taken as they are.
struct Groth16Proof {
    G1Point a;
    G2Point b;
    G1Point c;
}

/// @title IGroth16Verifier
/// @notice Checks Groth16 storage proofs over BN254 with the three public inputs of the storage-proof
/// statement, in this order: entropy, dataSetRoot, slotIndex.
interface IGroth16Verifier {
    /// @notice True when `proof` is valid for `pubSignals` under the verification key this verifier
    /// was deployed with. Never reverts on a bad proof: inputs >= r, points off the curve and failed
    /// pairings all give false.
    /// @param proof the proof
    /// @param pubSignals entropy, dataSetRoot and slotIndex as field elements
    /// @return valid whether the proof checks
    function verify(Groth16Proof calldata proof, uint256[3] calldata pubSignals) external view returns (bool valid);
}
