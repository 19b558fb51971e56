/**
 * Reading circom's outputs for tests: the .r1cs constraint system (iden3 binary format) and the
 * .sym signal table, and evaluating constraints on a witness with plain BigInt arithmetic.
 */
import { readFile } from "node:fs/promises";
import { R } from "./poseidon2-reference.js";

/**
 * One linear combination: the sum of coeffs[k] * w[wires[k]]. Coefficients are kept in -r/2..r/2,
 * so that the many small negative ones (-1, -2, ...) multiply as small numbers.
 */
export interface LinearCombination {
  wires: Uint32Array;
  coeffs: bigint[];
}

/** a * b = c. */
export type Constraint = [a: LinearCombination, b: LinearCombination, c: LinearCombination];

export interface R1cs {
  nWires: number;
  constraints: Constraint[];
}

export const mod = (x: bigint): bigint => ((x % R) + R) % R;

export function evaluate(lc: LinearCombination, values: readonly (bigint | undefined)[]): bigint {
  let sum = 0n;
  for (let k = 0; k < lc.wires.length; k++) sum += lc.coeffs[k]! * values[lc.wires[k]!]!;
  return sum % R;
}

/** Indices of the constraints that a full assignment of the wires breaks. */
export function violatedConstraints(r1cs: R1cs, values: readonly bigint[]): number[] {
  const violated: number[] = [];
  r1cs.constraints.forEach(([a, b, c], index) => {
    if ((evaluate(a, values) * evaluate(b, values) - evaluate(c, values)) % R !== 0n) {
      violated.push(index);
    }
  });
  return violated;
}

/** The header (section 1) and the constraints (section 2) of an .r1cs file. */
export async function readR1cs(file: string): Promise<R1cs> {
  const bytes = await readFile(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.subarray(0, 4).toString("latin1") !== "r1cs") throw new Error(`${file}: not an r1cs`);
  const nSections = view.getUint32(8, true);
  const sections = new Map<number, number>();
  let offset = 12;
  for (let s = 0; s < nSections; s++) {
    const type = view.getUint32(offset, true);
    const size = Number(view.getBigUint64(offset + 4, true));
    sections.set(type, offset + 12);
    offset += 12 + size;
  }

  const header = sections.get(1);
  if (header === undefined) throw new Error(`${file}: no header section`);
  const n8 = view.getUint32(header, true);
  const readField = (at: number) => {
    let x = 0n;
    for (let i = n8 - 8; i >= 0; i -= 8) x = (x << 64n) | view.getBigUint64(at + i, true);
    return x;
  };
  if (readField(header + 4) !== R) throw new Error(`${file}: not over the BN254 scalar field`);
  // After the prime: nWires, nPubOut, nPubIn, nPrvIn (u32 each), nLabels (u64), nConstraints (u32).
  const nWires = view.getUint32(header + 4 + n8, true);
  const nConstraints = view.getUint32(header + 4 + n8 + 24, true);

  const start = sections.get(2);
  if (start === undefined) throw new Error(`${file}: no constraints section`);
  let cursor = start;
  const readLc = (): LinearCombination => {
    const n = view.getUint32(cursor, true);
    cursor += 4;
    const wires = new Uint32Array(n);
    const coeffs: bigint[] = [];
    for (let k = 0; k < n; k++) {
      wires[k] = view.getUint32(cursor, true);
      const coefficient = readField(cursor + 4);
      coeffs.push(coefficient > R / 2n ? coefficient - R : coefficient);
      cursor += 4 + n8;
    }
    return { wires, coeffs };
  };
  const constraints: Constraint[] = [];
  for (let i = 0; i < nConstraints; i++) constraints.push([readLc(), readLc(), readLc()]);
  return { nWires, constraints };
}

/** The .sym file: `label,wire,component,name` per signal; wire -1 where --O2 removed the signal. */
export async function readSymbols(file: string): Promise<Map<string, number>> {
  const wires = new Map<string, number>();
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (line === "") continue;
    const [, wire, , name] = line.split(",");
    if (wire === undefined || name === undefined) throw new Error(`${file}: bad line ${line}`);
    wires.set(name, Number(wire));
  }
  return wires;
}
