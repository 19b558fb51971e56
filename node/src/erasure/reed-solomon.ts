/**
 * A systematic Reed-Solomon code over GF(2^8): k data shards pass through unchanged and m parity
 * shards are the rows of a Cauchy matrix times the data. Every square submatrix of a Cauchy matrix
 * is invertible, so the generator [I; C] is MDS: any k of the k + m shards rebuild the data.
 * Shards are byte arrays of one common length; k + m <= 256 (the field's size).
 */
import { HoldfastError } from "../errors.js";
import { inv, mul, mulAddInto } from "./gf256.js";

export const MAX_SHARDS = 256;

export class ReedSolomon {
  /** parityMatrix[i][j]: coefficient of data shard j in parity shard i. */
  private readonly parityMatrix: Uint8Array[];

  constructor(
    readonly k: number,
    readonly m: number,
  ) {
    if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > MAX_SHARDS) {
      throw new HoldfastError(
        "ERR_INVALID_EC_PARAMS",
        `erasure coding needs integers K >= 1 and M >= 1 with K + M <= ${MAX_SHARDS}, got K=${k} M=${m}`,
      );
    }
    // Cauchy entries 1 / (x_i + y_j) with x_i = k + i and y_j = j: all distinct points, so no
    // denominator is zero.
    this.parityMatrix = Array.from({ length: m }, (_, i) =>
      Uint8Array.from({ length: k }, (_, j) => inv((k + i) ^ j)),
    );
  }

  /** Computes the m parity shards of k data shards (into `parity` if given, else new arrays). */
  encode(data: readonly Uint8Array[], parity?: Uint8Array[]): Uint8Array[] {
    const size = this.checkShards(data, this.k, "data");
    const out = parity ?? Array.from({ length: this.m }, () => new Uint8Array(size));
    for (let i = 0; i < this.m; i++) {
      const row = this.parityMatrix[i]!;
      const target = out[i]!;
      if (target.length !== size) throw new RangeError("parity shards must match the data shards");
      target.fill(0);
      for (let j = 0; j < this.k; j++) mulAddInto(target, data[j]!, row[j]!);
    }
    return out;
  }

  /**
   * Given the k + m shards in order with lost ones as null, returns the k data shards, rebuilding
   * the missing ones from any k that are present. Throws ERR_DECODE_FAILED with fewer than k.
   */
  decode(shards: readonly (Uint8Array | null | undefined)[]): Uint8Array[] {
    if (shards.length !== this.k + this.m) {
      throw new RangeError(`decode takes all ${this.k + this.m} shard slots, null where lost`);
    }
    const present = shards.flatMap((shard, index) => (shard ? [index] : []));
    if (present.length < this.k) {
      throw new HoldfastError(
        "ERR_DECODE_FAILED",
        `only ${present.length} of ${this.k + this.m} shards are available; ${this.k} are needed`,
      );
    }
    const size = shards[present[0]!]!.length;
    if (present.some((i) => shards[i]!.length !== size)) {
      throw new RangeError("all shards must have the same length");
    }
    const missingData = [];
    for (let r = 0; r < this.k; r++) if (!shards[r]) missingData.push(r);
    if (missingData.length === 0) return shards.slice(0, this.k) as Uint8Array[];

    // Rows of the generator for k present shards (data first: they are cheapest), inverted.
    const chosen = present.slice(0, this.k);
    const decodeMatrix = invert(chosen.map((row) => this.generatorRow(row)));
    const result = shards.slice(0, this.k) as (Uint8Array | null)[];
    for (const r of missingData) {
      const out = new Uint8Array(size);
      const coefficients = decodeMatrix[r]!;
      chosen.forEach((row, j) => mulAddInto(out, shards[row]!, coefficients[j]!));
      result[r] = out;
    }
    return result as Uint8Array[];
  }

  private generatorRow(row: number): Uint8Array {
    if (row >= this.k) return this.parityMatrix[row - this.k]!;
    const unit = new Uint8Array(this.k);
    unit[row] = 1;
    return unit;
  }

  private checkShards(shards: readonly Uint8Array[], count: number, what: string): number {
    if (shards.length !== count) throw new RangeError(`expected ${count} ${what} shards`);
    const size = shards[0]!.length;
    if (shards.some((s) => s.length !== size)) {
      throw new RangeError(`all ${what} shards must have the same length`);
    }
    return size;
  }
}

/** Gauss-Jordan inversion of a square matrix over GF(2^8). */
function invert(matrix: readonly Uint8Array[]): Uint8Array[] {
  const n = matrix.length;
  const a = matrix.map((row) => Uint8Array.from(row));
  const b = Array.from({ length: n }, (_, i) => {
    const row = new Uint8Array(n);
    row[i] = 1;
    return row;
  });
  for (let col = 0; col < n; col++) {
    const pivot = a.findIndex((row, r) => r >= col && row[col] !== 0);
    if (pivot < 0) throw new HoldfastError("ERR_DECODE_FAILED", "the decoding matrix is singular");
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    const scale = inv(a[col]![col]!);
    scaleRow(a[col]!, scale);
    scaleRow(b[col]!, scale);
    for (let r = 0; r < n; r++) {
      const factor = a[r]![col]!;
      if (r === col || factor === 0) continue;
      mulAddInto(a[r]!, a[col]!, factor);
      mulAddInto(b[r]!, b[col]!, factor);
    }
  }
  return b;
}

function scaleRow(row: Uint8Array, factor: number): void {
  for (let i = 0; i < row.length; i++) row[i] = mul(row[i]!, factor);
}
