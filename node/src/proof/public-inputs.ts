/**
 * The storage proof's public inputs from what the marketplace holds (shared/spec/storage-proof.md,
 * "Sampling" and "On chain"): entropy from the slot's 32-byte challenge, dataSetRoot from the
 * request's `content.merkleRoot`, and the slot index. The marketplace derives the same three values
 * itself (contracts/marketplace/FieldEncoding.sol); this module is the node's only implementation.
 */
import { type BytesLike, getBytes } from "ethers";
import { fromBytesLE } from "../poseidon2/index.js";
import { BN254_SCALAR_MODULUS } from "./bn254.js";
import { StorageProofError } from "./errors.js";
import type { PublicSignals } from "./groth16-encoding.js";

/** Bytes of the challenge that make the entropy: 31, so that it is always below r. */
const ENTROPY_BYTES = 31;

function bytes32(value: BytesLike, what: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = getBytes(value);
  } catch (error) {
    throw new StorageProofError("BAD_BYTES32", `${what} is not a byte string`, { cause: error });
  }
  if (bytes.length !== 32) {
    throw new StorageProofError("BAD_BYTES32", `${what} must be 32 bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** The entropy of a challenge: its bytes 0..30 as a little-endian integer (byte 31 is dropped). */
export function entropyFromChallenge(challenge: BytesLike): bigint {
  const word = new Uint8Array(32);
  word.set(bytes32(challenge, "challenge").subarray(0, ENTROPY_BYTES));
  return fromBytesLE(word);
}

/**
 * The dataset root a request's `content.merkleRoot` holds: 32 bytes little-endian. A value >= r is
 * no field element; the contract cannot verify a proof for it, so it is refused here.
 */
export function dataSetRootFromMerkleRoot(merkleRoot: BytesLike): bigint {
  const bytes = bytes32(merkleRoot, "merkleRoot");
  try {
    return fromBytesLE(bytes);
  } catch (error) {
    throw new StorageProofError(
      "BAD_BYTES32",
      "merkleRoot encodes an integer that is not below r",
      {
        cause: error,
      },
    );
  }
}

/** [entropy, dataSetRoot, slotIndex] as the verifier contract takes them. */
export function storageProofPublicInputs(
  challenge: BytesLike,
  merkleRoot: BytesLike,
  slotIndex: bigint | number,
): PublicSignals {
  const valid =
    typeof slotIndex === "number"
      ? Number.isSafeInteger(slotIndex) && slotIndex >= 0
      : slotIndex >= 0n && slotIndex < BN254_SCALAR_MODULUS;
  if (!valid) {
    throw new StorageProofError(
      "BAD_SLOT_INDEX",
      `slotIndex must be an integer in [0, r), got ${slotIndex}`,
    );
  }
  const index = BigInt(slotIndex);
  return [entropyFromChallenge(challenge), dataSetRootFromMerkleRoot(merkleRoot), index];
}
