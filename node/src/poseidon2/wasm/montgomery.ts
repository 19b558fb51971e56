/**
 * Code generation for arithmetic modulo r in WebAssembly: Montgomery multiplication on 9 limbs of
 * 29 bits held in i64 locals.
 *
 * Why Montgomery: reducing a 508-bit product modulo r by division is slow; Montgomery's trick keeps
 * every value as x*R mod r (R = 2^261) so that a product only needs "add a multiple of r that
 * clears the low limb, drop the limb" nine times, which is multiplications and shifts only.
 *
 * Why 29-bit limbs rather than 32: WebAssembly has no 64x64->128 multiply, so limb products must
 * fit in an i64. A 29x29-bit product is < 2^58, so the up to 18 products that land in one column
 * (9 from a*b, 9 from the reduction) sum to < 2^63 without overflow. Carries can then be propagated
 * once per column instead of after every product, which is what 32-bit limbs would force; this
 * "delayed carry" form roughly halves the instruction count. 9 * 29 = 261 bits leave 7 bits of
 * headroom over r's 254 bits, which the bounds below rely on.
 *
 * Values in memory are 9 little-endian u32 limbs (36 bytes), always normalised (each limb < 2^29)
 * and fully reduced (< r), in Montgomery form unless stated otherwise.
 */
import { FIELD_MODULUS } from "../field.js";
import type { FunctionBuilder, Local } from "./encoder.js";

export const LIMB_BITS = 29;
export const LIMB_COUNT = 9;
/** Bytes of one element in wasm memory: 9 u32 limbs. */
export const LIMB_ELEMENT_BYTES = 4 * LIMB_COUNT;
const MASK = (1n << BigInt(LIMB_BITS)) - 1n;

/** The Montgomery radix R = 2^(29*9). */
const R = 1n << BigInt(LIMB_BITS * LIMB_COUNT);

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

/** Modular inverse by the extended Euclidean algorithm (used only while generating code). */
function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new Error("montgomery: not invertible");
  return mod(oldS, m);
}

/** Splits a non-negative integer below 2^261 into 9 limbs of 29 bits, least significant first. */
export function toLimbs(x: bigint): bigint[] {
  return Array.from({ length: LIMB_COUNT }, (_, j) => (x >> BigInt(LIMB_BITS * j)) & MASK);
}

const P = toLimbs(FIELD_MODULUS);
/** -r^-1 mod 2^29: multiplying the low limb by it gives the multiple of r that clears that limb. */
const MU = mod(-inverse(FIELD_MODULUS, 1n << BigInt(LIMB_BITS)), 1n << BigInt(LIMB_BITS));
/** x -> x*R mod r is Montgomery multiplication by R^2 mod r (the product divides by R once). */
const R_SQUARED = (R * R) % FIELD_MODULUS;

/** The Montgomery form x*R mod r of an integer, as limbs (for constants baked into the code). */
export function montgomeryLimbs(x: bigint): bigint[] {
  return toLimbs(mod(x * R, FIELD_MODULUS));
}

/** An operand: limbs in locals, or limbs known when the code is generated. */
type Operand = readonly Local[] | readonly bigint[];

/**
 * Emits field arithmetic into one function. Scratch locals are allocated once per function and
 * reused by every operation, so operations must not be interleaved (they never are: each is emitted
 * as a straight block).
 */
export class FieldEmitter {
  /** Column accumulators of the double-width product. */
  private readonly t: Local[];
  /** Differences for the conditional subtraction. */
  private readonly d: Local[];
  private readonly m: Local;
  private readonly borrow: Local;

  constructor(private readonly f: FunctionBuilder) {
    this.t = f.locals64(2 * LIMB_COUNT);
    this.d = f.locals64(LIMB_COUNT);
    this.m = f.local("i64");
    this.borrow = f.local("i32");
  }

  /** Nine fresh i64 locals for one element. */
  element(): Local[] {
    return this.f.locals64(LIMB_COUNT);
  }

  load(out: readonly Local[], ptr: Local, offset: number): void {
    out.forEach((limb, j) =>
      this.f
        .get(ptr)
        .load("i64.load32_u", offset + 4 * j)
        .set(limb),
    );
  }

  store(ptr: Local, offset: number, value: readonly Local[]): void {
    value.forEach((limb, j) =>
      this.f
        .get(ptr)
        .get(limb)
        .store("i64.store32", offset + 4 * j),
    );
  }

  setConstant(out: readonly Local[], limbs: readonly bigint[]): void {
    out.forEach((limb, j) => this.f.i64(limbs[j]!).set(limb));
  }

  /**
   * Unpacks `byteCount` (31 or 32) little-endian bytes at ptr+offset into plain limbs (not in
   * Montgomery form). Each limb is cut from one unaligned 8-byte load; the loads read up to 5 bytes
   * past the element, so every buffer the kernel reads must be followed by 8 readable bytes (their
   * contents are masked away).
   */
  unpackBytes(out: readonly Local[], ptr: Local, offset: number, byteCount: 31 | 32): void {
    const totalBits = 8 * byteCount;
    out.forEach((limb, j) => {
      const start = LIMB_BITS * j;
      const width = Math.min(LIMB_BITS, totalBits - start);
      if (width <= 0) {
        this.f.i64(0n).set(limb);
        return;
      }
      this.f
        .get(ptr)
        .load("i64.load", offset + (start >> 3))
        .i64(BigInt(start & 7))
        .op("i64.shr_u")
        .i64((1n << BigInt(width)) - 1n)
        .op("i64.and")
        .set(limb);
    });
  }

  /** Packs canonical plain limbs (< r < 2^256) into 32 little-endian bytes at ptr+offset. */
  packBytes(ptr: Local, offset: number, limbs: readonly Local[]): void {
    for (let w = 0; w < 4; w++) {
      this.f.get(ptr);
      let terms = 0;
      limbs.forEach((limb, j) => {
        const shift = LIMB_BITS * j - 64 * w; // where limb j's bit 0 lands inside word w
        if (shift >= 64 || shift + LIMB_BITS <= 0) return; // no overlap with this word
        this.f.get(limb);
        if (shift > 0) this.f.i64(BigInt(shift)).op("i64.shl");
        if (shift < 0) this.f.i64(BigInt(-shift)).op("i64.shr_u");
        if (terms++ > 0) this.f.op("i64.or");
      });
      this.f.store("i64.store", offset + 8 * w);
    }
  }

  /** out = a*b/R mod r (Montgomery product; both in Montgomery form gives the product's form). */
  mul(out: readonly Local[], a: Operand, b: Operand): void {
    this.columnProduct(a, b);
    this.reduce(out);
  }

  /** out = a*a/R mod r, with each cross product computed once and doubled. */
  square(out: readonly Local[], a: readonly Local[]): void {
    const f = this.f;
    for (let k = 0; k < 2 * LIMB_COUNT - 1; k++) {
      let crossTerms = 0;
      for (let i = Math.max(0, k - LIMB_COUNT + 1); 2 * i < k; i++) {
        f.get(a[i]!)
          .get(a[k - i]!)
          .op("i64.mul");
        if (crossTerms++ > 0) f.op("i64.add");
      }
      if (crossTerms > 0) f.i64(1n).op("i64.shl");
      if (k % 2 === 0) {
        f.get(a[k / 2]!)
          .get(a[k / 2]!)
          .op("i64.mul");
        if (crossTerms > 0) f.op("i64.add");
      }
      f.set(this.t[k]!);
    }
    f.i64(0n).set(this.t[2 * LIMB_COUNT - 1]!);
    this.reduce(out);
  }

  /** out = x*R mod r from plain limbs (to Montgomery form). */
  toMontgomery(out: readonly Local[], plain: readonly Local[]): void {
    this.mul(out, plain, toLimbs(R_SQUARED));
  }

  /** out = x from Montgomery limbs (Montgomery product with 1 divides by R once). */
  fromMontgomery(out: readonly Local[], mont: readonly Local[]): void {
    this.mul(out, mont, toLimbs(1n));
  }

  /** out = a + b mod r, for reduced a and b; out may be a or b. */
  add(out: readonly Local[], a: readonly Local[], b: readonly Local[]): void {
    const s = this.t.slice(0, LIMB_COUNT);
    s.forEach((limb, j) => this.f.get(a[j]!).get(b[j]!).op("i64.add").set(limb));
    this.normalise(s);
    this.subtractIfAtLeastModulus(out, s); // a + b < 2r, so one subtraction reduces it
  }

  /** t[0..17] = column sums of a*b (no carries yet); products by constant 0 or 1 are folded. */
  private columnProduct(a: Operand, b: Operand): void {
    const f = this.f;
    const push = (x: Local | bigint) => (typeof x === "bigint" ? f.i64(x) : f.get(x));
    for (let k = 0; k < 2 * LIMB_COUNT; k++) {
      let terms = 0;
      for (let i = Math.max(0, k - LIMB_COUNT + 1); i <= Math.min(k, LIMB_COUNT - 1); i++) {
        const x = a[i]!;
        const y = b[k - i]!;
        if (x === 0n || y === 0n) continue;
        if (x === 1n) push(y);
        else if (y === 1n) push(x);
        else {
          push(x);
          push(y);
          f.op("i64.mul");
        }
        if (terms++ > 0) f.op("i64.add");
      }
      if (terms === 0) f.i64(0n);
      f.set(this.t[k]!);
    }
  }

  /**
   * Montgomery reduction of t (the column sums of a*b with a < 2^256, b < r) into
   * out = t / R mod r, fully reduced.
   *
   * Step i picks m < 2^29 with t_i + m*r_0 = 0 mod 2^29, adds m*r at limb i, and moves the (now
   * exactly divisible) low limb's carry up. After nine steps the low nine limbs are zero and
   * t_9..t_17 hold (a*b + M*r)/R < 2r, which one conditional subtraction makes canonical.
   * Column bound: at most 9 product terms + 9 reduction terms of < 2^58 each + a carry < 2^63.
   */
  private reduce(out: readonly Local[]): void {
    const f = this.f;
    const t = this.t;
    for (let i = 0; i < LIMB_COUNT; i++) {
      f.get(t[i]!).i64(MU).op("i64.mul").i64(MASK).op("i64.and").set(this.m);
      // t_{i+1} += (t_i + m*r_0) >> 29; the low limb itself is dropped (it is zero mod 2^29).
      f.get(t[i + 1]!)
        .get(t[i]!)
        .get(this.m)
        .i64(P[0]!)
        .op("i64.mul")
        .op("i64.add")
        .i64(BigInt(LIMB_BITS))
        .op("i64.shr_u")
        .op("i64.add");
      f.get(this.m)
        .i64(P[1]!)
        .op("i64.mul")
        .op("i64.add")
        .set(t[i + 1]!);
      for (let j = 2; j < LIMB_COUNT; j++)
        f.get(t[i + j]!)
          .get(this.m)
          .i64(P[j]!)
          .op("i64.mul")
          .op("i64.add")
          .set(t[i + j]!);
    }
    const high = t.slice(LIMB_COUNT);
    this.normalise(high);
    this.subtractIfAtLeastModulus(out, high);
  }

  /** Propagates carries so every limb but the top is < 2^29 (the top absorbs the rest). */
  private normalise(limbs: readonly Local[]): void {
    const f = this.f;
    for (let j = 0; j < LIMB_COUNT - 1; j++) {
      f.get(limbs[j + 1]!)
        .get(limbs[j]!)
        .i64(BigInt(LIMB_BITS))
        .op("i64.shr_u")
        .op("i64.add")
        .set(limbs[j + 1]!);
      f.get(limbs[j]!).i64(MASK).op("i64.and").set(limbs[j]!);
    }
  }

  /**
   * out = v - r if v >= r, else v, for normalised v < 2r. The subtraction runs with signed
   * borrows (an arithmetic shift of a negative difference gives -1); the sign of the top
   * difference says whether v was below r, and `select` picks without branching.
   */
  private subtractIfAtLeastModulus(out: readonly Local[], v: readonly Local[]): void {
    const f = this.f;
    const d = this.d;
    f.get(v[0]!).i64(P[0]!).op("i64.sub").set(d[0]!);
    for (let j = 1; j < LIMB_COUNT; j++)
      f.get(v[j]!)
        .i64(P[j]!)
        .op("i64.sub")
        .get(d[j - 1]!)
        .i64(BigInt(LIMB_BITS))
        .op("i64.shr_s")
        .op("i64.add")
        .set(d[j]!);
    f.get(d[LIMB_COUNT - 1]!)
      .i64(0n)
      .op("i64.lt_s")
      .set(this.borrow);
    for (let j = 0; j < LIMB_COUNT; j++)
      f.get(v[j]!).get(d[j]!).i64(MASK).op("i64.and").get(this.borrow).op("select").set(out[j]!);
  }
}
