/**
 * Reproducible pseudo-random test inputs: SHA-256 of a label and a counter, so a failing case can
 * be rerun exactly.
 */
import { createHash } from "node:crypto";
import { R } from "./poseidon2-reference.js";

function digest(label: string, index: number): Buffer {
  return createHash("sha256").update(`${label}/${index}`).digest();
}

/** `count` field elements (uniform enough for tests: 256-bit hashes reduced mod r). */
export function fieldSamples(label: string, count: number): bigint[] {
  return Array.from(
    { length: count },
    (_, i) => BigInt(`0x${digest(label, i).toString("hex")}`) % R,
  );
}

/** `length` bytes. */
export function byteSamples(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i * 32 < length; i++)
    out.set(digest(label, i).subarray(0, length - i * 32), i * 32);
  return out;
}
