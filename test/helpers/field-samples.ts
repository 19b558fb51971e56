/**
 * Reproducible pseudo-random test inputs by label, so a failing case can be rerun exactly; thin
 * wrappers over DeterministicRandom.
 */
import { DeterministicRandom } from "./deterministic-random.js";
import { R } from "./poseidon2-reference.js";

/** `count` field elements (uniform enough for tests: 256-bit values reduced mod r). */
export function fieldSamples(label: string, count: number): bigint[] {
  const random = new DeterministicRandom(label);
  return Array.from({ length: count }, () => random.bigint256() % R);
}

/** `length` bytes. */
export function byteSamples(label: string, length: number): Uint8Array {
  return new DeterministicRandom(label).bytes(length);
}
