/**
 * The node's Poseidon2 hashing. TEMPORARY: the fast library (node/src/poseidon2) has not landed on
 * main yet; until it does, protecting a dataset reports that hashing is unavailable.
 */
import { HoldfastError } from "../errors.js";
import type { BlockRootHasher, Poseidon2Trees } from "./hasher.js";

export function defaultHashing(): { trees: Poseidon2Trees; roots: BlockRootHasher } {
  const unavailable = (): never => {
    throw new HoldfastError(
      "ERR_INVALID_ARGUMENT",
      "Poseidon2 hashing is not available in this build",
    );
  };
  return {
    trees: { cellHashes: unavailable, merkleLayers: unavailable },
    roots: { blockRoots: async () => unavailable(), close: async () => {} },
  };
}
