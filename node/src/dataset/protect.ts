/**
 * Protecting a dataset and making it verifiable, in one pass over its codewords: each step reads
 * the K data blocks of a codeword, computes its M parity blocks, and hashes all K + M into their
 * Poseidon2 block-tree roots. Then the protected SHA-256 tree, the slot trees and the dataset tree
 * follow from what the pass collected (32 bytes per block, not the blocks). The node stores the
 * parity and slot trees through the sink; `holdfast dataset inspect` passes a sink that drops them.
 */
import { ZERO_BLOCK, ZERO_BLOCK_DIGEST, sha256 } from "../blocks/cid.js";
import type { CID } from "../blocks/cid.js";
import { BLOCK_SIZE } from "../blocks/constants.js";
import { DIGEST_SIZE } from "../blocks/pack.js";
import { Sha256TreeBuilder, treeCidFromRoot } from "../blocks/sha256-tree.js";
import { throwIfAborted } from "../errors.js";
import { type EcLayout, codewordIndex, ecLayout } from "../erasure/layout.js";
import { ReedSolomon } from "../erasure/reed-solomon.js";
import { type SlotGeometry, slotGeometry } from "../slots/geometry.js";
import {
  type BlockRootHasher,
  type Poseidon2Trees,
  merkleRootOf,
  zeroBlockRoot,
} from "../slots/hasher.js";

/** The original dataset's blocks, by index, already verified by the source. */
export interface OriginalBlocks {
  readonly count: number;
  read(index: number): Promise<Uint8Array>;
  digest(index: number): Promise<Uint8Array>;
}

export interface ProtectSink {
  /** Parity block at `position` of the parity run (protected index = rounded + position). */
  parity(position: number, block: Uint8Array, digest: Uint8Array): Promise<void>;
  slotTree(slot: number, layers: bigint[][]): Promise<void>;
}

export interface ProtectResult {
  layout: EcLayout;
  geometry: SlotGeometry;
  protectedTreeCid: CID;
  slotRoots: bigint[];
  datasetRoot: bigint;
}

export interface ProtectOptions {
  signal?: AbortSignal;
  /** Called after each codeword with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export const DROP_SINK: ProtectSink = {
  async parity() {},
  async slotTree() {},
};

export async function protectDataset(
  source: OriginalBlocks,
  params: { ecK: number; ecM: number },
  hashing: { trees: Poseidon2Trees; roots: BlockRootHasher },
  sink: ProtectSink,
  options: ProtectOptions = {},
): Promise<ProtectResult> {
  const layout = ecLayout(source.count, params.ecK, params.ecM);
  const { ecK, ecM, steps } = layout;
  const geometry = slotGeometry(steps);
  const code = new ReedSolomon(ecK, ecM);
  const zeroRoot = zeroBlockRoot(hashing.trees);
  const parityDigests = new Uint8Array(ecM * steps * DIGEST_SIZE);
  const blockRoots = new Array<bigint>(layout.blocksCount);
  const parity = Array.from({ length: ecM }, () => new Uint8Array(BLOCK_SIZE));

  for (let step = 0; step < steps; step++) {
    throwIfAborted(options.signal);
    const data: Uint8Array[] = [];
    for (let j = 0; j < ecK; j++) {
      const index = codewordIndex(layout, step, j);
      data.push(index < source.count ? await source.read(index) : ZERO_BLOCK);
    }
    code.encode(data, parity);
    for (let j = 0; j < ecM; j++) {
      const digest = sha256(parity[j]!);
      const position = j * steps + step;
      parityDigests.set(digest, position * DIGEST_SIZE);
      await sink.parity(position, parity[j]!, digest);
    }
    // Padding blocks are all zero: their root is known without hashing.
    const codeword = [...data, ...parity];
    const toHash = codeword.filter(
      (_, j) => codewordIndex(layout, step, j) < source.count || j >= ecK,
    );
    const roots = await hashing.roots.blockRoots(toHash, options.signal);
    let next = 0;
    for (let j = 0; j < ecK + ecM; j++) {
      const index = codewordIndex(layout, step, j);
      blockRoots[index] = index < source.count || j >= ecK ? roots[next++]! : zeroRoot;
    }
    options.onProgress?.(step + 1, steps);
  }

  const tree = new Sha256TreeBuilder();
  for (let i = 0; i < source.count; i++) tree.push(await source.digest(i));
  for (let i = source.count; i < layout.rounded; i++) tree.push(ZERO_BLOCK_DIGEST);
  for (let p = 0; p < ecM * steps; p++)
    tree.push(parityDigests.subarray(p * DIGEST_SIZE, (p + 1) * DIGEST_SIZE));

  const slotRoots: bigint[] = [];
  const padding = new Array<bigint>(geometry.paddedSlotBlocks - steps).fill(zeroRoot);
  for (let slot = 0; slot < layout.slots; slot++) {
    throwIfAborted(options.signal);
    const leaves = [...blockRoots.slice(slot * steps, (slot + 1) * steps), ...padding];
    const layers = hashing.trees.merkleLayers(leaves);
    await sink.slotTree(slot, layers);
    slotRoots.push(layers.at(-1)![0]!);
  }
  return {
    layout,
    geometry,
    protectedTreeCid: treeCidFromRoot(tree.root()),
    slotRoots,
    datasetRoot: merkleRootOf(hashing.trees, slotRoots),
  };
}
