/**
 * Completes a partial assignment of an R1CS's wires with every value the constraints force, and
 * finds the constraints that no completion can satisfy.
 *
 * A constraint a * b = c is linear in the unknown wires as soon as a or b is fully known; such
 * constraints feed a linear system kept in reduced row-echelon form (Gauss-Jordan over the field),
 * and a row left with one unknown fixes that wire, which may make more constraints linear. Every
 * step is a deduction, so a contradiction found here holds for every choice of the wires that were
 * not fixed: it is a constraint violation no prover can avoid, not an artefact of one witness.
 */
import { R } from "./poseidon2-reference.js";
import { type Constraint, type R1cs, mod } from "./r1cs.js";

export interface Completion {
  /** Wire values; undefined where the constraints left a wire free. */
  values: (bigint | undefined)[];
  /** Constraints that turned out contradictory (a linear combination of them, by origin). */
  violated: number[];
  /** Wires that appear in constraints but were not determined. */
  undetermined: number[];
}

interface Row {
  terms: Map<number, bigint>;
  rhs: bigint;
  origin: number;
}

export function completeWitness(r1cs: R1cs, fixed: readonly (bigint | undefined)[]): Completion {
  const values = [...fixed];
  values.length = r1cs.nWires;
  const { constraints } = r1cs;

  const users: number[][] = Array.from({ length: r1cs.nWires }, () => []);
  constraints.forEach((constraint, index) => {
    for (const lc of constraint) for (const wire of lc.wires) users[wire]!.push(index);
  });

  const consumed = new Array<boolean>(constraints.length).fill(false);
  const violated = new Set<number>();
  const rows = new Set<Row>();
  const rowsOf = new Map<number, Set<Row>>(); // wire -> rows that mention it
  const pivotRow = new Map<number, Row>(); // wire -> the row where it is the pivot
  const pendingConstraints: number[] = constraints.map((_, index) => index);
  const pendingAssignments: [wire: number, value: bigint, origin: number][] = [];

  const link = (row: Row, wire: number) => {
    let set = rowsOf.get(wire);
    if (!set) rowsOf.set(wire, (set = new Set()));
    set.add(row);
  };
  const unlink = (row: Row, wire: number) => rowsOf.get(wire)?.delete(row);

  const dropRow = (row: Row) => {
    rows.delete(row);
    for (const wire of row.terms.keys()) {
      unlink(row, wire);
      if (pivotRow.get(wire) === row) pivotRow.delete(wire);
    }
  };

  /** A row changed: settle it if it has at most one unknown left. */
  const settle = (row: Row) => {
    if (row.terms.size === 0) {
      if (row.rhs !== 0n) violated.add(row.origin);
      dropRow(row);
    } else if (row.terms.size === 1) {
      const [wire, coefficient] = [...row.terms][0]!;
      dropRow(row);
      pendingAssignments.push([wire, mod(row.rhs * inverse(coefficient)), row.origin]);
    }
  };

  const assign = (wire: number, value: bigint, origin: number) => {
    const known = values[wire];
    if (known !== undefined) {
      // Two rows forced the same wire: they must agree.
      if (known !== value) violated.add(origin);
      return;
    }
    values[wire] = value;
    for (const row of [...(rowsOf.get(wire) ?? [])]) {
      const coefficient = row.terms.get(wire)!;
      row.terms.delete(wire);
      unlink(row, wire);
      if (pivotRow.get(wire) === row) pivotRow.delete(wire);
      row.rhs = mod(row.rhs - coefficient * value);
      settle(row);
    }
    for (const user of users[wire]!) if (!consumed[user]) pendingConstraints.push(user);
  };

  const addRow = (terms: Map<number, bigint>, rhs: bigint, origin: number) => {
    const row: Row = { terms, rhs, origin };
    // Eliminate existing pivots, so that pivots appear in their own row only.
    for (const wire of [...terms.keys()]) {
      const pivot = pivotRow.get(wire);
      if (!pivot || !row.terms.has(wire)) continue;
      const factor = row.terms.get(wire)!;
      for (const [w, k] of pivot.terms) {
        const next = mod((row.terms.get(w) ?? 0n) - factor * k);
        if (next === 0n) row.terms.delete(w);
        else row.terms.set(w, next);
      }
      row.rhs = mod(row.rhs - factor * pivot.rhs);
    }
    if (row.terms.size <= 1) {
      settle(row);
      return;
    }
    // Normalise on the first unknown and remove it from every other row.
    const [pivot, k] = [...row.terms][0]!;
    const scale = inverse(k);
    for (const [w, c] of row.terms) row.terms.set(w, mod(c * scale));
    row.rhs = mod(row.rhs * scale);
    for (const other of [...(rowsOf.get(pivot) ?? [])]) {
      const factor = other.terms.get(pivot)!;
      for (const [w, c] of row.terms) {
        const next = mod((other.terms.get(w) ?? 0n) - factor * c);
        if (next === 0n) {
          if (other.terms.delete(w)) unlink(other, w);
        } else {
          if (!other.terms.has(w)) link(other, w);
          other.terms.set(w, next);
        }
      }
      other.rhs = mod(other.rhs - factor * row.rhs);
      settle(other);
    }
    rows.add(row);
    for (const wire of row.terms.keys()) link(row, wire);
    pivotRow.set(pivot, row);
  };

  while (pendingConstraints.length > 0 || pendingAssignments.length > 0) {
    const assignment = pendingAssignments.pop();
    if (assignment) {
      assign(...assignment);
      continue;
    }
    const index = pendingConstraints.pop()!;
    if (consumed[index]) continue;
    const linear = linearise(constraints[index]!, values);
    if (linear === undefined) continue; // unknowns on both sides of the product: wait
    consumed[index] = true;
    addRow(linear.terms, linear.rhs, index);
  }

  const undetermined = new Set<number>();
  constraints.forEach((constraint, index) => {
    if (consumed[index]) return;
    for (const lc of constraint)
      for (const wire of lc.wires) if (values[wire] === undefined) undetermined.add(wire);
  });
  for (const row of rows) for (const wire of row.terms.keys()) undetermined.add(wire);
  return {
    values,
    violated: [...violated].sort((x, y) => x - y),
    undetermined: [...undetermined].sort((x, y) => x - y),
  };
}

/**
 * a * b - c = 0 as sum(terms[w] * x_w) = rhs over the unknown wires, when a or b has no unknown;
 * undefined when both have.
 */
function linearise(
  constraint: Constraint,
  values: readonly (bigint | undefined)[],
): { terms: Map<number, bigint>; rhs: bigint } | undefined {
  const parts = constraint.map((lc) => {
    let known = 0n;
    const unknown = new Map<number, bigint>();
    for (let k = 0; k < lc.wires.length; k++) {
      const wire = lc.wires[k]!;
      const value = values[wire];
      if (value !== undefined) known += lc.coeffs[k]! * value;
      else unknown.set(wire, (unknown.get(wire) ?? 0n) + lc.coeffs[k]!);
    }
    return { known: known % R, unknown };
  });
  const [a, b, c] = parts as [(typeof parts)[0], (typeof parts)[0], (typeof parts)[0]];
  if (a.unknown.size > 0 && b.unknown.size > 0) return undefined;
  // (a0 + A.x)(b0 + B.x) - (c0 + C.x) = 0 with A or B empty:
  //   a0 * B.x + b0 * A.x - C.x = c0 - a0 * b0.
  const terms = new Map<number, bigint>();
  const add = (wire: number, k: bigint) => {
    const next = mod((terms.get(wire) ?? 0n) + k);
    if (next === 0n) terms.delete(wire);
    else terms.set(wire, next);
  };
  for (const [wire, k] of a.unknown) add(wire, k * b.known);
  for (const [wire, k] of b.unknown) add(wire, k * a.known);
  for (const [wire, k] of c.unknown) add(wire, -k);
  return { terms, rhs: mod(c.known - a.known * b.known) };
}

function inverse(x: bigint): bigint {
  // Fermat: x^(r-2) mod r.
  let result = 1n;
  let base = mod(x);
  let exponent = R - 2n;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % R;
    base = (base * base) % R;
    exponent >>= 1n;
  }
  return result;
}
