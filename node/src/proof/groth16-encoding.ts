/**
 * Conversions from snarkjs's Groth16 JSON (verification_key.json, proof.json, public.json) to the
 * arguments of contracts/verifier/Groth16Verifier.sol: the constructor's Groth16VerificationKey and
 * `verify`'s Groth16Proof and uint256[3].
 *
 * snarkjs writes points in projective form with decimal-string coordinates: G1 as [x, y, "1"], G2 as
 * [[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]], where an Fp2 element is c0 + c1 * i. The contract's
 * Fp2Element is {real, imag} = {c0, c1}, the same order; the swap to the pairing precompile's
 * (imag, real) happens inside the contract, never here.
 *
 * Each function checks the shape it is given and that every number is a canonical field element, and
 * throws a Groth16EncodingError naming the offending field otherwise. Curve membership is the
 * contract's check (its constructor rejects a bad key, `verify` returns false for a bad proof).
 */
import { BN254_BASE_MODULUS, BN254_SCALAR_MODULUS } from "./bn254.js";

// Object type aliases rather than interfaces: they have implicit index signatures, so values pass
// as-is where Ignition expects plain ABI values (SolidityParameterType).

export type G1PointArg = {
  x: bigint;
  y: bigint;
};

/** c0 + c1 * i as {real: c0, imag: c1}. */
export type Fp2ElementArg = {
  real: bigint;
  imag: bigint;
};

export type G2PointArg = {
  x: Fp2ElementArg;
  y: Fp2ElementArg;
};

/** The contract's Groth16Proof. */
export type Groth16ProofArg = {
  a: G1PointArg;
  b: G2PointArg;
  c: G1PointArg;
};

/** The contract's Groth16VerificationKey (its constructor argument). */
export type Groth16VerificationKeyArg = {
  alpha1: G1PointArg;
  beta2: G2PointArg;
  gamma2: G2PointArg;
  delta2: G2PointArg;
  ic: [G1PointArg, G1PointArg, G1PointArg, G1PointArg];
};

/** The storage proof's public inputs, in circuit order: entropy, dataSetRoot, slotIndex. */
export type PublicSignals = [bigint, bigint, bigint];

/** Number of public inputs the verifier contract takes. */
export const PUBLIC_INPUT_COUNT = 3;

export type Groth16EncodingErrorCode =
  "INVALID_VERIFICATION_KEY" | "INVALID_PROOF" | "INVALID_PUBLIC_SIGNALS";

/** Bad snarkjs JSON: `field` is the JSON path of the first offending value, e.g. `vk_beta_2[1][0]`. */
export class Groth16EncodingError extends Error {
  override readonly name = "Groth16EncodingError";

  constructor(
    readonly code: Groth16EncodingErrorCode,
    readonly field: string,
    problem: string,
  ) {
    super(`${describe[code]}: ${field} ${problem}`);
  }
}

const describe: Record<Groth16EncodingErrorCode, string> = {
  INVALID_VERIFICATION_KEY: "invalid Groth16 verification key",
  INVALID_PROOF: "invalid Groth16 proof",
  INVALID_PUBLIC_SIGNALS: "invalid public signals",
};

/** Converts snarkjs's verification_key.json (parsed) for a circuit with exactly 3 public inputs. */
export function verificationKeyFromSnarkjs(json: unknown): Groth16VerificationKeyArg {
  const reader = new Reader("INVALID_VERIFICATION_KEY");
  const vk = reader.object(json, "verification key");
  reader.tag(vk, "protocol", "groth16");
  reader.tag(vk, "curve", "bn128");
  if (vk.nPublic !== PUBLIC_INPUT_COUNT) {
    reader.fail("nPublic", `must be ${PUBLIC_INPUT_COUNT}, got ${JSON.stringify(vk.nPublic)}`);
  }
  const ic = reader.array(vk.IC, "IC", PUBLIC_INPUT_COUNT + 1);
  return {
    alpha1: reader.g1(vk.vk_alpha_1, "vk_alpha_1"),
    beta2: reader.g2(vk.vk_beta_2, "vk_beta_2"),
    gamma2: reader.g2(vk.vk_gamma_2, "vk_gamma_2"),
    delta2: reader.g2(vk.vk_delta_2, "vk_delta_2"),
    ic: [
      reader.g1(ic[0], "IC[0]"),
      reader.g1(ic[1], "IC[1]"),
      reader.g1(ic[2], "IC[2]"),
      reader.g1(ic[3], "IC[3]"),
    ],
  };
}

/** Converts a snarkjs Groth16 proof (proof.json, or `proof` from groth16.prove/fullProve). */
export function proofFromSnarkjs(json: unknown): Groth16ProofArg {
  const reader = new Reader("INVALID_PROOF");
  const proof = reader.object(json, "proof");
  reader.tag(proof, "protocol", "groth16");
  reader.tag(proof, "curve", "bn128");
  return {
    a: reader.g1(proof.pi_a, "pi_a"),
    b: reader.g2(proof.pi_b, "pi_b"),
    c: reader.g1(proof.pi_c, "pi_c"),
  };
}

/** Converts snarkjs's public signals (public.json): three decimal strings below r. */
export function publicSignalsFromSnarkjs(json: unknown): PublicSignals {
  const reader = new Reader("INVALID_PUBLIC_SIGNALS");
  const signals = reader.array(json, "publicSignals", PUBLIC_INPUT_COUNT);
  const signal = (i: number) =>
    reader.element(signals[i], `publicSignals[${i}]`, BN254_SCALAR_MODULUS, "r");
  return [signal(0), signal(1), signal(2)];
}

/** Reads snarkjs JSON values, failing with the error code of the document being read. */
class Reader {
  constructor(private readonly code: Groth16EncodingErrorCode) {}

  fail(field: string, problem: string): never {
    throw new Groth16EncodingError(this.code, field, problem);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(field, `must be a JSON object, got ${kind(value)}`);
    }
    return value as Record<string, unknown>;
  }

  /** An optional tag (snarkjs writes protocol and curve): when present it must be `expected`. */
  tag(object: Record<string, unknown>, key: string, expected: string): void {
    const value = object[key];
    if (value !== undefined && value !== expected) {
      this.fail(key, `must be ${JSON.stringify(expected)}, got ${JSON.stringify(value)}`);
    }
  }

  array(value: unknown, field: string, length: number): unknown[] {
    if (!Array.isArray(value)) this.fail(field, `must be an array, got ${kind(value)}`);
    if (value.length !== length) {
      this.fail(field, `must have ${length} entries, got ${value.length}`);
    }
    return value;
  }

  /** A decimal string (snarkjs's number format) for an integer below `modulus`. */
  element(value: unknown, field: string, modulus: bigint, modulusName: string): bigint {
    if (typeof value !== "string" || !/^[0-9]+$/.test(value)) {
      this.fail(field, `must be a decimal string, got ${kind(value)}`);
    }
    const n = BigInt(value);
    if (n >= modulus) this.fail(field, `must be below ${modulusName}, got ${value}`);
    return n;
  }

  coordinate(value: unknown, field: string): bigint {
    return this.element(value, field, BN254_BASE_MODULUS, "q");
  }

  /** [x, y, "1"]: affine coordinates in projective form. */
  g1(value: unknown, field: string): G1PointArg {
    const [x, y, z] = this.array(value, field, 3);
    if (z !== "1") {
      this.fail(`${field}[2]`, `must be "1" (an affine point), got ${kind(z)}`);
    }
    return { x: this.coordinate(x, `${field}[0]`), y: this.coordinate(y, `${field}[1]`) };
  }

  /** [[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]. */
  g2(value: unknown, field: string): G2PointArg {
    const [x, y, z] = this.array(value, field, 3);
    const [z0, z1] = this.array(z, `${field}[2]`, 2);
    if (z0 !== "1" || z1 !== "0") {
      this.fail(`${field}[2]`, `must be ["1", "0"] (an affine point), got ${kind(z)}`);
    }
    return { x: this.fp2(x, `${field}[0]`), y: this.fp2(y, `${field}[1]`) };
  }

  /** [c0, c1] = c0 + c1 * i, to {real: c0, imag: c1}. */
  fp2(value: unknown, field: string): Fp2ElementArg {
    const [c0, c1] = this.array(value, field, 2);
    return { real: this.coordinate(c0, `${field}[0]`), imag: this.coordinate(c1, `${field}[1]`) };
  }
}

function kind(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "bigint" ? `${v}n` : v,
  ) as string | undefined;
  if (text === undefined) return typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
