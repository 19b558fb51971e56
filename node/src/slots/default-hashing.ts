/**
 * The node's Poseidon2 hashing: the fast library (node/src/poseidon2) behind the slot code's small
 * interface. Block roots use the library's batch call; tree layers are built from its keyed
 * compression (the library's MerkleTree keeps its layers private, and slot trees are persisted
 * whole), and tests check them against the library's own merkleRoot and proofs.
 */
import { BLOCK_SIZE } from "../blocks/constants.js";
import { HoldfastError, throwIfAborted } from "../errors.js";
import { blockTreeRoots, cellHashes, compress } from "../poseidon2/index.js";
import { CELL_SIZE, CELLS_PER_BLOCK } from "./geometry.js";
import type { BlockRootHasher, Poseidon2Trees } from "./hasher.js";
import { workerBlockRoots } from "./worker-block-roots.js";

const KEY_BOTTOM = 1;
const KEY_ODD = 2;

export const poseidon2Trees: Poseidon2Trees = {
  cellHashes: (block) => cellHashes(block, CELL_SIZE),
  merkleLayers(leaves) {
    if (leaves.length === 0)
      throw new HoldfastError("ERR_INVALID_ARGUMENT", "a Merkle tree needs at least one leaf");
    const layers: bigint[][] = [[...leaves]];
    for (let bottom = true; layers.at(-1)!.length > 1 || bottom; bottom = false) {
      const layer = layers.at(-1)!;
      const next: bigint[] = [];
      for (let i = 0; i < layer.length; i += 2) {
        const odd = i + 1 === layer.length;
        const key = ((bottom ? KEY_BOTTOM : 0) | (odd ? KEY_ODD : 0)) as 0 | 1 | 2 | 3;
        next.push(compress(layer[i]!, odd ? 0n : layer[i + 1]!, key));
      }
      layers.push(next);
    }
    return layers;
  },
};

/** Block roots through the library's batch interface, in the calling thread. */
export function blockRootsInThread(blocks: readonly Uint8Array[]): bigint[] {
  if (blocks.length === 0) return [];
  const data = new Uint8Array(blocks.length * BLOCK_SIZE);
  blocks.forEach((block, i) => data.set(block, i * BLOCK_SIZE));
  return blockTreeRoots(data, CELLS_PER_BLOCK, CELL_SIZE);
}

export const inThreadPoseidon2BlockRoots: BlockRootHasher = {
  async blockRoots(blocks, signal) {
    throwIfAborted(signal);
    return blockRootsInThread(blocks);
  },
  async close() {},
};

/**
 * The node's hashing: trees in the calling thread, block roots in a pool of worker threads (one
 * per core) unless `threads` is 0. The caller closes `roots` when done.
 */
export function defaultHashing(threads?: number): {
  trees: Poseidon2Trees;
  roots: BlockRootHasher;
} {
  const roots =
    threads === 0
      ? inThreadPoseidon2BlockRoots
      : workerBlockRoots(new URL(import.meta.url), threads);
  return { trees: poseidon2Trees, roots };
}
