/**
 * Poseidon2 over BN254 (t = 3) and the Codex storage-proof constructions built on it: the sponge,
 * bytes to field elements, cell hashes, keyed Merkle trees and challenge sampling, exactly as
 * shared/spec/storage-proof.md defines them. Published as `holdfast/poseidon2`.
 *
 * The arithmetic runs in a WebAssembly kernel generated at load time (see wasm/); every function
 * here validates its inputs and throws a Poseidon2Error for anything outside the field or the
 * allowed shapes.
 */
export { Poseidon2Error, type Poseidon2ErrorCode } from "./errors.js";
export { FIELD_MODULUS, ELEMENT_BYTES, toBytesLE, fromBytesLE } from "./field.js";
export { permute, compress, type State, type CompressionKey } from "./permutation.js";
export {
  sponge,
  bytesToElements,
  cellHash,
  cellHashes,
  cellHashesPacked,
  CELL_SIZE,
} from "./sponge.js";
export {
  merkleRoot,
  merkleDepth,
  MerkleTree,
  verifyMerkleProof,
  blockTreeRoots,
  CELLS_PER_BLOCK,
} from "./merkle.js";
export { sampleCellIndices } from "./sampling.js";
