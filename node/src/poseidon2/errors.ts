/** What was wrong with the input; stable, for callers that branch on it. */
export type Poseidon2ErrorCode =
  /** Not a bigint, negative, or >= r; also 32 bytes that encode an integer >= r. */
  | "NOT_A_FIELD_ELEMENT"
  /** Not a Uint8Array or not an array where one is expected. */
  | "BAD_TYPE"
  /** A byte string, state, data buffer or proof path of the wrong length. */
  | "BAD_LENGTH"
  /** A compression key outside 0..3, a sponge rate other than 1 or 2, a bad cell size. */
  | "BAD_PARAMETER"
  /** A Merkle tree (or proof) over zero leaves. */
  | "EMPTY_TREE"
  /** A leaf index outside the tree, or a count that is not a non-negative safe integer. */
  | "BAD_INDEX"
  /** A cell count that is not a power of two. */
  | "NOT_A_POWER_OF_TWO";

/** Thrown for every input the Poseidon2 library refuses; nothing is computed or changed. */
export class Poseidon2Error extends Error {
  override readonly name = "Poseidon2Error";

  constructor(
    readonly code: Poseidon2ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
