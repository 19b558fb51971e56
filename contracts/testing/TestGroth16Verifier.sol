// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {G1Point, Groth16Proof, IGroth16Verifier} from "../verifier/IGroth16Verifier.sol";

/// @title TestGroth16Verifier
/// @notice A stand-in for the storage-proof verifier in tests that are not about the proof system.
/// Not for deployment. Because `verify` is a view (the marketplace calls it with STATICCALL), it
/// cannot record the inputs it is asked about; instead, in `BindInputs` mode a proof is valid only
/// for the public inputs it carries (a.x = entropy, a.y = dataSetRoot, c.x = slotIndex, see
/// `proofFor`), so a test proves that the marketplace computed exactly the inputs it expected.
contract TestGroth16Verifier is IGroth16Verifier {
    enum Mode {
        BindInputs, // valid iff the proof carries exactly the public inputs
        AcceptAll, // every proof is valid
        RejectAll // no proof is valid
    }

    /// @notice How `verify` answers.
    Mode public mode;

    /// @notice Sets how `verify` answers.
    /// @param mode_ the new mode
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @inheritdoc IGroth16Verifier
    function verify(Groth16Proof calldata proof, uint256[3] calldata pubSignals) external view returns (bool) {
        Mode current = mode;
        if (current == Mode.AcceptAll) return true;
        if (current == Mode.RejectAll) return false;
        return proof.a.x == pubSignals[0] && proof.a.y == pubSignals[1] && proof.c.x == pubSignals[2];
    }

    /// @notice The proof that `BindInputs` mode accepts for `pubSignals` and for nothing else.
    /// @param pubSignals entropy, dataSetRoot, slotIndex
    /// @return proof carrying them in a.x, a.y and c.x
    function proofFor(uint256[3] calldata pubSignals) external pure returns (Groth16Proof memory proof) {
        proof.a = G1Point(pubSignals[0], pubSignals[1]);
        proof.c = G1Point(pubSignals[2], 0);
    }
}
