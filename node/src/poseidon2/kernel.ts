/**
 * The JavaScript side of the WebAssembly kernel: one instance per process, created on first use,
 * with typed wrappers that copy inputs into its memory, call it once, and copy results out.
 * Callers (permutation.ts, sponge.ts, merkle.ts) validate inputs before they get here; the kernel
 * trusts that every element it is given is below r.
 */
import { EXTERNAL_ROUND_CONSTANTS, INTERNAL_ROUND_CONSTANTS } from "./constants.js";
import { ELEMENT_BYTES, readElement, writeElement } from "./field.js";
import { generateKernel, LAYOUT, ROUND_CONSTANT_COUNT } from "./wasm/generate.js";
import { LIMB_ELEMENT_BYTES, montgomeryLimbs } from "./wasm/montgomery.js";

interface KernelExports {
  memory: WebAssembly.Memory;
  permute(io: number): void;
  sponge(src: number, n: number, rate: number, dst: number): void;
  hashCells(src: number, cellSize: number, count: number, dst: number): void;
  merkleLayer(src: number, n: number, bottom: number, dst: number): void;
}

/** Unpacking an element reads a few bytes past it, so every buffer is followed by this many. */
const SLACK = 64;
const PAGE = 65536;
/** Cells are hashed in batches of about this many bytes, so memory stays bounded for big inputs. */
const BATCH_BYTES = 1 << 22;

class Kernel {
  private readonly exports: KernelExports;
  private view!: DataView;
  private bytes!: Uint8Array;

  constructor() {
    const module = new WebAssembly.Module(generateKernel());
    this.exports = new WebAssembly.Instance(module).exports as unknown as KernelExports;
    this.refreshViews();
    const ordered = [
      ...EXTERNAL_ROUND_CONSTANTS.slice(0, 12), // full rounds 0..3, three lanes each
      ...INTERNAL_ROUND_CONSTANTS, // partial rounds, lane 0 only
      ...EXTERNAL_ROUND_CONSTANTS.slice(12), // full rounds 4..7
    ];
    if (ordered.length !== ROUND_CONSTANT_COUNT)
      throw new Error("poseidon2: round constant tables have the wrong size");
    ordered.forEach((c, i) =>
      montgomeryLimbs(c).forEach((limb, j) =>
        this.view.setUint32(
          LAYOUT.roundConstants + i * LIMB_ELEMENT_BYTES + 4 * j,
          Number(limb),
          true,
        ),
      ),
    );
  }

  /** Views must be re-created after memory.grow(), which detaches the old ArrayBuffer. */
  private refreshViews(): void {
    this.view = new DataView(this.exports.memory.buffer);
    this.bytes = new Uint8Array(this.exports.memory.buffer);
  }

  /** Makes room for `size` bytes (plus slack) at LAYOUT.heap and returns that address. */
  private heap(size: number): number {
    const needed = LAYOUT.heap + size + SLACK;
    const have = this.exports.memory.buffer.byteLength;
    if (needed > have) {
      this.exports.memory.grow(Math.ceil((needed - have) / PAGE));
      this.refreshViews();
    }
    return LAYOUT.heap;
  }

  private writeElements(address: number, elements: readonly bigint[]): void {
    elements.forEach((x, i) => writeElement(this.view, address + i * ELEMENT_BYTES, x));
  }

  permute(a: bigint, b: bigint, c: bigint): [bigint, bigint, bigint] {
    const io = LAYOUT.io;
    writeElement(this.view, io, a);
    writeElement(this.view, io + 32, b);
    writeElement(this.view, io + 64, c);
    this.exports.permute(io);
    return [
      readElement(this.view, io),
      readElement(this.view, io + 32),
      readElement(this.view, io + 64),
    ];
  }

  sponge(elements: readonly bigint[], rate: 1 | 2): bigint {
    const src = this.heap((elements.length + 1) * ELEMENT_BYTES);
    const dst = src + elements.length * ELEMENT_BYTES;
    this.writeElements(src, elements);
    this.exports.sponge(src, elements.length, rate, dst);
    return readElement(this.view, dst);
  }

  /** Hashes `count` consecutive cells of `cellSize` bytes; returns the hashes packed (32-byte LE). */
  hashCells(data: Uint8Array, cellSize: number, count: number): Uint8Array {
    const out = new Uint8Array(count * ELEMENT_BYTES);
    const perBatch = Math.max(1, Math.floor(BATCH_BYTES / Math.max(cellSize, 1)));
    for (let first = 0; first < count; first += perBatch) {
      const n = Math.min(perBatch, count - first);
      const src = this.heap(n * cellSize + n * ELEMENT_BYTES + SLACK);
      const dst = src + n * cellSize + SLACK;
      this.bytes.set(data.subarray(first * cellSize, (first + n) * cellSize), src);
      this.exports.hashCells(src, cellSize, n, dst);
      out.set(this.bytes.subarray(dst, dst + n * ELEMENT_BYTES), first * ELEMENT_BYTES);
    }
    return out;
  }

  /**
   * All layers of the keyed Merkle tree over `leaves` (packed 32-byte LE elements), leaves first,
   * root last. With `keep` false only the leaves and the root layer are returned (for merkleRoot).
   */
  merkleLayers(leaves: Uint8Array, keep: boolean): Uint8Array[] {
    let n = leaves.length / ELEMENT_BYTES;
    const address = this.heap(leaves.length);
    this.bytes.set(leaves, address);
    const layers = [leaves];
    // A single leaf is still compressed once (key: bottom and odd), so the bottom layer always runs.
    for (let bottom = 1; n > 1 || bottom === 1; bottom = 0) {
      this.exports.merkleLayer(address, n, bottom, address); // in place, see generate.ts
      n = Math.ceil(n / 2);
      if (keep || n === 1) layers.push(this.bytes.slice(address, address + n * ELEMENT_BYTES));
    }
    return layers;
  }
}

let instance: Kernel | undefined;

/** The process-wide kernel, compiled on first use (a few milliseconds). */
export function kernel(): Kernel {
  return (instance ??= new Kernel());
}
