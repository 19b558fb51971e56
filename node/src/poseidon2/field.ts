import { Poseidon2Error } from "./errors.js";

/** The BN254 scalar field's prime r: every Poseidon2 value is an integer in [0, r). */
export const FIELD_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Bytes of a serialised field element (little-endian, as in manifests and on chain). */
export const ELEMENT_BYTES = 32;

/** Throws unless `x` is a bigint in [0, r). `what` names the value in the message. */
export function assertElement(x: unknown, what: string): asserts x is bigint {
  if (typeof x !== "bigint")
    throw new Poseidon2Error("NOT_A_FIELD_ELEMENT", `${what} must be a bigint, got ${typeof x}`);
  if (x < 0n || x >= FIELD_MODULUS)
    throw new Poseidon2Error(
      "NOT_A_FIELD_ELEMENT",
      `${what} must be in [0, r) of the BN254 scalar field, got ${x}`,
    );
}

// Four 64-bit words through a DataView are several times faster than a byte or hex loop, and
// setBigUint64 keeps only the low 64 bits of its argument, so no masking is needed.

/** Writes a field element as 32 little-endian bytes at `offset` (no range check: callers check). */
export function writeElement(view: DataView, offset: number, x: bigint): void {
  view.setBigUint64(offset, x, true);
  view.setBigUint64(offset + 8, x >> 64n, true);
  view.setBigUint64(offset + 16, x >> 128n, true);
  view.setBigUint64(offset + 24, x >> 192n, true);
}

/** Reads 32 little-endian bytes at `offset` as an unsigned integer (may be >= r). */
export function readElement(view: DataView, offset: number): bigint {
  return (
    (view.getBigUint64(offset + 24, true) << 192n) |
    (view.getBigUint64(offset + 16, true) << 128n) |
    (view.getBigUint64(offset + 8, true) << 64n) |
    view.getBigUint64(offset, true)
  );
}

/** The 32-byte little-endian serialisation of a field element. */
export function toBytesLE(x: bigint): Uint8Array {
  assertElement(x, "toBytesLE: x");
  const bytes = new Uint8Array(ELEMENT_BYTES);
  writeElement(new DataView(bytes.buffer), 0, x);
  return bytes;
}

/** Reads a field element from exactly 32 little-endian bytes; a value >= r is rejected. */
export function fromBytesLE(bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array))
    throw new Poseidon2Error("BAD_TYPE", "fromBytesLE: expected a Uint8Array of 32 bytes");
  if (bytes.length !== ELEMENT_BYTES)
    throw new Poseidon2Error(
      "BAD_LENGTH",
      `fromBytesLE: expected exactly ${ELEMENT_BYTES} bytes, got ${bytes.length}`,
    );
  const x = readElement(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
  if (x >= FIELD_MODULUS)
    throw new Poseidon2Error(
      "NOT_A_FIELD_ELEMENT",
      "fromBytesLE: the bytes encode an integer >= r (not a canonical field element)",
    );
  return x;
}

/** Elements packed back to back as 32-byte little-endian values (no range check). */
export function packElements(elements: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(elements.length * ELEMENT_BYTES);
  const view = new DataView(out.buffer);
  elements.forEach((x, i) => writeElement(view, i * ELEMENT_BYTES, x));
  return out;
}

/** The inverse of packElements; the kernel only ever produces canonical values. */
export function unpackElements(packed: Uint8Array): bigint[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  return Array.from({ length: packed.length / ELEMENT_BYTES }, (_, i) =>
    readElement(view, i * ELEMENT_BYTES),
  );
}
