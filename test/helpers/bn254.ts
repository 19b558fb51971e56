/**
 * Just enough BN254 arithmetic to build bad inputs for verifier tests: points on the G2 twist outside
 * its order-r subgroup, and the twist's constant. Plain bigint code, slow and not constant-time.
 */
import { BN254_BASE_MODULUS as Q } from "../../node/src/proof/bn254.js";

/** c0 + c1 * i in Fp2 = Fp[i] / (i^2 + 1). */
export interface Fp2 {
  real: bigint;
  imag: bigint;
}

const mod = (a: bigint): bigint => ((a % Q) + Q) % Q;

export const fp2 = {
  add: (a: Fp2, b: Fp2): Fp2 => ({ real: mod(a.real + b.real), imag: mod(a.imag + b.imag) }),
  mul: (a: Fp2, b: Fp2): Fp2 => ({
    real: mod(a.real * b.real - a.imag * b.imag),
    imag: mod(a.real * b.imag + a.imag * b.real),
  }),
  eq: (a: Fp2, b: Fp2): boolean => a.real === b.real && a.imag === b.imag,
  pow(a: Fp2, e: bigint): Fp2 {
    let result: Fp2 = { real: 1n, imag: 0n };
    let base = a;
    for (; e > 0n; e >>= 1n) {
      if (e & 1n) result = fp2.mul(result, base);
      base = fp2.mul(base, base);
    }
    return result;
  },
  inverse(a: Fp2): Fp2 {
    // 1 / (a + bi) = (a - bi) / (a^2 + b^2)
    const norm = mod(a.real * a.real + a.imag * a.imag);
    const n = fpPow(norm, Q - 2n);
    return { real: mod(a.real * n), imag: mod(-a.imag * n) };
  },
  /**
   * A square root, or undefined when there is none. Algorithm 9 of Adj and Rodriguez-Henriquez,
   * "Square root computation over even extension fields" (2012), for q = 3 mod 4.
   */
  sqrt(a: Fp2): Fp2 | undefined {
    const minusOne: Fp2 = { real: Q - 1n, imag: 0n };
    const a1 = fp2.pow(a, (Q - 3n) / 4n);
    const alpha = fp2.mul(fp2.mul(a1, a1), a);
    const conjugate = { real: alpha.real, imag: mod(-alpha.imag) }; // alpha^q
    if (fp2.eq(fp2.mul(conjugate, alpha), minusOne)) return undefined;
    const x0 = fp2.mul(a1, a);
    const root = fp2.eq(alpha, minusOne)
      ? fp2.mul({ real: 0n, imag: 1n }, x0)
      : fp2.mul(fp2.pow(fp2.add({ real: 1n, imag: 0n }, alpha), (Q - 1n) / 2n), x0);
    return fp2.eq(fp2.mul(root, root), a) ? root : undefined;
  },
};

function fpPow(a: bigint, e: bigint): bigint {
  let result = 1n;
  for (a = mod(a); e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * a) % Q;
    a = (a * a) % Q;
  }
  return result;
}

/** b' = 3 / (9 + i): G2 is the order-r subgroup of the twist y^2 = x^3 + b' (EIP-197). */
export const TWIST_B: Fp2 = fp2.mul({ real: 3n, imag: 0n }, fp2.inverse({ real: 9n, imag: 1n }));

export function isOnTwist(p: { x: Fp2; y: Fp2 }): boolean {
  const x3 = fp2.mul(fp2.mul(p.x, p.x), p.x);
  return fp2.eq(fp2.mul(p.y, p.y), fp2.add(x3, TWIST_B));
}

/**
 * A point on the twist with x = (start + k, 1) for the smallest k that gives one. The twist has
 * about q^2 points and G2 only r of them, so such a point lies outside G2 (the chance otherwise is
 * about 1 / q).
 */
export function twistPointOutsideG2(start = 1n): { x: Fp2; y: Fp2 } {
  for (let k = 0n; ; k++) {
    const x = { real: mod(start + k), imag: 1n };
    const y = fp2.sqrt(fp2.add(fp2.mul(fp2.mul(x, x), x), TWIST_B));
    if (y) return { x, y };
  }
}

/** Whether (x, y) lies on G1's curve y^2 = x^3 + 3 over Fp. */
export function isOnG1(x: bigint, y: bigint): boolean {
  return mod(y * y) === mod(x * x * x + 3n);
}
