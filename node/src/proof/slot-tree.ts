/**
 * What the input builder reads from a slot: its root, its padded cell count, and any cell with its
 * path in the stacked tree (shared/spec/storage-proof.md, "Three stacked trees": the block tree over
 * the cell hashes of one 64 KiB block, then the slot tree over the block roots). The slot layout
 * (cells per block, zero-block padding to a power of two) is the data layer's (node/src/slots/).
 *
 * `SlotTree` keeps a slot tree in memory, built from the slot's blocks or from their roots, and
 * `provableSlot` pairs it with a store of the blocks; a block tree is rebuilt from the block's bytes
 * when one of its cells is sampled, and checked against the slot tree.
 */
import { BLOCK_SIZE } from "../blocks/constants.js";
import { throwIfAborted } from "../errors.js";
import { MerkleTree } from "../poseidon2/index.js";
import { inThreadPoseidon2BlockRoots, poseidon2Trees } from "../slots/default-hashing.js";
import { CELLS_PER_BLOCK, CELL_SIZE, type SlotGeometry, slotGeometry } from "../slots/geometry.js";
import { type BlockRootHasher, zeroBlockRoot } from "../slots/hasher.js";
import { StorageProofError } from "./errors.js";

/** A slot as the input builder needs it. */
export interface ProvableSlot {
  /** The slot root: the dataset tree's leaf for this slot. */
  readonly root: bigint;
  /** nCellsPerSlot: cells of the padded slot, a power of two. */
  readonly cellCount: number;
  /** Cell `index` (CELL_SIZE bytes) and its path: the block-tree siblings, then the slot tree's. */
  cell(index: number, signal?: AbortSignal): Promise<{ data: Uint8Array; path: bigint[] }>;
}

/** Where a slot's blocks are read from: the slot's blocks in order, BLOCK_SIZE bytes each. */
export interface SlotBlockStore {
  /** Blocks of data or parity in the slot, without the zero-block padding (which it need not hold). */
  readonly blockCount: number;
  readBlock(index: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/** A store over a slot held in memory; its length must be a whole number of blocks. */
export function blockStoreFromBytes(data: Uint8Array): SlotBlockStore {
  if (data.length === 0 || data.length % BLOCK_SIZE !== 0) {
    throw new StorageProofError(
      "BAD_BLOCK",
      `slot data must be a positive multiple of ${BLOCK_SIZE} bytes, got ${data.length}`,
    );
  }
  return {
    blockCount: data.length / BLOCK_SIZE,
    readBlock: (index) => {
      if (!Number.isSafeInteger(index) || index < 0 || index * BLOCK_SIZE >= data.length) {
        return Promise.reject(new StorageProofError("BAD_BLOCK", `no block ${index} in the slot`));
      }
      return Promise.resolve(data.subarray(index * BLOCK_SIZE, (index + 1) * BLOCK_SIZE));
    },
  };
}

/** Blocks read and hashed per step while building a slot tree (1 MiB). */
const BLOCKS_PER_STEP = 16;

/** The tree over a slot's block roots, padded with the zero block's root. */
export class SlotTree {
  private readonly tree: MerkleTree;
  readonly geometry: SlotGeometry;

  /** `blockRoots`: the roots of the slot's own blocks, in order (the padding is added here). */
  constructor(blockRoots: readonly bigint[]) {
    if (blockRoots.length === 0) {
      throw new StorageProofError("TOO_LARGE", "a slot holds at least one block");
    }
    this.geometry = slotGeometry(blockRoots.length);
    const padding = this.geometry.paddedSlotBlocks - blockRoots.length;
    this.tree = new MerkleTree([
      ...blockRoots,
      ...new Array<bigint>(padding).fill(zeroBlockRoot(poseidon2Trees)),
    ]);
  }

  /** Reads every block of the store once and builds its tree (block roots by `hasher`). */
  static async build(
    store: SlotBlockStore,
    options: { signal?: AbortSignal; hasher?: BlockRootHasher } = {},
  ): Promise<SlotTree> {
    const hasher = options.hasher ?? inThreadPoseidon2BlockRoots;
    const roots: bigint[] = [];
    for (let first = 0; first < store.blockCount; first += BLOCKS_PER_STEP) {
      const blocks: Uint8Array[] = [];
      for (let i = first; i < Math.min(first + BLOCKS_PER_STEP, store.blockCount); i++) {
        throwIfAborted(options.signal);
        blocks.push(await readBlock(store, i, options.signal));
      }
      roots.push(...(await hasher.blockRoots(blocks, options.signal)));
    }
    return new SlotTree(roots);
  }

  get root(): bigint {
    return this.tree.root;
  }

  get cellCount(): number {
    return this.geometry.cellsPerSlot;
  }

  /** Siblings of block `index` (padding blocks included) in the slot tree, from the bottom up. */
  blockProof(index: number): bigint[] {
    return this.tree.proof(index);
  }

  /** The root of block `index` (a padding block's is the zero block's). */
  blockRoot(index: number): bigint {
    return this.tree.leaf(index);
  }
}

/**
 * The slot of `tree` with its blocks in `store`. A sampled block is read (a padding block is all
 * zeros) and its tree checked against the slot tree, so a store that lost or changed data fails
 * with BAD_BLOCK here rather than in the witness.
 */
export function provableSlot(tree: SlotTree, store: SlotBlockStore): ProvableSlot {
  if (store.blockCount !== tree.geometry.slotBlocks) {
    throw new StorageProofError(
      "BAD_BLOCK",
      `the store holds ${store.blockCount} blocks, the slot tree was built over ${tree.geometry.slotBlocks}`,
    );
  }
  return {
    root: tree.root,
    cellCount: tree.cellCount,
    async cell(index, signal) {
      if (!Number.isSafeInteger(index) || index < 0 || index >= tree.cellCount) {
        throw new StorageProofError("BAD_BLOCK", `no cell ${index} in a slot of ${tree.cellCount}`);
      }
      const blockIndex = Math.floor(index / CELLS_PER_BLOCK);
      const block =
        blockIndex < store.blockCount
          ? await readBlock(store, blockIndex, signal)
          : new Uint8Array(BLOCK_SIZE);
      const blockTree = new MerkleTree(poseidon2Trees.cellHashes(block));
      if (blockTree.root !== tree.blockRoot(blockIndex)) {
        throw new StorageProofError(
          "BAD_BLOCK",
          `block ${blockIndex} of the store does not match the slot tree (data changed or lost)`,
        );
      }
      const inBlock = index % CELLS_PER_BLOCK;
      return {
        data: block.subarray(inBlock * CELL_SIZE, (inBlock + 1) * CELL_SIZE),
        path: [...blockTree.proof(inBlock), ...tree.blockProof(blockIndex)],
      };
    },
  };
}

async function readBlock(
  store: SlotBlockStore,
  index: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const block = await store.readBlock(index, signal);
  if (!(block instanceof Uint8Array) || block.length !== BLOCK_SIZE) {
    const got = block instanceof Uint8Array ? `${block.length} bytes` : "no bytes";
    throw new StorageProofError(
      "BAD_BLOCK",
      `the store returned ${got} for block ${index}; a block is ${BLOCK_SIZE}`,
    );
  }
  return block;
}
