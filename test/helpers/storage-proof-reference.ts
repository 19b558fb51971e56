/**
 * The storage-proof input of shared/spec/storage-proof.md built the slow, obvious way on the
 * BigInt reference: every tree layer kept in arrays, every path read off them. It is the yardstick
 * for the node's input builder (node/src/proof/) and the source of circuit test inputs.
 */
import type { CircuitParameters } from "../../node/src/proof/parameters.js";
import { NAMED_INSTANCES, readInstanceParameters } from "../../scripts/circuits/instances.js";
import { byteSamples, fieldSamples } from "./field-samples.js";
import {
  bytesToElements,
  cellHash,
  merkleLayers,
  sampleCellIndices,
} from "./poseidon2-reference.js";

export const CELL_BYTES = 2048;
export const CELLS_PER_BLOCK = 32;

export const DEV_PARAMETERS = readInstanceParameters(NAMED_INSTANCES.dev);
export const PRODUCTION_PARAMETERS = readInstanceParameters(NAMED_INSTANCES.production);

/** The input of SampleAndProve, with Codex's names. */
export interface ReferenceProofInput {
  entropy: bigint;
  dataSetRoot: bigint;
  slotIndex: number;
  slotRoot: bigint;
  nCellsPerSlot: number;
  nSlotsPerDataSet: number;
  slotProof: bigint[];
  cellData: bigint[][];
  merklePaths: bigint[][];
}

/** A slot's stacked tree: one block tree per 32 cells, a slot tree over their roots. */
export class ReferenceSlot {
  readonly blockTrees: bigint[][][];
  readonly slotTree: bigint[][];

  constructor(readonly cells: readonly Uint8Array[]) {
    if (cells.length < CELLS_PER_BLOCK || (cells.length & (cells.length - 1)) !== 0) {
      throw new Error(`a slot has 2^k >= ${CELLS_PER_BLOCK} cells, got ${cells.length}`);
    }
    const hashes = cells.map(cellHash);
    this.blockTrees = [];
    for (let b = 0; b < cells.length / CELLS_PER_BLOCK; b++) {
      this.blockTrees.push(
        merkleLayers(hashes.slice(b * CELLS_PER_BLOCK, (b + 1) * CELLS_PER_BLOCK)),
      );
    }
    this.slotTree = merkleLayers(this.blockTrees.map((layers) => layers.at(-1)![0]!));
  }

  get root(): bigint {
    return this.slotTree.at(-1)![0]!;
  }

  /** The cell's path: 5 block-tree siblings, then the slot-tree siblings (0 at odd nodes). */
  path(cellIndex: number): bigint[] {
    const block = Math.floor(cellIndex / CELLS_PER_BLOCK);
    return [
      ...siblings(this.blockTrees[block]!, cellIndex % CELLS_PER_BLOCK),
      ...siblings(this.slotTree, block),
    ];
  }
}

function siblings(layers: readonly bigint[][], index: number): bigint[] {
  const path: bigint[] = [];
  let i = index;
  for (const layer of layers.slice(0, -1)) {
    path.push((i ^ 1) < layer.length ? layer[i ^ 1]! : 0n);
    i >>= 1;
  }
  return path;
}

/** `count` pseudo-random cells (labelled, so reproducible). */
export function sampleCells(label: string, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => byteSamples(`${label}/${i}`, CELL_BYTES));
}

/** Slots of `nCells` pseudo-random cells each, and their roots. */
export function sampleSlots(label: string, nSlots: number, nCells: number): ReferenceSlot[] {
  return Array.from(
    { length: nSlots },
    (_, s) => new ReferenceSlot(sampleCells(`${label}/slot ${s}`, nCells)),
  );
}

const pad = (values: readonly bigint[], length: number): bigint[] => {
  if (values.length > length) throw new Error(`path of ${values.length} exceeds ${length}`);
  return [...values, ...new Array<bigint>(length - values.length).fill(0n)];
};

/** The circuit input proving slot `slotIndex` of a dataset of `slotRoots` for `entropy`. */
export function referenceProofInput(
  parameters: CircuitParameters,
  slot: ReferenceSlot,
  slotRoots: readonly bigint[],
  slotIndex: number,
  entropy: bigint,
): ReferenceProofInput {
  if (slotRoots[slotIndex] !== slot.root) throw new Error("the slot is not at slotIndex");
  const dataSet = merkleLayers(slotRoots);
  const indices = sampleCellIndices(entropy, slot.root, slot.cells.length, parameters.nSamples);
  return {
    entropy,
    dataSetRoot: dataSet.at(-1)![0]!,
    slotIndex,
    slotRoot: slot.root,
    nCellsPerSlot: slot.cells.length,
    nSlotsPerDataSet: slotRoots.length,
    slotProof: pad(siblings(dataSet, slotIndex), parameters.maxLog2NSlots),
    cellData: indices.map((i) => bytesToElements(slot.cells[i]!)),
    merklePaths: indices.map((i) => pad(slot.path(i), parameters.maxDepth)),
  };
}

/** Labelled pseudo-random entropies (31 bytes, as the contract derives them). */
export function sampleEntropies(label: string, count: number): bigint[] {
  return fieldSamples(label, count).map((x) => x >> 8n);
}

/** The slot's cells back to back: its bytes, as a block store would hold them. */
export function slotBytes(slot: ReferenceSlot): Uint8Array {
  const out = new Uint8Array(slot.cells.length * CELL_BYTES);
  slot.cells.forEach((cell, i) => out.set(cell, i * CELL_BYTES));
  return out;
}
