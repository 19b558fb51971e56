// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {Groth16Proof, IGroth16Verifier} from "../verifier/IGroth16Verifier.sol";

/// @title VerifierGasMeter
/// @notice Measures the gas a verifier's `verify` costs when called from a contract, as the
/// marketplace calls it; for benchmarks, through eth_call.
contract VerifierGasMeter {
    /// @notice Gas of two consecutive `verify` calls: the first pays for touching the verifier's
    /// account (cold), the second does not (warm).
    /// @param verifier the verifier to measure
    /// @param proof the proof to check
    /// @param pubSignals its public inputs
    /// @return cold gas of the first call, including the cold account access
    /// @return warm gas of the second call
    /// @return valid the verifier's answer
    function measure(
        IGroth16Verifier verifier,
        Groth16Proof calldata proof,
        uint256[3] calldata pubSignals
    ) external view returns (uint256 cold, uint256 warm, bool valid) {
        uint256 start = gasleft();
        verifier.verify(proof, pubSignals);
        uint256 middle = gasleft();
        valid = verifier.verify(proof, pubSignals);
        uint256 end = gasleft();
        cold = start - middle;
        warm = middle - end;
    }
}
