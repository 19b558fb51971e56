/**
 * Circuit testing: compile a main (cached by compileCircuit), compute witnesses with the witness
 * generator circom emitted for it, and check every R1CS constraint on each witness ourselves, so a
 * positive test never relies on the generator's own asserts.
 *
 * For negative tests, `cheat` plays a dishonest prover: it fixes the inputs and the values the
 * prover chooses freely (hints the circuit computes with `<--`), derives everything else the
 * constraints force, and reports the constraints that no choice of the remaining wires satisfies.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import { expect } from "chai";
import { type CircuitBuild, compileCircuit } from "../../scripts/circuits/compile.js";
import { buildDir, repoRoot } from "../../scripts/lib/paths.js";
import { type R1cs, mod, readR1cs, readSymbols, violatedConstraints } from "./r1cs.js";
import { completeWitness } from "./r1cs-solver.js";

export type SignalValue = bigint | number | string | readonly SignalValue[];
export type CircuitInput = Readonly<Record<string, SignalValue>>;

/** The witness generator refused the input (a failed `===`, or an input it cannot take). */
export class WitnessGenerationError extends Error {
  override name = "WitnessGenerationError";
}

/** A witness that breaks constraints of the circuit's R1CS. */
export class ConstraintViolationError extends Error {
  override name = "ConstraintViolationError";
  constructor(readonly violated: readonly number[]) {
    super(`${violated.length} constraint(s) violated, first: #${violated.slice(0, 5).join(", #")}`);
  }
}

/** What a dishonest prover gets from fixed inputs and hints. */
export interface CheatOutcome {
  /** Constraints no completion of the witness can satisfy (empty: the statement is provable). */
  violated: number[];
  /** Signals the constraints left free: hints the caller did not fix. Must be empty to conclude. */
  undetermined: string[];
  /** The completed wire values (undefined where undetermined), indexed like Witness.values. */
  values: (bigint | undefined)[];
}

interface WitnessCalculator {
  calculateWitness(input: unknown, sanityCheck: boolean): Promise<bigint[]>;
}

export class Witness {
  constructor(
    private readonly circuit: TestCircuit,
    readonly values: readonly bigint[],
  ) {}

  /** The value of a signal by its full name, e.g. `main.root` or `main.bits[3]`. */
  get(name: string): bigint {
    return this.values[this.circuit.wire(name)]!;
  }

  /** The values of `name[0]` .. `name[length - 1]`. */
  array(name: string, length: number): bigint[] {
    return Array.from({ length }, (_, i) => this.get(`${name}[${i}]`));
  }
}

export class TestCircuit {
  private constructor(
    readonly build: CircuitBuild,
    private readonly r1cs: R1cs,
    private readonly wires: ReadonlyMap<string, number>,
    private readonly calculator: WitnessCalculator,
  ) {}

  static async load(main: string): Promise<TestCircuit> {
    const build = await compileCircuit(main);
    const [r1cs, wires, calculator] = await Promise.all([
      readR1cs(build.r1cs),
      readSymbols(build.sym),
      loadWitnessCalculator(build.wasm),
    ]);
    return new TestCircuit(build, r1cs, wires, calculator);
  }

  /** Constraints in the R1CS (--O2 leaves only non-linear ones). */
  get constraintCount(): number {
    return this.r1cs.constraints.length;
  }

  /** The wire that carries a signal; throws for unknown names and for signals --O2 removed. */
  wire(name: string): number {
    const wire = this.wires.get(name);
    if (wire === undefined) throw new Error(`no signal ${name} in ${this.build.name}`);
    if (wire < 0) throw new Error(`signal ${name} was optimised away in ${this.build.name}`);
    return wire;
  }

  /**
   * Computes the witness and checks every constraint on it. Throws WitnessGenerationError when the
   * generator refuses the input and ConstraintViolationError when its witness breaks a constraint.
   */
  async calculate(input: CircuitInput): Promise<Witness> {
    let values: bigint[];
    try {
      values = await this.calculator.calculateWitness(toGeneratorInput(input), true);
    } catch (error) {
      throw new WitnessGenerationError(error instanceof Error ? error.message : String(error));
    }
    const violated = this.violatedConstraints(values);
    if (violated.length > 0) throw new ConstraintViolationError(violated);
    return new Witness(this, values);
  }

  /** Indices of the constraints a full assignment of the wires breaks. */
  violatedConstraints(values: readonly bigint[]): number[] {
    return violatedConstraints(this.r1cs, values);
  }

  /**
   * The dishonest prover: fixes the main's inputs and the `hints` (signal name -> value; hints that
   * --O2 removed are implied by the others and skipped), derives every wire the constraints force,
   * and reports the constraints that cannot hold.
   */
  cheat(input: CircuitInput, hints: ReadonlyMap<string, bigint> = new Map()): CheatOutcome {
    const fixed: (bigint | undefined)[] = new Array(this.r1cs.nWires).fill(undefined);
    fixed[0] = 1n;
    for (const [name, value] of flattenInput(input)) fixed[this.wire(name)] = mod(value);
    for (const [name, value] of hints) {
      const wire = this.wires.get(name);
      if (wire === undefined) throw new Error(`no signal ${name} in ${this.build.name}`);
      if (wire >= 0) fixed[wire] = mod(value);
    }
    const completion = completeWitness(this.r1cs, fixed);
    const names = new Map<number, string>();
    for (const [name, wire] of this.wires) if (wire >= 0 && !names.has(wire)) names.set(wire, name);
    return {
      violated: completion.violated,
      undetermined: completion.undetermined.map((wire) => names.get(wire) ?? `wire ${wire}`),
      values: completion.values,
    };
  }
}

/**
 * Expects the witness generator to refuse `input` on a failed constraint check, not for another
 * reason (an unknown input name, a wrong array length) that would make a negative test pass
 * without testing anything.
 */
export async function expectRefused(circuit: TestCircuit, input: CircuitInput): Promise<void> {
  let failure: unknown;
  try {
    await circuit.calculate(input);
  } catch (error) {
    failure = error;
  }
  expect(failure, "the witness generator accepted the input").to.be.instanceOf(
    WitnessGenerationError,
  );
  expect((failure as Error).message).to.match(/Assert Failed/);
}

/** The cheating prover's attempt must break constraints, with nothing left undetermined. */
export function expectCheatFails(outcome: CheatOutcome): void {
  expect(outcome.undetermined, "signals the constraints left free").to.deep.equal([]);
  expect(outcome.violated.length, "violated constraints").to.be.greaterThan(0);
}

/** The same attempt without the tamper must satisfy every constraint, fully determined. */
export function expectCheatHolds(outcome: CheatOutcome): void {
  expect(outcome.undetermined, "signals the constraints left free").to.deep.equal([]);
  expect(outcome.violated, "violated constraints").to.deep.equal([]);
}

/**
 * Compiles a main component `template` (e.g. `Poseidon2Sponge(67)`) that includes `includes`
 * (paths from the repository root), written to build/test-mains/<name>.circom, and loads it.
 * Inputs named in `publicInputs` become public: --O2 may substitute a private input away when a
 * linear constraint defines it, and `cheat` needs every input it fixes to be a wire.
 */
export async function loadTemplate(
  name: string,
  includes: readonly string[],
  template: string,
  publicInputs: readonly string[] = [],
): Promise<TestCircuit> {
  const dir = path.join(buildDir, "test-mains");
  await mkdir(dir, { recursive: true });
  const includeLines = includes.map((file) => {
    const relative = path.relative(dir, path.join(repoRoot, file)).split(path.sep).join("/");
    return `include "${relative}";`;
  });
  const publicList = publicInputs.length > 0 ? ` {public [${publicInputs.join(", ")}]}` : "";
  const source = [
    "pragma circom 2.2.0;",
    "",
    ...includeLines,
    "",
    `component main${publicList} = ${template};`,
  ];
  const main = path.join(dir, `${name}.circom`);
  await writeFile(main, `${source.join("\n")}\n`);
  return TestCircuit.load(path.relative(repoRoot, main));
}

/** `{ a: [1, [2, 3]] }` -> `main.a[0]` = 1, `main.a[1][0]` = 2, `main.a[1][1]` = 3. */
function flattenInput(input: CircuitInput): [string, bigint][] {
  const out: [string, bigint][] = [];
  const walk = (name: string, value: SignalValue) => {
    if (isArray(value)) value.forEach((v, i) => walk(`${name}[${i}]`, v));
    else out.push([name, BigInt(value)]);
  };
  for (const [key, value] of Object.entries(input)) walk(`main.${key}`, value);
  return out;
}

/** The generator takes decimal strings; negative or oversized numbers are reduced mod r. */
function toGeneratorInput(input: CircuitInput): unknown {
  const convert = (value: SignalValue): unknown =>
    isArray(value) ? value.map(convert) : mod(BigInt(value)).toString();
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, convert(v)]));
}

const isArray = (value: SignalValue): value is readonly SignalValue[] => Array.isArray(value);

/**
 * Loads the witness_calculator.js circom wrote beside the wasm. It is CommonJS in a package whose
 * .js files are ES modules, so it runs as a function in a VM context of its own (which also keeps
 * the sloppy-mode globals it assigns out of ours).
 */
async function loadWitnessCalculator(wasm: string): Promise<WitnessCalculator> {
  const file = path.join(path.dirname(wasm), "witness_calculator.js");
  const [source, code] = await Promise.all([readFile(file, "utf8"), readFile(wasm)]);
  const context = vm.createContext({ console });
  const module = { exports: {} as unknown };
  const factory = vm.compileFunction(source, ["module", "exports", "require"], {
    filename: file,
    parsingContext: context,
  });
  factory(module, module.exports, createRequire(file));
  const builder = module.exports as (code: Buffer) => Promise<WitnessCalculator>;
  return builder(code);
}
