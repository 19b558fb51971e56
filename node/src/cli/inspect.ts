/**
 * `holdfast dataset inspect <file> --ec K+M`: what the file would commit to if stored and
 * protected with K data and M parity slots (tree id, protected tree id, slot roots, dataset root),
 * computed the way the node computes them, storing nothing.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { BLOCK_SIZE } from "../blocks/constants.js";
import { chunkBlocks } from "../blocks/chunker.js";
import { sha256 } from "../blocks/cid.js";
import { Sha256TreeBuilder, treeCidFromRoot } from "../blocks/sha256-tree.js";
import { DROP_SINK, protectDataset } from "../dataset/protect.js";
import { HoldfastError } from "../errors.js";
import { fieldToHex } from "../slots/field.js";
import type { BlockRootHasher, Poseidon2Trees } from "../slots/hasher.js";

export interface InspectResult {
  file: string;
  datasetSize: number;
  blocksCount: number;
  treeCid: string;
  ecK: number;
  ecM: number;
  protectedTreeCid: string;
  protectedBlocksCount: number;
  slotBlocks: number;
  cellsPerSlot: number;
  slotRoots: string[];
  datasetRoot: string;
}

export async function inspectFile(
  file: string,
  params: { ecK: number; ecM: number },
  hashing: { trees: Poseidon2Trees; roots: BlockRootHasher },
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<InspectResult> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    throw new HoldfastError(
      "ERR_INVALID_ARGUMENT",
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  try {
    // Pass 1: block digests and the dataset's tree id (32 bytes kept per block).
    const progress = { bytes: 0 };
    const tree = new Sha256TreeBuilder();
    const digests: Uint8Array[] = [];
    for await (const block of chunkBlocks(createReadStream(file), {
      progress,
      signal: options.signal,
    })) {
      const digest = sha256(block);
      tree.push(digest);
      digests.push(digest);
    }
    const count = digests.length;
    // Pass 2: codewords read back from the file by position.
    const result = await protectDataset(
      {
        count,
        async read(index) {
          const block = new Uint8Array(BLOCK_SIZE); // the last block's tail stays zero, as when stored
          await handle.read(block, 0, BLOCK_SIZE, index * BLOCK_SIZE);
          return block;
        },
        async digest(index) {
          return digests[index]!;
        },
      },
      params,
      hashing,
      DROP_SINK,
      options,
    );
    return {
      file,
      datasetSize: progress.bytes,
      blocksCount: count,
      treeCid: treeCidFromRoot(tree.root()).toString(),
      ecK: params.ecK,
      ecM: params.ecM,
      protectedTreeCid: result.protectedTreeCid.toString(),
      protectedBlocksCount: result.layout.blocksCount,
      slotBlocks: result.geometry.paddedSlotBlocks,
      cellsPerSlot: result.geometry.cellsPerSlot,
      slotRoots: result.slotRoots.map(fieldToHex),
      datasetRoot: fieldToHex(result.datasetRoot),
    };
  } finally {
    await handle.close();
  }
}

export function formatInspect(result: InspectResult): string {
  const lines = [
    `file:              ${result.file}`,
    `size:              ${result.datasetSize} bytes in ${result.blocksCount} blocks of ${BLOCK_SIZE} bytes`,
    `tree id:           ${result.treeCid}`,
    `erasure coding:    K=${result.ecK} data + M=${result.ecM} parity slots`,
    `protected tree id: ${result.protectedTreeCid} (${result.protectedBlocksCount} blocks)`,
    `slot size:         ${result.slotBlocks} blocks, ${result.cellsPerSlot} cells of 2048 bytes`,
    `dataset root:      ${result.datasetRoot}`,
    "slot roots:",
    ...result.slotRoots.map((root, i) => `  ${String(i).padStart(3)}  ${root}`),
  ];
  return `${lines.join("\n")}\n`;
}
