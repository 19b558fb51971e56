import { Poseidon2Error } from "./errors.js";
import { assertElement } from "./field.js";
import { kernel } from "./kernel.js";

/** A Poseidon2 state: three field elements. */
export type State = [bigint, bigint, bigint];

/** Key of a Merkle compression: bit 0 = bottom layer, bit 1 = odd last node. */
export type CompressionKey = 0 | 1 | 2 | 3;

/** The Poseidon2 permutation (BN254, t = 3, x^5, 8 full + 56 partial rounds). */
export function permute(state: readonly [bigint, bigint, bigint]): State {
  if (!Array.isArray(state) || state.length !== 3)
    throw new Poseidon2Error(
      "BAD_LENGTH",
      `permute: the state must be an array of 3 field elements, got ${describeLength(state)}`,
    );
  const [a, b, c] = state;
  assertElement(a, "permute: state[0]");
  assertElement(b, "permute: state[1]");
  assertElement(c, "permute: state[2]");
  return kernel().permute(a, b, c);
}

/** Keyed two-to-one compression: element 0 of permute(x, y, key). */
export function compress(x: bigint, y: bigint, key: CompressionKey): bigint {
  assertElement(x, "compress: x");
  assertElement(y, "compress: y");
  if (key !== 0 && key !== 1 && key !== 2 && key !== 3)
    throw new Poseidon2Error(
      "BAD_PARAMETER",
      `compress: key must be 0, 1, 2 or 3, got ${String(key)}`,
    );
  return kernel().permute(x, y, BigInt(key))[0];
}

function describeLength(value: unknown): string {
  return Array.isArray(value) ? `length ${value.length}` : typeof value;
}
