/**
 * The template parameters of a storage-proof circuit instance, SampleAndProve(maxDepth,
 * maxLog2NSlots, blockTreeDepth, nFieldElemsPerCell, nSamples) in circuits/storage-proof/. The
 * instance's main file is their one source: the circuit tooling reads them from it into the
 * artifact manifest (scripts/circuits/instances.ts), and the prover takes them from there.
 */
import { StorageProofError } from "./errors.js";

export interface CircuitParameters {
  /** Slots of up to 2^maxDepth cells; every cell path is padded to this length. */
  maxDepth: number;
  /** Datasets of up to 2^maxLog2NSlots slots; the slot proof is padded to this length. */
  maxLog2NSlots: number;
  /** log2 of the cells per network block (5: 32 cells of 2 KiB in 64 KiB). */
  blockTreeDepth: number;
  /** Field elements per cell (67 for 2 KiB). */
  nFieldElemsPerCell: number;
  /** Cells proven per proof. */
  nSamples: number;
}

/**
 * Checks the bounds SampleAndProve asserts (and that cell indices stay safe integers); returns the
 * parameters unchanged or throws a StorageProofError BAD_PARAMETERS.
 */
export function checkCircuitParameters(parameters: CircuitParameters): CircuitParameters {
  const { maxDepth, maxLog2NSlots, blockTreeDepth, nFieldElemsPerCell, nSamples } = parameters;
  const integer = (name: string, value: unknown, min: number, max: number) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new StorageProofError(
        "BAD_PARAMETERS",
        `circuit parameter ${name} must be an integer in ${min}..${max}, got ${String(value)}`,
      );
    }
  };
  integer("blockTreeDepth", blockTreeDepth, 1, 52);
  // A one-block slot needs blockTreeDepth + 1 levels; cell indices must stay safe integers.
  integer("maxDepth", maxDepth, blockTreeDepth + 1, 52);
  integer("maxLog2NSlots", maxLog2NSlots, 1, 52);
  integer("nFieldElemsPerCell", nFieldElemsPerCell, 1, 2 ** 20);
  integer("nSamples", nSamples, 1, 2 ** 10);
  return parameters;
}
