import { FIELD_MODULUS } from "../poseidon2/field.js";

/**
 * The two moduli of BN254 (alt_bn128, snarkjs's "bn128"), the curve of the EVM precompiles (EIP-196,
 * EIP-197) and of Holdfast's Groth16 proofs.
 */

/** q: the base field Fp, in which curve point coordinates live. */
export const BN254_BASE_MODULUS =
  21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/**
 * r: the scalar field Fr (the order of G1 and G2), in which circuit signals and public inputs live.
 * Poseidon2 works in the same field; its module holds the one definition.
 */
export const BN254_SCALAR_MODULUS = FIELD_MODULUS;
