/**
 * Where blocks go when a dataset of n blocks is protected with K data and M parity slots. This is
 * Codex's layout (codex-storage/nim-codex, codex/erasure/erasure.nim: "rows" of `steps` blocks):
 *
 * - The data is padded with zero blocks to `rounded` = n rounded up to a multiple of K, and
 *   `steps` = rounded / K.
 * - The protected tree has (K + M) * steps leaves: the data at [0, n), zero padding at [n, rounded),
 *   parity at [rounded, rounded + M * steps).
 * - Slot s is the contiguous run [s * steps, (s + 1) * steps) (storage-proof spec: a slot is a
 *   contiguous run of blocks), so data slots hold the original bytes in order.
 * - Codeword (step) i interleaves across the slots: it is the i-th block of every slot, the blocks
 *   at i + j * steps for j < K + M; its first K are data, the last M parity. Losing any M whole
 *   slots loses at most M blocks of each codeword, which the code repairs.
 */
import { HoldfastError } from "../errors.js";
import { MAX_SHARDS } from "./reed-solomon.js";

export interface EcLayout {
  readonly ecK: number;
  readonly ecM: number;
  /** Blocks of the original dataset. */
  readonly originalBlocks: number;
  /** originalBlocks rounded up to a multiple of ecK. */
  readonly rounded: number;
  /** Blocks per slot (and number of codewords). */
  readonly steps: number;
  /** Leaves of the protected tree: (ecK + ecM) * steps. */
  readonly blocksCount: number;
  readonly slots: number;
}

export function ecLayout(originalBlocks: number, ecK: number, ecM: number): EcLayout {
  if (!Number.isInteger(ecK) || !Number.isInteger(ecM) || ecK < 1 || ecM < 1) {
    throw new HoldfastError(
      "ERR_INVALID_EC_PARAMS",
      `K and M must be positive integers, got K=${ecK} M=${ecM}`,
    );
  }
  if (ecK + ecM > MAX_SHARDS) {
    throw new HoldfastError(
      "ERR_INVALID_EC_PARAMS",
      `K + M must be at most ${MAX_SHARDS}, got ${ecK + ecM}`,
    );
  }
  if (!Number.isInteger(originalBlocks) || originalBlocks < ecK) {
    // As in Codex: a slot without a single data block of its own would only hold padding.
    throw new HoldfastError(
      "ERR_INVALID_EC_PARAMS",
      `K=${ecK} data slots need at least ${ecK} blocks; the dataset has ${originalBlocks}`,
    );
  }
  const steps = Math.ceil(originalBlocks / ecK);
  return {
    ecK,
    ecM,
    originalBlocks,
    rounded: steps * ecK,
    steps,
    blocksCount: (ecK + ecM) * steps,
    slots: ecK + ecM,
  };
}

/** Protected-tree index of the block at position `j` (0..K+M-1) of codeword `step`. */
export function codewordIndex(layout: EcLayout, step: number, j: number): number {
  return step + j * layout.steps;
}

/** Protected-tree index of block `position` of slot `slot`. */
export function slotBlockIndex(layout: EcLayout, slot: number, position: number): number {
  return slot * layout.steps + position;
}

/** Parses the CLI's "K+M" notation. */
export function parseEcParams(text: string): { ecK: number; ecM: number } {
  const match = /^(\d{1,3})\+(\d{1,3})$/.exec(text.trim());
  if (!match) {
    throw new HoldfastError(
      "ERR_INVALID_EC_PARAMS",
      `"${text}" is not of the form K+M (for example 4+2)`,
    );
  }
  const ecK = Number(match[1]);
  const ecM = Number(match[2]);
  ecLayout(Math.max(ecK, 1), ecK, ecM); // validates K and M alone
  return { ecK, ecM };
}
