/**
 * Field elements as text: 0x-prefixed hex of their 32 little-endian bytes (the byte encoding is the
 * Poseidon2 library's, storage-proof spec), which is also how a root sits in `content.merkleRoot`
 * on chain.
 */
import { FIELD_MODULUS, fromBytesLE, toBytesLE } from "../poseidon2/index.js";

export { FIELD_MODULUS, fromBytesLE as fieldFromBytesLE, toBytesLE as fieldToBytesLE };

export function fieldToHex(x: bigint): string {
  return `0x${Buffer.from(toBytesLE(x)).toString("hex")}`;
}

/** Parses fieldToHex's output; undefined for anything else, including values >= r. */
export function fieldFromHex(text: string): bigint | undefined {
  if (!/^0x[0-9a-f]{64}$/.test(text)) return undefined;
  try {
    return fromBytesLE(Buffer.from(text.slice(2), "hex"));
  } catch {
    return undefined; // not below r
  }
}
