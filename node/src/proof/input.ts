/**
 * The input of the storage-proof circuit (circuits/storage-proof/sample_and_prove.circom) for one
 * challenge: the public inputs as the marketplace computes them, the slot's place in the dataset
 * tree, and the sampled cells with their paths, padded as the circuit expects. The names are those
 * of Codex's circuit, so `circuitInputJson` is also a Codex input file.
 */
import type { BytesLike } from "ethers";
import { throwIfAborted } from "../errors.js";
import { MerkleTree, bytesToElements, sampleCellIndices } from "../poseidon2/index.js";
import { BLOCK_TREE_DEPTH, CELL_SIZE } from "../slots/geometry.js";
import { StorageProofError } from "./errors.js";
import { type CircuitParameters, checkCircuitParameters } from "./parameters.js";
import { storageProofPublicInputs } from "./public-inputs.js";
import type { ProvableSlot } from "./slot-tree.js";

export interface StorageProofInput {
  entropy: bigint;
  dataSetRoot: bigint;
  slotIndex: bigint;
  slotRoot: bigint;
  nCellsPerSlot: number;
  nSlotsPerDataSet: number;
  /** maxLog2NSlots entries: the slot root's siblings in the dataset tree, then zeros. */
  slotProof: bigint[];
  /** nSamples cells of nFieldElemsPerCell elements, in sample order. */
  cellData: bigint[][];
  /** nSamples paths of maxDepth entries: block-tree siblings, slot-tree siblings, then zeros. */
  merklePaths: bigint[][];
}

export interface ProofInputRequest {
  /** The circuit instance's parameters (from its artifacts.json). */
  parameters: CircuitParameters;
  /** The slot's current challenge, as the marketplace's getChallenge returns it. */
  challenge: BytesLike;
  /** The request's content.merkleRoot: the dataset root, 32 bytes little-endian. */
  merkleRoot: BytesLike;
  /** The slot's index in the request. */
  slotIndex: number;
  /** The dataset tree's leaves: the root of every slot of the request, in slot order. */
  slotRoots: readonly bigint[];
  /** The slot: its root, cell count, and cells with their paths (e.g. `provableSlot`). */
  slot: ProvableSlot;
  /** Aborts with HoldfastError ERR_ABORTED. */
  signal?: AbortSignal;
}

/**
 * Samples the challenged cells of the slot and builds the circuit input. Throws a StorageProofError
 * when the request cannot give a valid proof: a slot or dataset larger than the instance, a slot
 * root that is not the dataset's leaf at the index, a dataset tree whose root is not the on-chain
 * one, or a block that no longer matches the slot tree.
 */
export async function buildProofInput(request: ProofInputRequest): Promise<StorageProofInput> {
  const parameters = checkCircuitParameters(request.parameters);
  checkCellLayout(parameters);
  const { slot, slotRoots, slotIndex, signal } = request;
  const [entropy, dataSetRoot] = storageProofPublicInputs(
    request.challenge,
    request.merkleRoot,
    slotIndex,
  );

  const maxSlots = 2 ** parameters.maxLog2NSlots;
  if (slotRoots.length === 0 || slotRoots.length > maxSlots) {
    throw new StorageProofError(
      "TOO_LARGE",
      `a dataset of ${slotRoots.length} slots; this circuit proves datasets of 1..${maxSlots}`,
    );
  }
  if (!Number.isSafeInteger(slotIndex) || slotIndex < 0 || slotIndex >= slotRoots.length) {
    throw new StorageProofError(
      "BAD_SLOT_INDEX",
      `slot index ${slotIndex} is outside the dataset of ${slotRoots.length} slots`,
    );
  }
  const nCells = slot.cellCount;
  if (nCells > 2 ** parameters.maxDepth) {
    throw new StorageProofError(
      "TOO_LARGE",
      `a slot of ${nCells} cells; this circuit proves slots of up to 2^${parameters.maxDepth}`,
    );
  }
  if (slotRoots[slotIndex] !== slot.root) {
    throw new StorageProofError(
      "SLOT_NOT_IN_DATASET",
      `the slot's root is not leaf ${slotIndex} of the dataset tree`,
    );
  }
  const dataSet = new MerkleTree(slotRoots);
  if (dataSet.root !== dataSetRoot) {
    throw new StorageProofError(
      "DATASET_ROOT_MISMATCH",
      `the dataset tree over the ${slotRoots.length} slot roots has root ${dataSet.root}, the request holds ${dataSetRoot}`,
    );
  }

  const cellData: bigint[][] = [];
  const merklePaths: bigint[][] = [];
  const indices = sampleCellIndices(entropy, slot.root, nCells, parameters.nSamples);
  for (const index of indices) {
    throwIfAborted(signal);
    const { data, path } = await slot.cell(index, signal);
    cellData.push(bytesToElements(data));
    merklePaths.push(padWithZeros(path, parameters.maxDepth));
  }
  return {
    entropy,
    dataSetRoot,
    slotIndex: BigInt(slotIndex),
    slotRoot: slot.root,
    nCellsPerSlot: nCells,
    nSlotsPerDataSet: slotRoots.length,
    slotProof: padWithZeros(dataSet.proof(slotIndex), parameters.maxLog2NSlots),
    cellData,
    merklePaths,
  };
}

/** The input as snarkjs and circom's witness generators read it (numbers as decimal strings). */
export function circuitInputJson(input: StorageProofInput): Record<string, unknown> {
  const decimal = (x: bigint | number) => x.toString();
  return {
    entropy: decimal(input.entropy),
    dataSetRoot: decimal(input.dataSetRoot),
    slotIndex: decimal(input.slotIndex),
    slotRoot: decimal(input.slotRoot),
    nCellsPerSlot: decimal(input.nCellsPerSlot),
    nSlotsPerDataSet: decimal(input.nSlotsPerDataSet),
    slotProof: input.slotProof.map(decimal),
    cellData: input.cellData.map((cell) => cell.map(decimal)),
    merklePaths: input.merklePaths.map((path) => path.map(decimal)),
  };
}

/** The node's blocks are 32 cells of 2 KiB; the circuit must have been built for that layout. */
function checkCellLayout(parameters: CircuitParameters): void {
  const elements = bytesToElements(new Uint8Array(CELL_SIZE)).length;
  if (
    parameters.blockTreeDepth !== BLOCK_TREE_DEPTH ||
    parameters.nFieldElemsPerCell !== elements
  ) {
    throw new StorageProofError(
      "BAD_PARAMETERS",
      `the circuit expects blocks of 2^${parameters.blockTreeDepth} cells of ${parameters.nFieldElemsPerCell} elements; the node's are 2^${BLOCK_TREE_DEPTH} cells of ${elements}`,
    );
  }
}

function padWithZeros(values: readonly bigint[], length: number): bigint[] {
  if (values.length > length) {
    throw new StorageProofError("TOO_LARGE", `a path of ${values.length} exceeds ${length}`);
  }
  return [...values, ...new Array<bigint>(length - values.length).fill(0n)];
}
