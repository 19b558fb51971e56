import { Poseidon2Error } from "./errors.js";
import { assertElement } from "./field.js";
import { kernel } from "./kernel.js";

/**
 * The cells a challenge samples (storage-proof.md, "Sampling"): for k = 1..nSamples,
 * h_k = sponge_rate2(entropy, slotRoot, k) and the index is h_k mod nCells, i.e. its low
 * log2(nCells) bits, since nCells is a power of two.
 */
export function sampleCellIndices(
  entropy: bigint,
  slotRoot: bigint,
  nCells: number,
  nSamples: number,
): number[] {
  assertElement(entropy, "sampleCellIndices: entropy");
  assertElement(slotRoot, "sampleCellIndices: slotRoot");
  // Math.log2 is exact on powers of two, so this accepts exactly 2^0 .. 2^52.
  if (!Number.isSafeInteger(nCells) || nCells < 1 || 2 ** Math.round(Math.log2(nCells)) !== nCells)
    throw new Poseidon2Error(
      "NOT_A_POWER_OF_TWO",
      `sampleCellIndices: nCells must be a power of two, got ${String(nCells)}`,
    );
  if (!Number.isSafeInteger(nSamples) || nSamples < 0)
    throw new Poseidon2Error(
      "BAD_INDEX",
      `sampleCellIndices: nSamples must be a non-negative integer, got ${String(nSamples)}`,
    );
  const mask = BigInt(nCells - 1);
  const indices: number[] = [];
  for (let k = 1; k <= nSamples; k++)
    indices.push(Number(kernel().sponge([entropy, slotRoot, BigInt(k)], 2) & mask));
  return indices;
}
