import { Poseidon2Error } from "./errors.js";
import { assertElement, readElement, unpackElements } from "./field.js";
import { kernel } from "./kernel.js";

/** Bytes per cell: the unit a storage proof samples (storage-proof.md, "Three stacked trees"). */
export const CELL_SIZE = 2048;
/** Bytes per field element when cutting a byte string: 31, so every chunk is below r. */
const CHUNK_BYTES = 31;

/**
 * The Poseidon2 sponge over field elements: rate 2 (default) or 1, "10*" padding that always
 * appends the element 1, IV 2^64 + 256*3 + rate in the capacity lane; returns lane 0.
 */
export function sponge(elements: readonly bigint[], rate: 1 | 2 = 2): bigint {
  if (rate !== 1 && rate !== 2)
    throw new Poseidon2Error("BAD_PARAMETER", `sponge: rate must be 1 or 2, got ${String(rate)}`);
  if (!Array.isArray(elements))
    throw new Poseidon2Error("BAD_TYPE", "sponge: elements must be an array of field elements");
  elements.forEach((x, i) => assertElement(x, `sponge: elements[${i}]`));
  return kernel().sponge(elements, rate);
}

/**
 * Cuts bytes into 31-byte little-endian chunks; the last (possibly empty) piece gets the byte 0x01
 * appended. n bytes give floor(n / 31) + 1 elements.
 */
export function bytesToElements(bytes: Uint8Array): bigint[] {
  assertBytes(bytes, "bytesToElements");
  const full = Math.floor(bytes.length / CHUNK_BYTES);
  const chunk = new Uint8Array(32); // one zero byte above each 31-byte chunk
  const view = new DataView(chunk.buffer);
  const elements: bigint[] = [];
  for (let i = 0; i <= full; i++) {
    chunk.fill(0);
    const piece = bytes.subarray(CHUNK_BYTES * i, Math.min(bytes.length, CHUNK_BYTES * (i + 1)));
    chunk.set(piece);
    if (i === full) chunk[piece.length] = 1;
    elements.push(readElement(view, 0));
  }
  return elements;
}

/** The hash of a cell (or any byte string): the rate-2 sponge over bytesToElements(cell). */
export function cellHash(cell: Uint8Array): bigint {
  assertBytes(cell, "cellHash");
  return unpackElements(kernel().hashCells(cell, cell.length, 1))[0]!;
}

/**
 * Batch interface for hosts: the hashes of consecutive `cellSize`-byte cells of `data`, in order.
 * The whole loop runs inside the kernel; `data.length` must be a multiple of `cellSize`.
 */
export function cellHashes(data: Uint8Array, cellSize: number = CELL_SIZE): bigint[] {
  return unpackElements(cellHashesPacked(data, cellSize));
}

/** cellHashes with the results packed as 32-byte little-endian elements, back to back. */
export function cellHashesPacked(data: Uint8Array, cellSize: number = CELL_SIZE): Uint8Array {
  assertBytes(data, "cellHashes");
  if (!Number.isSafeInteger(cellSize) || cellSize < 1)
    throw new Poseidon2Error(
      "BAD_PARAMETER",
      `cellHashes: cellSize must be a positive integer, got ${String(cellSize)}`,
    );
  if (data.length % cellSize !== 0)
    throw new Poseidon2Error(
      "BAD_LENGTH",
      `cellHashes: data length ${data.length} is not a multiple of the cell size ${cellSize}`,
    );
  return kernel().hashCells(data, cellSize, data.length / cellSize);
}

export function assertBytes(bytes: unknown, what: string): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array))
    throw new Poseidon2Error("BAD_TYPE", `${what}: expected a Uint8Array`);
}
