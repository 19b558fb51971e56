/**
 * What slot building needs from Poseidon2, as a small interface so the slot code does not depend
 * on how hashing is done (in this thread, in worker threads, or by the slow reference in tests).
 */
import { ZERO_BLOCK } from "../blocks/cid.js";
import { throwIfAborted } from "../errors.js";

export interface Poseidon2Trees {
  /** Poseidon2 hashes of the consecutive 2 KiB cells of a block (storage-proof spec). */
  cellHashes(block: Uint8Array): bigint[];
  /** Every layer of the keyed Poseidon2 Merkle tree over `leaves`, leaves first, root last. */
  merkleLayers(leaves: readonly bigint[]): bigint[][];
}

/** Block-tree roots of many blocks; the expensive step of slot building, so it may run in parallel. */
export interface BlockRootHasher {
  blockRoots(blocks: readonly Uint8Array[], signal?: AbortSignal): Promise<bigint[]>;
  close(): Promise<void>;
}

export function merkleRootOf(trees: Poseidon2Trees, leaves: readonly bigint[]): bigint {
  return trees.merkleLayers(leaves).at(-1)![0]!;
}

/** All layers of a block's tree: its 32 cell hashes up to the block root. */
export function blockTreeLayers(trees: Poseidon2Trees, block: Uint8Array): bigint[][] {
  return trees.merkleLayers(trees.cellHashes(block));
}

export function blockRoot(trees: Poseidon2Trees, block: Uint8Array): bigint {
  return merkleRootOf(trees, trees.cellHashes(block));
}

const zeroRoots = new WeakMap<Poseidon2Trees, bigint>();

/** The root of the all-zero block, which pads datasets and slots; computed once per hasher. */
export function zeroBlockRoot(trees: Poseidon2Trees): bigint {
  let root = zeroRoots.get(trees);
  if (root === undefined) {
    root = blockRoot(trees, ZERO_BLOCK);
    zeroRoots.set(trees, root);
  }
  return root;
}

/** Hashes in the calling thread. */
export function inThreadBlockRoots(trees: Poseidon2Trees): BlockRootHasher {
  return {
    async blockRoots(blocks, signal) {
      const roots: bigint[] = [];
      for (const block of blocks) {
        throwIfAborted(signal);
        roots.push(blockRoot(trees, block));
      }
      return roots;
    },
    async close() {},
  };
}

/** Siblings of leaf `index` from the bottom up, read off a tree's layers (0 where odd). */
export function pathFromLayers(layers: readonly (readonly bigint[])[], index: number): bigint[] {
  const path: bigint[] = [];
  let i = index;
  for (const layer of layers.slice(0, -1)) {
    path.push(layer[i ^ 1] ?? 0n);
    i >>= 1;
  }
  return path;
}
