/**
 * Field elements as bytes: 32 bytes little-endian (storage-proof spec), shown as 0x-prefixed hex
 * of those bytes, which is also how the root sits in `content.merkleRoot` on chain.
 */
export const FIELD_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export function fieldToBytesLE(x: bigint): Uint8Array {
  if (x < 0n || x >= FIELD_MODULUS) throw new RangeError("not a canonical field element");
  const out = new Uint8Array(32);
  let v = x;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function fieldFromBytesLE(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new RangeError("a field element is 32 bytes");
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

export function fieldToHex(x: bigint): string {
  return `0x${Buffer.from(fieldToBytesLE(x)).toString("hex")}`;
}

/** Parses fieldToHex's output; returns undefined for anything else, including values >= r. */
export function fieldFromHex(text: string): bigint | undefined {
  if (!/^0x[0-9a-f]{64}$/.test(text)) return undefined;
  const value = fieldFromBytesLE(Buffer.from(text.slice(2), "hex"));
  return value < FIELD_MODULUS ? value : undefined;
}
