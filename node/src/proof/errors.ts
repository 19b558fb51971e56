/** What went wrong while preparing, proving or verifying a storage proof; stable, for callers. */
export type StorageProofErrorCode =
  /** Circuit parameters outside what SampleAndProve accepts. */
  | "BAD_PARAMETERS"
  /** A challenge or merkle root that is not 32 bytes, or a root that is not below r. */
  | "BAD_BYTES32"
  /** A slot index that is not an integer in [0, slot count). */
  | "BAD_SLOT_INDEX"
  /** A slot or dataset larger than the circuit instance supports, or empty. */
  | "TOO_LARGE"
  /** The slot's root is not the dataset tree's leaf at the slot index. */
  | "SLOT_NOT_IN_DATASET"
  /** The dataset tree over the given slot roots does not have the root the contract holds. */
  | "DATASET_ROOT_MISMATCH"
  /** The block store returned a block of the wrong size, or one that does not match the slot tree. */
  | "BAD_BLOCK"
  /** The witness generator refused the input (the statement does not hold for it). */
  | "WITNESS_FAILED"
  /** snarkjs failed while proving or verifying, or the worker thread died. */
  | "PROVER_FAILED"
  /** The prover or verifier was closed. */
  | "CLOSED";

/** Thrown for every storage-proof input or operation that cannot go through; nothing is changed. */
export class StorageProofError extends Error {
  override readonly name = "StorageProofError";

  constructor(
    readonly code: StorageProofErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
