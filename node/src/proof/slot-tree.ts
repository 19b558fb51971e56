/**
 * A slot's stacked Merkle tree (shared/spec/storage-proof.md, "Three stacked trees"): a block tree
 * over the 32 cell hashes of each 64 KiB network block, and the slot tree over the block roots,
 * padded with all-zero blocks to a power-of-two number of blocks (so of cells). A host keeps the slot
 * tree (one root per block); a block tree is rebuilt from the block's bytes when one of its cells is
 * sampled.
 */
import {
  CELLS_PER_BLOCK,
  CELL_SIZE,
  MerkleTree,
  blockTreeRoots,
  cellHashes,
} from "../poseidon2/index.js";
import { StorageProofError } from "./errors.js";

/** A 64 KiB network block. */
export const BLOCK_BYTES = CELLS_PER_BLOCK * CELL_SIZE;

/** Where the prover reads a slot's data from: the slot's blocks in order, 64 KiB each. */
export interface SlotBlockStore {
  /** Blocks the slot holds, before the padding to a power of two (which the store need not hold). */
  readonly blockCount: number;
  /** Block `index` of the slot (0 <= index < blockCount), exactly BLOCK_BYTES long. */
  readBlock(index: number, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
}

/** A store over a slot held in memory; its length must be a whole number of blocks. */
export function blockStoreFromBytes(data: Uint8Array): SlotBlockStore {
  if (data.length === 0 || data.length % BLOCK_BYTES !== 0) {
    throw new StorageProofError(
      "BAD_BLOCK",
      `slot data must be a positive multiple of ${BLOCK_BYTES} bytes, got ${data.length}`,
    );
  }
  return {
    blockCount: data.length / BLOCK_BYTES,
    readBlock: (index) => {
      if (!Number.isSafeInteger(index) || index < 0 || index * BLOCK_BYTES >= data.length) {
        return Promise.reject(new StorageProofError("BAD_BLOCK", `no block ${index} in the slot`));
      }
      return Promise.resolve(data.subarray(index * BLOCK_BYTES, (index + 1) * BLOCK_BYTES));
    },
  };
}

let zeroBlockRoot: bigint | undefined;

/** The block-tree root of an all-zero block, the leaf of every padding block. */
export function emptyBlockRoot(): bigint {
  zeroBlockRoot ??= blockTreeRoots(new Uint8Array(BLOCK_BYTES))[0]!;
  return zeroBlockRoot;
}

/** Blocks read and hashed per step while building a slot tree (1 MiB). */
const BLOCKS_PER_STEP = 16;

export class SlotTree {
  private readonly tree: MerkleTree;

  /**
   * The tree over the roots of a slot's blocks, in order. `blockRoots` holds the slot's own blocks;
   * the tree pads them with the empty block's root to the next power of two.
   */
  constructor(blockRoots: readonly bigint[]) {
    if (blockRoots.length === 0) {
      throw new StorageProofError("TOO_LARGE", "a slot holds at least one block");
    }
    this.blockCount = blockRoots.length;
    let padded = 1;
    while (padded < blockRoots.length) padded *= 2;
    this.tree = new MerkleTree([
      ...blockRoots,
      ...new Array<bigint>(padded - blockRoots.length).fill(emptyBlockRoot()),
    ]);
  }

  /** Reads every block of the store once and builds its slot tree. */
  static async build(store: SlotBlockStore, options: { signal?: AbortSignal } = {}) {
    const roots: bigint[] = [];
    for (let first = 0; first < store.blockCount; first += BLOCKS_PER_STEP) {
      const count = Math.min(BLOCKS_PER_STEP, store.blockCount - first);
      const data = new Uint8Array(count * BLOCK_BYTES);
      for (let i = 0; i < count; i++) {
        options.signal?.throwIfAborted();
        data.set(await readBlock(store, first + i, options.signal), i * BLOCK_BYTES);
      }
      roots.push(...blockTreeRoots(data));
    }
    return new SlotTree(roots);
  }

  /** Blocks of data in the slot (without the padding). */
  readonly blockCount: number;

  /** The slot root: the dataset tree's leaf for this slot. */
  get root(): bigint {
    return this.tree.root;
  }

  /** Cells in the padded slot: nCellsPerSlot, a power of two. */
  get cellCount(): number {
    return this.tree.leafCount * CELLS_PER_BLOCK;
  }

  /** Siblings of block `index` in the slot tree, from the bottom up. */
  blockProof(index: number): bigint[] {
    return this.tree.proof(index);
  }

  /** The root of block `index` (a padding block's is the empty block's). */
  blockRoot(index: number): bigint {
    return this.tree.leaf(index);
  }
}

/**
 * A cell of the slot and its full path in the stacked tree: the block-tree siblings, then the
 * slot-tree siblings. The block is read from the store (a padding block is all zeros) and checked
 * against the slot tree, so a store that lost or changed data fails here with a clear error rather
 * than in the witness.
 */
export async function readCellWithPath(
  store: SlotBlockStore,
  tree: SlotTree,
  cellIndex: number,
  signal?: AbortSignal,
): Promise<{ cell: Uint8Array; path: bigint[] }> {
  if (!Number.isSafeInteger(cellIndex) || cellIndex < 0 || cellIndex >= tree.cellCount) {
    throw new StorageProofError("BAD_BLOCK", `no cell ${cellIndex} in a slot of ${tree.cellCount}`);
  }
  const blockIndex = Math.floor(cellIndex / CELLS_PER_BLOCK);
  const block =
    blockIndex < tree.blockCount
      ? await readBlock(store, blockIndex, signal)
      : new Uint8Array(BLOCK_BYTES);
  const blockTree = new MerkleTree(cellHashes(block));
  if (blockTree.root !== tree.blockRoot(blockIndex)) {
    throw new StorageProofError(
      "BAD_BLOCK",
      `block ${blockIndex} of the store does not match the slot tree (data changed or lost)`,
    );
  }
  const inBlock = cellIndex % CELLS_PER_BLOCK;
  return {
    cell: block.subarray(inBlock * CELL_SIZE, (inBlock + 1) * CELL_SIZE),
    path: [...blockTree.proof(inBlock), ...tree.blockProof(blockIndex)],
  };
}

async function readBlock(
  store: SlotBlockStore,
  index: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const block = await store.readBlock(index, signal ? { signal } : {});
  if (!(block instanceof Uint8Array) || block.length !== BLOCK_BYTES) {
    throw new StorageProofError(
      "BAD_BLOCK",
      `the store returned ${block instanceof Uint8Array ? `${block.length} bytes` : "no bytes"} for block ${index}; a block is ${BLOCK_BYTES}`,
    );
  }
  return block;
}
