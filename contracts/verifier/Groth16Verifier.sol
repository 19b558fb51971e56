// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {G1Point, G2Point, Groth16Proof, IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @notice A Groth16 verification key for exactly three public inputs, as a trusted setup produced it.
/// @dev Fp2 coordinates are Fp2Element{real, imag}, which is snarkjs's [c0, c1] order; the EVM pairing
/// precompile wants (imag, real), and Groth16Verifier._writeG2 is the one place that swaps them.
/// node/src/proof/groth16-encoding.ts builds this struct from snarkjs's verification_key.json.
struct Groth16VerificationKey {
    G1Point alpha1;
    G2Point beta2;
    G2Point gamma2;
    G2Point delta2;
    /// @dev The public-input point is ic[0] + pubSignals[0] * ic[1] + pubSignals[1] * ic[2] + pubSignals[2] * ic[3].
    G1Point[4] ic;
}

/// @title Groth16Verifier
/// @notice Verifies Groth16 proofs over BN254 with three public inputs (entropy, dataSetRoot, slotIndex)
/// against the verification key given at deployment, so that a new trusted setup needs a new deployment
/// but no new Solidity.
/// @dev The key lives in immutables (in the code, read for 3 gas each), not in storage (a cold SLOAD is
/// 2,100 gas: about 48k per verification for 22 words). Verification is the usual product of pairings
/// e(-A, B) * e(alpha1, beta2) * e(L, gamma2) * e(C, delta2) == 1, with L the public-input point, computed
/// with the ecAdd (0x06), ecMul (0x07) and ecPairing (0x08) precompiles under Shanghai rules.
/// `verify` never reverts on a bad proof: it returns false, and checks up front what is cheap to check
/// (field ranges, A and C on the curve) so that most malformed proofs fail before any precompile. Only an
/// invalid B (off the twist or outside the order-r subgroup) is left to the pairing precompile, whose
/// failure consumes the gas forwarded to it (63/64 of what remains); `verify` still returns false.
contract Groth16Verifier is IGroth16Verifier {
    /// @notice The points of a verification key, to say which one a constructor error is about.
    enum KeyPoint {
        Alpha1,
        Beta2,
        Gamma2,
        Delta2,
        IC0,
        IC1,
        IC2,
        IC3
    }

    /// @dev BN254's base field modulus q: every point coordinate is an element of Fp (or Fp2 over it).
    uint256 private constant _Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev BN254's scalar field modulus r, the order of G1 and G2: public inputs are elements of Fr.
    uint256 private constant _R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev b' = 3 / (9 + i): G2 lies on the twist y^2 = x^3 + b' over Fp2 (EIP-197), real part.
    uint256 private constant _TWIST_B_REAL =
        19485874751759354771024239261021720505790618469301721065564631296452457478373;
    /// @dev Imaginary part of b'.
    uint256 private constant _TWIST_B_IMAG =
        266929791119991161246907387137283842545076965332900288569378510910307636690;

    /// @dev Precompile addresses (EIP-196, EIP-197).
    uint256 private constant _EC_ADD = 0x06;
    uint256 private constant _EC_MUL = 0x07;
    uint256 private constant _EC_PAIRING = 0x08;
    /// @dev One (G1, G2) pair in the pairing precompile's input: 6 words.
    uint256 private constant _PAIR_BYTES = 192;

    // The verification key, one word per immutable (an immutable cannot be a struct or an array), Fp2
    // coordinates as real and imaginary parts. Set once by the constructor, read back by verificationKey().
    uint256 private immutable _alpha1X;
    uint256 private immutable _alpha1Y;
    uint256 private immutable _beta2XReal;
    uint256 private immutable _beta2XImag;
    uint256 private immutable _beta2YReal;
    uint256 private immutable _beta2YImag;
    uint256 private immutable _gamma2XReal;
    uint256 private immutable _gamma2XImag;
    uint256 private immutable _gamma2YReal;
    uint256 private immutable _gamma2YImag;
    uint256 private immutable _delta2XReal;
    uint256 private immutable _delta2XImag;
    uint256 private immutable _delta2YReal;
    uint256 private immutable _delta2YImag;
    uint256 private immutable _ic0X;
    uint256 private immutable _ic0Y;
    uint256 private immutable _ic1X;
    uint256 private immutable _ic1Y;
    uint256 private immutable _ic2X;
    uint256 private immutable _ic2Y;
    uint256 private immutable _ic3X;
    uint256 private immutable _ic3Y;

    /// @notice A coordinate of a verification-key point is not below q (not a canonical Fp element).
    /// @param point the point the coordinate belongs to
    error Groth16Verifier_KeyCoordinateNotInField(KeyPoint point);

    /// @notice A verification-key point is not on its curve (y^2 = x^3 + 3 for G1, y^2 = x^3 + b' for G2).
    /// The point at infinity, (0, 0), is not accepted either: no honest setup produces it.
    /// @param point the point
    error Groth16Verifier_KeyPointNotOnCurve(KeyPoint point);

    /// @notice A G2 point of the verification key is on the twist but outside its order-r subgroup (the
    /// pairing precompile refused it).
    /// @param point the point
    error Groth16Verifier_KeyPointNotInSubgroup(KeyPoint point);

    /// @notice Checks and holds `vk`.
    /// @dev Reverts with Groth16Verifier_KeyCoordinateNotInField, Groth16Verifier_KeyPointNotOnCurve or
    /// Groth16Verifier_KeyPointNotInSubgroup, naming the first bad point. The subgroup check costs three
    /// pairing-precompile calls (about 237k gas), once, at deployment.
    /// @param vk the verification key, Fp2 coordinates as {real, imag}
    constructor(Groth16VerificationKey memory vk) {
        _requireG1(vk.alpha1, KeyPoint.Alpha1);
        _requireG2(vk.beta2, KeyPoint.Beta2);
        _requireG2(vk.gamma2, KeyPoint.Gamma2);
        _requireG2(vk.delta2, KeyPoint.Delta2);
        _requireG1(vk.ic[0], KeyPoint.IC0);
        _requireG1(vk.ic[1], KeyPoint.IC1);
        _requireG1(vk.ic[2], KeyPoint.IC2);
        _requireG1(vk.ic[3], KeyPoint.IC3);

        _alpha1X = vk.alpha1.x;
        _alpha1Y = vk.alpha1.y;
        _beta2XReal = vk.beta2.x.real;
        _beta2XImag = vk.beta2.x.imag;
        _beta2YReal = vk.beta2.y.real;
        _beta2YImag = vk.beta2.y.imag;
        _gamma2XReal = vk.gamma2.x.real;
        _gamma2XImag = vk.gamma2.x.imag;
        _gamma2YReal = vk.gamma2.y.real;
        _gamma2YImag = vk.gamma2.y.imag;
        _delta2XReal = vk.delta2.x.real;
        _delta2XImag = vk.delta2.x.imag;
        _delta2YReal = vk.delta2.y.real;
        _delta2YImag = vk.delta2.y.imag;
        _ic0X = vk.ic[0].x;
        _ic0Y = vk.ic[0].y;
        _ic1X = vk.ic[1].x;
        _ic1Y = vk.ic[1].y;
        _ic2X = vk.ic[2].x;
        _ic2Y = vk.ic[2].y;
        _ic3X = vk.ic[3].x;
        _ic3Y = vk.ic[3].y;
    }

    /// @inheritdoc IGroth16Verifier
    /// @dev False, without calling a precompile, when a public input is >= r, a coordinate of A, B or C
    /// is >= q, A or C is off the curve (which includes the point at infinity), or B is the point at
    /// infinity; false when the pairing precompile fails (B off the twist or outside the subgroup) or the
    /// pairing product is not the identity.
    function verify(Groth16Proof calldata proof, uint256[3] calldata pubSignals) external view returns (bool valid) {
        // ecMul would reduce a scalar mod r, so x and x + r would both pass: only canonical inputs count.
        if (!(pubSignals[0] < _R && pubSignals[1] < _R && pubSignals[2] < _R)) return false;
        if (!_isOnG1(proof.a.x, proof.a.y) || !_isOnG1(proof.c.x, proof.c.y)) return false;
        if (!_isFiniteFp2Pair(proof.b)) return false;

        (bool ok, uint256 lX, uint256 lY) = _publicInputPoint(pubSignals);
        if (!ok) return false;

        uint256[24] memory input;
        // e(-A, B). A is on the curve and finite, so 0 < a.y < q (G1 has odd order: no point has y = 0).
        input[0] = proof.a.x;
        input[1] = _Q - proof.a.y;
        _writeG2(input, 2, proof.b.x.real, proof.b.x.imag, proof.b.y.real, proof.b.y.imag);
        // e(alpha1, beta2)
        input[6] = _alpha1X;
        input[7] = _alpha1Y;
        _writeG2(input, 8, _beta2XReal, _beta2XImag, _beta2YReal, _beta2YImag);
        // e(L, gamma2)
        input[12] = lX;
        input[13] = lY;
        _writeG2(input, 14, _gamma2XReal, _gamma2XImag, _gamma2YReal, _gamma2YImag);
        // e(C, delta2)
        input[18] = proof.c.x;
        input[19] = proof.c.y;
        _writeG2(input, 20, _delta2XReal, _delta2XImag, _delta2YReal, _delta2YImag);

        // isOne is false whenever the precompile failed.
        (, valid) = _pairing(input, 4);
    }

    /// @notice The verification key this verifier was deployed with, as given to the constructor.
    /// @return vk the key, Fp2 coordinates as {real, imag}
    function verificationKey() external view returns (Groth16VerificationKey memory vk) {
        vk.alpha1 = G1Point(_alpha1X, _alpha1Y);
        vk.beta2.x.real = _beta2XReal;
        vk.beta2.x.imag = _beta2XImag;
        vk.beta2.y.real = _beta2YReal;
        vk.beta2.y.imag = _beta2YImag;
        vk.gamma2.x.real = _gamma2XReal;
        vk.gamma2.x.imag = _gamma2XImag;
        vk.gamma2.y.real = _gamma2YReal;
        vk.gamma2.y.imag = _gamma2YImag;
        vk.delta2.x.real = _delta2XReal;
        vk.delta2.x.imag = _delta2XImag;
        vk.delta2.y.real = _delta2YReal;
        vk.delta2.y.imag = _delta2YImag;
        vk.ic[0] = G1Point(_ic0X, _ic0Y);
        vk.ic[1] = G1Point(_ic1X, _ic1Y);
        vk.ic[2] = G1Point(_ic2X, _ic2Y);
        vk.ic[3] = G1Point(_ic3X, _ic3Y);
    }

    /// @dev ic[0] + s[0] * ic[1] + s[1] * ic[2] + s[2] * ic[3]. The key's points are valid and the scalars
    /// below r, so the precompiles only fail when gas runs out; that is reported as !ok all the same.
    function _publicInputPoint(uint256[3] calldata s) private view returns (bool ok, uint256 x, uint256 y) {
        // Words 0-1: the running sum; words 2-4: the next ecMul input, whose result lands in words 2-3,
        // so that words 0-3 are then the ecAdd input.
        uint256[5] memory buffer;
        buffer[0] = _ic0X;
        buffer[1] = _ic0Y;
        ok =
            _addMultiple(buffer, _ic1X, _ic1Y, s[0]) &&
            _addMultiple(buffer, _ic2X, _ic2Y, s[1]) &&
            _addMultiple(buffer, _ic3X, _ic3Y, s[2]);
        (x, y) = (buffer[0], buffer[1]);
    }

    /// @dev buffer[0..1] += scalar * (px, py), with one ecMul and one ecAdd call.
    function _addMultiple(
        uint256[5] memory buffer,
        uint256 px,
        uint256 py,
        uint256 scalar
    ) private view returns (bool ok) {
        buffer[2] = px;
        buffer[3] = py;
        buffer[4] = scalar;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let term := add(buffer, 0x40)
            ok := staticcall(gas(), _EC_MUL, term, 0x60, term, 0x40)
            if ok {
                ok := staticcall(gas(), _EC_ADD, buffer, 0x80, buffer, 0x40)
            }
        }
    }

    /// @dev Calls the pairing precompile on the first `pairs` pairs of `input`. `success` is false when
    /// the precompile refused the input (a point off its curve or, for G2, outside the subgroup);
    /// `isOne` is whether the product of the pairings is the identity.
    function _pairing(uint256[24] memory input, uint256 pairs) private view returns (bool success, bool isOne) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // The result goes to scratch space (0x00), which Solidity lets inline assembly use.
            success := staticcall(gas(), _EC_PAIRING, input, mul(pairs, _PAIR_BYTES), 0x00, 0x20)
            success := and(success, eq(returndatasize(), 0x20))
            isOne := and(success, eq(mload(0x00), 1))
        }
    }

    /// @dev Writes a G2 point into input[offset..offset + 3] in the order the pairing precompile reads it:
    /// x.imag, x.real, y.imag, y.real (EIP-197). The only place where the Fp2 halves are swapped.
    /// Callers pass constant offsets with offset + 4 <= 24; assembly because Solidity's index checks on
    /// a variable offset cost about 1,500 gas per verification.
    function _writeG2(
        uint256[24] memory input,
        uint256 offset,
        uint256 xReal,
        uint256 xImag,
        uint256 yReal,
        uint256 yImag
    ) private pure {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let p := add(input, shl(5, offset))
            mstore(p, xImag)
            mstore(add(p, 0x20), xReal)
            mstore(add(p, 0x40), yImag)
            mstore(add(p, 0x60), yReal)
        }
    }

    /// @dev Whether (x, y) is a finite point of G1: canonical coordinates with y^2 = x^3 + 3 mod q. G1 is
    /// the whole curve over Fp (cofactor 1), so no subgroup check is needed. (0, 0), which the precompiles
    /// read as the point at infinity, is not on the curve and so is refused.
    function _isOnG1(uint256 x, uint256 y) private pure returns (bool) {
        if (!(x < _Q && y < _Q)) return false;
        return mulmod(y, y, _Q) == addmod(mulmod(mulmod(x, x, _Q), x, _Q), 3, _Q);
    }

    /// @dev Whether the four coordinates of `p` are canonical Fp elements and not all zero (the point at
    /// infinity, which an honest prover produces with negligible probability). Curve and subgroup
    /// membership are left to the pairing precompile.
    function _isFiniteFp2Pair(G2Point calldata p) private pure returns (bool) {
        uint256 xr = p.x.real;
        uint256 xi = p.x.imag;
        uint256 yr = p.y.real;
        uint256 yi = p.y.imag;
        return xr < _Q && xi < _Q && yr < _Q && yi < _Q && (xr | xi | yr | yi) != 0;
    }

    /// @dev Reverts unless `p` is a finite point of G1.
    function _requireG1(G1Point memory p, KeyPoint which) private pure {
        if (!(p.x < _Q && p.y < _Q)) revert Groth16Verifier_KeyCoordinateNotInField(which);
        if (!_isOnG1(p.x, p.y)) revert Groth16Verifier_KeyPointNotOnCurve(which);
    }

    /// @dev Reverts unless `p` is a finite point of G2: canonical coordinates, on the twist, and in the
    /// order-r subgroup. The last is the pairing precompile's own check, run on the pair (G1 generator, p).
    function _requireG2(G2Point memory p, KeyPoint which) private view {
        if (!(p.x.real < _Q && p.x.imag < _Q && p.y.real < _Q && p.y.imag < _Q)) {
            revert Groth16Verifier_KeyCoordinateNotInField(which);
        }
        (uint256 y2Real, uint256 y2Imag) = _fp2Mul(p.y.real, p.y.imag, p.y.real, p.y.imag);
        (uint256 x2Real, uint256 x2Imag) = _fp2Mul(p.x.real, p.x.imag, p.x.real, p.x.imag);
        (uint256 x3Real, uint256 x3Imag) = _fp2Mul(x2Real, x2Imag, p.x.real, p.x.imag);
        if (y2Real != addmod(x3Real, _TWIST_B_REAL, _Q) || y2Imag != addmod(x3Imag, _TWIST_B_IMAG, _Q)) {
            revert Groth16Verifier_KeyPointNotOnCurve(which);
        }
        uint256[24] memory input;
        // A finite G1 point, so that no precompile implementation can skip the pair unchecked.
        input[0] = 1;
        input[1] = 2;
        _writeG2(input, 2, p.x.real, p.x.imag, p.y.real, p.y.imag);
        (bool success, ) = _pairing(input, 1);
        if (!success) revert Groth16Verifier_KeyPointNotInSubgroup(which);
    }

    /// @dev (aReal + aImag i) * (bReal + bImag i) in Fp2 = Fp[i] / (i^2 + 1); inputs below q.
    function _fp2Mul(
        uint256 aReal,
        uint256 aImag,
        uint256 bReal,
        uint256 bImag
    ) private pure returns (uint256 real, uint256 imag) {
        real = addmod(mulmod(aReal, bReal, _Q), _Q - mulmod(aImag, bImag, _Q), _Q);
        imag = addmod(mulmod(aReal, bImag, _Q), mulmod(aImag, bReal, _Q), _Q);
    }
}
