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
 * (9 from a*b, 9 from the reduction) sum to < 2^63 without overflow. Carries then travel once per
 * column instead of after every product, as 32-bit limbs would force. 9 * 29 = 261 bits leave 7
 * bits of headroom over r's 254 bits, which the bounds below rely on.
 *
 * Values in memory are 9 little-endian u32 limbs (36 bytes), always normalised (each limb < 2^29)
 * and fully reduced (< r), in Montgomery form unless stated otherwise.
 *
 * Inside the permutation values are kept "loose" to save instructions: below a small multiple k*r
 * rather than below r, and with limbs that may exceed 29 bits between additions. A Montgomery
 * product of normalised inputs below ka*r and kb*r is below (ka*kb*r/R + 1)*r, so below 2r while
 * ka*kb <= 169 (r/R is about 1/169.3): products need no final subtraction and sums no reduction,
 * as long as the bounds (tracked in generate.ts) stay within that.
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
// BN254's r is 1 + 2^28 * odd, so r_0 = 2^28 + 1 and MU = 2^28 - 1: the reduction multiplies by
// them with a shift and an addition (montgomeryProducts), which shortens its chain of dependent
// steps. Other moduli would need multiplications there.
if (P[0] !== (1n << 28n) + 1n || MU !== (1n << 28n) - 1n)
  throw new Error("montgomery: the reduction assumes r = 1 + 2^28 mod 2^29");
/** x -> x*R mod r is Montgomery multiplication by R^2 mod r (the product divides by R once). */
const R_SQUARED = (R * R) % FIELD_MODULUS;

/**
 * reduceLoose estimates floor(x / r) as (top limb * QUOTIENT_SCALE) >> QUOTIENT_SHIFT, the top limb
 * holding bits 232 and up. A shift of 56 keeps the product below 2^63 for x < 2^258.
 */
const QUOTIENT_SHIFT = 56n;
const QUOTIENT_SCALE = (1n << (232n + QUOTIENT_SHIFT)) / FIELD_MODULUS;

/** The Montgomery form x*R mod r of an integer, as limbs (for constants baked into the code). */
export function montgomeryLimbs(x: bigint): bigint[] {
  return toLimbs(mod(x * R, FIELD_MODULUS));
}

/** An operand: limbs in locals, or limbs known when the code is generated. */
type Operand = readonly Local[] | readonly bigint[];

/**
 * Emits field arithmetic into one function. Scratch locals are allocated once per emitter and
 * reused by every operation, which is safe because each operation is emitted as one straight block.
 */
export class FieldEmitter {
  /** The limb sums of `add`. */
  private readonly sums: Local[];
  /** Per product being emitted side by side: its reduction digits m_0..m_8, column and carry. */
  private readonly ways: { m: Local[]; column: Local; carry: Local }[] = [];
  /** Differences for the conditional subtraction, and its borrow. */
  private readonly d: Local[];
  private readonly borrow: Local;
  /** reduceLoose's quotient estimate. */
  private readonly q: Local;

  constructor(private readonly f: FunctionBuilder) {
    this.sums = f.locals64(LIMB_COUNT);
    this.d = f.locals64(LIMB_COUNT);
    this.borrow = f.local("i32");
    this.q = f.local("i64");
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

  /** out = a*b/R mod r, fully reduced (Montgomery product; a < 2^256 and b < r, normalised). */
  mul(out: readonly Local[], a: Operand, b: Operand): void {
    this.montgomeryProducts([{ out, a, b }]);
    this.subtractIfAtLeastModulus(out, out);
  }

  /**
   * out = a*b/R mod r, or that plus r: the loose Montgomery product. a and b must be normalised,
   * a < ka*r and b < kb*r with ka*kb <= 169; then out < 2r, normalised. out may be a or b.
   */
  mulLoose(out: readonly Local[], a: readonly Local[], b: readonly Local[]): void {
    this.montgomeryProducts([{ out, a, b }]);
  }

  /** mulLoose(out, a, a), with each cross product computed once and doubled. */
  squareLoose(out: readonly Local[], a: readonly Local[]): void {
    this.montgomeryProducts([{ out, a, b: "square" }]);
  }

  /**
   * Several independent loose products (b = "square" for a*a), their instructions interleaved
   * column by column; same bounds as mulLoose. No out may be another product's input.
   */
  productsLoose(
    products: readonly {
      out: readonly Local[];
      a: readonly Local[];
      b: readonly Local[] | "square";
    }[],
  ): void {
    this.montgomeryProducts(products);
  }

  /** out = x*R mod r from plain limbs (to Montgomery form). */
  toMontgomery(out: readonly Local[], plain: readonly Local[]): void {
    this.mul(out, plain, toLimbs(R_SQUARED));
  }

  /** out = x from Montgomery limbs (Montgomery product with 1 divides by R once). */
  fromMontgomery(out: readonly Local[], mont: readonly Local[]): void {
    this.mul(out, mont, toLimbs(1n));
  }

  /** out = a + b mod r, fully reduced, for reduced a and b; out may be a or b. */
  add(out: readonly Local[], a: readonly Local[], b: readonly Local[]): void {
    const s = this.sums;
    s.forEach((limb, j) => this.f.get(a[j]!).get(b[j]!).op("i64.add").set(limb));
    this.normalise(s);
    this.subtractIfAtLeastModulus(out, s); // a + b < 2r, so one subtraction reduces it
  }

  /** out = the sum of the terms limb by limb: no carries, no reduction (a loose value). */
  addLimbs(out: readonly Local[], ...terms: readonly (readonly Local[])[]): void {
    out.forEach((limb, j) => {
      terms.forEach((term, i) => {
        this.f.get(term[j]!);
        if (i > 0) this.f.op("i64.add");
      });
      this.f.set(limb);
    });
  }

  /**
   * Propagates carries so every limb but the top is < 2^29; the top absorbs the rest. Limbs may be
   * negative (after reduceLoose's subtraction): the arithmetic shift and the mask floor correctly,
   * and the result is non-negative whenever the value is.
   */
  normalise(limbs: readonly Local[]): void {
    const f = this.f;
    for (let j = 0; j < LIMB_COUNT - 1; j++) {
      f.get(limbs[j + 1]!)
        .get(limbs[j]!)
        .i64(BigInt(LIMB_BITS))
        .op("i64.shr_s")
        .op("i64.add")
        .set(limbs[j + 1]!);
      f.get(limbs[j]!).i64(MASK).op("i64.and").set(limbs[j]!);
    }
  }

  /**
   * x = x - q*r for x < 16r with limbs below 2^32 (not necessarily normalised), q estimated from
   * the top limb alone: the limbs below it add less than 2^235 = r / 2^18.6, so q is at most 2
   * below floor(x / r) (and never above), and afterwards 0 <= x < 3r, normalised. Ten
   * multiplications and no branches, far cheaper than conditional subtractions.
   */
  reduceLoose(x: readonly Local[]): void {
    const f = this.f;
    const q = this.q;
    f.get(x[LIMB_COUNT - 1]!)
      .i64(QUOTIENT_SCALE)
      .op("i64.mul")
      .i64(QUOTIENT_SHIFT)
      .op("i64.shr_u")
      .set(q);
    x.forEach((limb, j) => f.get(limb).get(q).i64(P[j]!).op("i64.mul").op("i64.sub").set(limb));
    this.normalise(x);
  }

  /** x = x mod r for normalised x < 3r: two conditional subtractions. */
  reduceFully(x: readonly Local[]): void {
    this.subtractIfAtLeastModulus(x, x);
    this.subtractIfAtLeastModulus(x, x);
  }

  /**
   * out = (a*b + M*r) / R, normalised: congruent to a*b/R and below a*b/R + r. Product scanning
   * with the reduction folded in: column k sums every a_i*b_j with i + j = k, every m_i*r_j with
   * i + j = k, and the carry from column k - 1. In the low nine columns m_k is then chosen so that
   * the column becomes divisible by 2^29 (m_k = column * -r^-1 mod 2^29), and only its carry
   * moves on; the high nine columns are the result's limbs. Carries thus travel once, column by
   * column, and each column is one expression on the wasm stack, which keeps register pressure
   * low. Column bound (normalised inputs): 9 products and 9 reduction terms of < 2^58 each plus a
   * carry < 2^35, so < 2^63. out may alias a or b: column k >= 9 writes limb k - 9 of out, which
   * no later column reads (they need limbs above k - 9).
   *
   * Several independent products are emitted column by column side by side. One product is a
   * chain of dependent steps (each column waits for the previous column's m_k and carry), and a
   * whole product (~400 instructions) is longer than the processor looks ahead, so two products
   * emitted one after the other barely overlap. Side by side the two-state S-box measured 2-8%
   * faster per S-box (the kernel is mostly bound by its instruction count, so not more). The
   * `out` of one product must not be an input of another.
   */
  private montgomeryProducts(
    products: readonly { out: readonly Local[]; a: Operand; b: Operand | "square" }[],
  ): void {
    const f = this.f;
    while (this.ways.length < products.length)
      this.ways.push({ m: f.locals64(LIMB_COUNT), column: f.local("i64"), carry: f.local("i64") });
    const push = (x: Local | bigint) => (typeof x === "bigint" ? f.i64(x) : f.get(x));
    for (let k = 0; k < 2 * LIMB_COUNT - 1; k++)
      products.forEach(({ out, a, b }, w) => {
        const { m, column, carry } = this.ways[w]!;
        let terms = 0;
        const addTerm = () => {
          if (terms++ > 0) f.op("i64.add");
        };
        const low = Math.max(0, k - LIMB_COUNT + 1);
        const high = Math.min(k, LIMB_COUNT - 1);
        if (b === "square") {
          const operand = a as readonly Local[];
          let cross = 0;
          for (let i = low; 2 * i < k; i++) {
            f.get(operand[i]!)
              .get(operand[k - i]!)
              .op("i64.mul");
            if (cross++ > 0) f.op("i64.add");
          }
          if (cross > 0) {
            f.i64(1n).op("i64.shl");
            addTerm();
          }
          if (k % 2 === 0) {
            f.get(operand[k / 2]!)
              .get(operand[k / 2]!)
              .op("i64.mul");
            addTerm();
          }
        } else {
          for (let i = low; i <= high; i++) {
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
            addTerm();
          }
        }
        // Reduction terms m_i * r_(k-i) for the digits already chosen (i < k, i <= 8).
        for (let i = low; i <= Math.min(k - 1, LIMB_COUNT - 1); i++) {
          f.get(m[i]!)
            .i64(P[k - i]!)
            .op("i64.mul");
          addTerm();
        }
        // The carry comes last: it is the latest value to become ready, so the sum of the other
        // terms does not wait for it (the additions form one chain in stack order).
        if (k > 0) {
          f.get(carry);
          addTerm();
        }
        if (terms === 0) f.i64(0n); // only for a constant operand with zero low limbs
        if (k < LIMB_COUNT) {
          // m_k = column * MU mod 2^29 with MU = 2^28 - 1: a shift and a subtraction, which is
          // shorter on this chain than a multiplication.
          f.tee(column).i64(28n).op("i64.shl").get(column).op("i64.sub");
          f.i64(MASK).op("i64.and").tee(m[k]!);
          // carry = (column + m_k * r_0) >> 29 with r_0 = 2^28 + 1, again without a multiply.
          f.i64(28n).op("i64.shl").get(column).get(m[k]!).op("i64.add").op("i64.add");
          f.i64(BigInt(LIMB_BITS)).op("i64.shr_u").set(carry);
        } else {
          f.tee(column)
            .i64(MASK)
            .op("i64.and")
            .set(out[k - LIMB_COUNT]!);
          f.get(column).i64(BigInt(LIMB_BITS)).op("i64.shr_u").set(carry);
        }
      });
    products.forEach(({ out }, w) => f.get(this.ways[w]!.carry).set(out[LIMB_COUNT - 1]!)); // column 17: only the carry (the value is < 2^261)
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
