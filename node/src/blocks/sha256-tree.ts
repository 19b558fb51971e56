/**
 * The SHA-256 Merkle tree over a dataset's blocks that names the dataset (its tree CID). It uses the
 * same keyed construction as the Poseidon2 trees (storage-proof spec): a parent is
 * SHA-256(left || right || key), key bit 0 marks the bottom layer and bit 1 an odd last node, which
 * is paired with 32 zero bytes. This is the construction of Codex's CodexTree
 * (codex-storage/nim-codex, codex/merkletree/codex/codex.nim), so tree ids agree with Codex's.
 */
import { createHash } from "node:crypto";
import { HoldfastError } from "../errors.js";
import type { CID } from "./cid.js";
import { cidFromDigest } from "./cid.js";
import { CODEC } from "./constants.js";

const KEY_BOTTOM = 1;
const KEY_ODD = 2;
const ZERO = new Uint8Array(32);

function compress(left: Uint8Array, right: Uint8Array, key: number): Uint8Array {
  return createHash("sha256").update(left).update(right).update(Uint8Array.of(key)).digest();
}

/**
 * Builds the root from leaves pushed one at a time, keeping one pending node per level, so a
 * dataset of any size needs O(log n) memory.
 */
export class Sha256TreeBuilder {
  /** pending[level]: a left node waiting for its right sibling. */
  private readonly pending: (Uint8Array | undefined)[] = [];
  private count = 0;

  get leafCount(): number {
    return this.count;
  }

  push(leaf: Uint8Array): void {
    if (leaf.length !== 32) throw new RangeError("a SHA-256 tree leaf is 32 bytes");
    this.count++;
    let node = leaf;
    for (let level = 0; ; level++) {
      const left = this.pending[level];
      if (left === undefined) {
        this.pending[level] = node;
        return;
      }
      this.pending[level] = undefined;
      node = compress(left, node, level === 0 ? KEY_BOTTOM : 0);
    }
  }

  /**
   * The root, without changing the builder. Walking up from the leaves, a level holds at most one
   * pending left node and one node carried up from below; a lone node is the odd last node of its
   * layer (compressed with zero), unless nothing is left above it, which makes it the root.
   */
  root(): Uint8Array {
    if (this.count === 0) {
      throw new HoldfastError("ERR_INVALID_ARGUMENT", "a Merkle tree needs at least one leaf");
    }
    let carry: Uint8Array | undefined;
    for (let level = 0; ; level++) {
      const left = this.pending[level];
      const bottom = level === 0 ? KEY_BOTTOM : 0;
      if (left !== undefined && carry !== undefined) {
        carry = compress(left, carry, bottom);
        continue;
      }
      const single = left ?? carry;
      if (single === undefined) continue;
      // A single leaf is still compressed once (bottom and odd), so level 0 never returns.
      if (level > 0 && this.pending.slice(level + 1).every((node) => node === undefined)) {
        return single;
      }
      carry = compress(single, ZERO, bottom | KEY_ODD);
    }
  }
}

/** Every layer of the tree, leaves first, root last (for proofs; holds the whole tree). */
export function sha256TreeLayers(leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) {
    throw new HoldfastError("ERR_INVALID_ARGUMENT", "a Merkle tree needs at least one leaf");
  }
  const layers: Uint8Array[][] = [[...leaves]];
  let bottom = true;
  while (layers.at(-1)!.length > 1 || bottom) {
    const layer = layers.at(-1)!;
    const next: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2) {
      const odd = i + 1 === layer.length;
      next.push(
        compress(
          layer[i]!,
          odd ? ZERO : layer[i + 1]!,
          (bottom ? KEY_BOTTOM : 0) | (odd ? KEY_ODD : 0),
        ),
      );
    }
    layers.push(next);
    bottom = false;
  }
  return layers;
}

export function sha256TreeRoot(leaves: readonly Uint8Array[]): Uint8Array {
  const builder = new Sha256TreeBuilder();
  for (const leaf of leaves) builder.push(leaf);
  return builder.root();
}

/** Siblings from the leaf up; 32 zero bytes where the node was the odd last one. */
export function sha256TreeProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new HoldfastError("ERR_INVALID_ARGUMENT", `leaf index ${index} is outside the tree`);
  }
  const layers = sha256TreeLayers(leaves);
  const path: Uint8Array[] = [];
  let i = index;
  for (const layer of layers.slice(0, -1)) {
    path.push(layer[i ^ 1] ?? ZERO);
    i >>= 1;
  }
  return path;
}

export function verifySha256TreeProof(
  root: Uint8Array,
  leaf: Uint8Array,
  index: number,
  leafCount: number,
  path: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= leafCount) return false;
  let node = leaf;
  let i = index;
  let last = leafCount - 1;
  for (let level = 0; level < path.length; level++) {
    const bottom = level === 0 ? KEY_BOTTOM : 0;
    const odd = i === last && i % 2 === 0;
    const sibling = path[level]!;
    node =
      i % 2 === 0
        ? compress(node, odd ? ZERO : sibling, bottom | (odd ? KEY_ODD : 0))
        : compress(sibling, node, bottom);
    i >>= 1;
    last >>= 1;
  }
  return last === 0 && Buffer.from(node).equals(Buffer.from(root));
}

export function treeCidFromRoot(root: Uint8Array): CID {
  return cidFromDigest(CODEC.treeRoot, root);
}
