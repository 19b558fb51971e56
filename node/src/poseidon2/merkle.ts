import { Poseidon2Error } from "./errors.js";
import { assertElement, ELEMENT_BYTES, packElements, readElement } from "./field.js";
import { kernel } from "./kernel.js";
import { compress } from "./permutation.js";
import { assertBytes, CELL_SIZE, cellHashesPacked } from "./sponge.js";

/** Compression key bits (storage-proof.md, "Keyed compression and Merkle trees"). */
const KEY_BOTTOM = 1;
const KEY_ODD = 2;

/** Cells per 64 KiB network block: the leaves of a block tree. */
export const CELLS_PER_BLOCK = 32;

/**
 * The length of an inclusion proof in a tree of `leafCount` leaves: the number of compression
 * layers, ceil(log2(leafCount)), but at least 1 (a single leaf is still compressed once).
 */
export function merkleDepth(leafCount: number): number {
  assertLeafCount(leafCount, "merkleDepth");
  let depth = 0;
  for (let n = leafCount; n > 1; n = Math.ceil(n / 2)) depth++;
  return Math.max(depth, 1);
}

/** The root of the keyed Merkle tree over `leaves` (at least one). */
export function merkleRoot(leaves: readonly bigint[]): bigint {
  const layers = kernel().merkleLayers(packLeaves(leaves, "merkleRoot"), false);
  return readElement(viewOf(layers.at(-1)!), 0);
}

/** A keyed Merkle tree that keeps every layer, for inclusion proofs. */
export class MerkleTree {
  /** Layers packed as 32-byte LE elements, leaves first, the root last. */
  private readonly layers: Uint8Array[];

  /** Builds the tree over `leaves` (at least one field element). */
  constructor(leaves: readonly bigint[]) {
    this.layers = kernel().merkleLayers(packLeaves(leaves, "MerkleTree"), true);
  }

  /**
   * Builds the tree over leaves given packed as 32-byte little-endian elements back to back (as
   * cellHashesPacked returns them).
   */
  static fromPackedLeaves(packed: Uint8Array): MerkleTree {
    assertBytes(packed, "MerkleTree.fromPackedLeaves");
    if (packed.length % ELEMENT_BYTES !== 0)
      throw new Poseidon2Error(
        "BAD_LENGTH",
        `MerkleTree.fromPackedLeaves: ${packed.length} bytes is not a whole number of 32-byte elements`,
      );
    const view = viewOf(packed);
    const leaves: bigint[] = [];
    for (let i = 0; i < packed.length; i += ELEMENT_BYTES) leaves.push(readElement(view, i));
    return new MerkleTree(leaves);
  }

  get leafCount(): number {
    return this.layers[0]!.length / ELEMENT_BYTES;
  }

  /** Path length of this tree's proofs. */
  get depth(): number {
    return this.layers.length - 1;
  }

  get root(): bigint {
    return readElement(viewOf(this.layers.at(-1)!), 0);
  }

  leaf(index: number): bigint {
    assertIndex(index, this.leafCount, "MerkleTree.leaf");
    return readElement(viewOf(this.layers[0]!), index * ELEMENT_BYTES);
  }

  /** Siblings from the leaf upwards, 0 where the node is the odd last one of its layer. */
  proof(index: number): bigint[] {
    assertIndex(index, this.leafCount, "MerkleTree.proof");
    const path: bigint[] = [];
    let i = index;
    for (const layer of this.layers.slice(0, -1)) {
      const sibling = i ^ 1;
      const present = sibling * ELEMENT_BYTES < layer.length;
      path.push(present ? readElement(viewOf(layer), sibling * ELEMENT_BYTES) : 0n);
      i = Math.floor(i / 2);
    }
    return path;
  }
}

/**
 * Whether `path` proves that `leaf` is leaf number `index` of a tree of `leafCount` leaves with
 * this root. The leaf count tells which levels had an odd last node; there the path must hold 0.
 * A malformed call (values outside the field, index outside the tree, a path of the wrong length)
 * throws instead of returning false.
 */
export function verifyMerkleProof(
  root: bigint,
  leaf: bigint,
  index: number,
  leafCount: number,
  path: readonly bigint[],
): boolean {
  assertElement(root, "verifyMerkleProof: root");
  assertElement(leaf, "verifyMerkleProof: leaf");
  assertLeafCount(leafCount, "verifyMerkleProof");
  assertIndex(index, leafCount, "verifyMerkleProof");
  if (!Array.isArray(path))
    throw new Poseidon2Error("BAD_TYPE", "verifyMerkleProof: path must be an array");
  const depth = merkleDepth(leafCount);
  if (path.length !== depth)
    throw new Poseidon2Error(
      "BAD_LENGTH",
      `verifyMerkleProof: a tree of ${leafCount} leaves needs a path of ${depth}, got ${path.length}`,
    );
  path.forEach((x, level) => assertElement(x, `verifyMerkleProof: path[${level}]`));

  let node = leaf;
  let i = index;
  let layerSize = leafCount;
  for (let level = 0; level < depth; level++) {
    const bottom = level === 0 ? KEY_BOTTOM : 0;
    const sibling = path[level]!;
    if (i % 2 === 0 && i === layerSize - 1) {
      if (sibling !== 0n) return false;
      node = compress(node, 0n, (bottom | KEY_ODD) as 2 | 3);
    } else if (i % 2 === 0) node = compress(node, sibling, bottom as 0 | 1);
    else node = compress(sibling, node, bottom as 0 | 1);
    i = Math.floor(i / 2);
    layerSize = Math.ceil(layerSize / 2);
  }
  return node === root;
}

/**
 * Batch interface for hosts: the block-tree root of every block of `data` (consecutive blocks of
 * `cellsPerBlock` cells of `cellSize` bytes). Cells are hashed and trees built inside the kernel.
 */
export function blockTreeRoots(
  data: Uint8Array,
  cellsPerBlock: number = CELLS_PER_BLOCK,
  cellSize: number = CELL_SIZE,
): bigint[] {
  assertBytes(data, "blockTreeRoots");
  if (!Number.isSafeInteger(cellsPerBlock) || cellsPerBlock < 1)
    throw new Poseidon2Error(
      "BAD_PARAMETER",
      `blockTreeRoots: cellsPerBlock must be a positive integer, got ${String(cellsPerBlock)}`,
    );
  if (!Number.isSafeInteger(cellSize) || cellSize < 1)
    throw new Poseidon2Error(
      "BAD_PARAMETER",
      `blockTreeRoots: cellSize must be a positive integer, got ${String(cellSize)}`,
    );
  const blockBytes = cellsPerBlock * cellSize;
  if (data.length % blockBytes !== 0)
    throw new Poseidon2Error(
      "BAD_LENGTH",
      `blockTreeRoots: data length ${data.length} is not a multiple of the block size ${blockBytes}`,
    );
  const cells = cellHashesPacked(data, cellSize);
  const hashBytes = cellsPerBlock * ELEMENT_BYTES;
  const roots: bigint[] = [];
  for (let offset = 0; offset < cells.length; offset += hashBytes) {
    const layers = kernel().merkleLayers(cells.subarray(offset, offset + hashBytes), false);
    roots.push(readElement(viewOf(layers.at(-1)!), 0));
  }
  return roots;
}

function packLeaves(leaves: readonly bigint[], what: string): Uint8Array {
  if (!Array.isArray(leaves))
    throw new Poseidon2Error("BAD_TYPE", `${what}: leaves must be an array of field elements`);
  if (leaves.length === 0)
    throw new Poseidon2Error("EMPTY_TREE", `${what}: a Merkle tree needs at least one leaf`);
  leaves.forEach((x, i) => assertElement(x, `${what}: leaves[${i}]`));
  return packElements(leaves);
}

function assertLeafCount(leafCount: number, what: string): void {
  if (!Number.isSafeInteger(leafCount) || leafCount < 0)
    throw new Poseidon2Error(
      "BAD_INDEX",
      `${what}: leafCount must be a non-negative integer, got ${String(leafCount)}`,
    );
  if (leafCount === 0)
    throw new Poseidon2Error("EMPTY_TREE", `${what}: a Merkle tree has at least one leaf`);
}

function assertIndex(index: number, leafCount: number, what: string): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafCount)
    throw new Poseidon2Error(
      "BAD_INDEX",
      `${what}: leaf index must be an integer in [0, ${leafCount}), got ${String(index)}`,
    );
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
