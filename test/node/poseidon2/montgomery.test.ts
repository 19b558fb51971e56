import { expect } from "chai";
import { FIELD_MODULUS } from "../../../node/src/poseidon2/index.js";
import { type Local, ModuleBuilder } from "../../../node/src/poseidon2/wasm/encoder.js";
import {
  FieldEmitter,
  LIMB_BITS,
  LIMB_COUNT,
  LIMB_ELEMENT_BYTES,
  toLimbs,
} from "../../../node/src/poseidon2/wasm/montgomery.js";
import { DeterministicRandom } from "../../helpers/deterministic-random.js";

// The kernel's Montgomery products on their own, against BigInt arithmetic: the loose product,
// the squaring (which adds each cross product once, doubled) and several products emitted side by
// side, on the field's edges and on loose values (>= r, up to the bound the permutation allows).
describe("poseidon2: Montgomery products in the WebAssembly kernel", function () {
  const r = FIELD_MODULUS;
  const R = 1n << BigInt(LIMB_BITS * LIMB_COUNT);
  const rInverse = modPow(R, r - 2n, r); // R^-1 mod r (r is prime)
  /** The loose product's inputs may be below ka*r and kb*r with ka*kb <= 169: 13r each. */
  const BOUND = 13n * r;

  const kernel = buildTestKernel();
  const slot = (i: number) => 1024 + i * LIMB_ELEMENT_BYTES;

  const write = (i: number, x: bigint) =>
    toLimbs(x).forEach((limb, j) => kernel.view().setUint32(slot(i) + 4 * j, Number(limb), true));
  /** Reads slot i, checking that it is normalised (every limb below 2^29). */
  const read = (i: number) => {
    let x = 0n;
    for (let j = LIMB_COUNT - 1; j >= 0; j--) {
      const limb = kernel.view().getUint32(slot(i) + 4 * j, true);
      expect(limb, `limb ${j}`).to.be.below(2 ** LIMB_BITS);
      x = (x << BigInt(LIMB_BITS)) + BigInt(limb);
    }
    return x;
  };
  /** Checks a loose product: congruent to a*b/R and below 2r. */
  const expectProduct = (got: bigint, a: bigint, b: bigint, what: string) => {
    expect(got < 2n * r, `${what} below 2r`).to.equal(true);
    expect(got % r, what).to.equal((((a * b) % r) * rInverse) % r);
  };

  const edges = [0n, 1n, 2n, r - 1n, r, r + 1n, 2n * r - 1n, 2n * r, 12n * r, BOUND - 1n];
  const random = new DeterministicRandom("montgomery");
  const values = [...edges];
  for (let i = 0; i < 200; i++) values.push(random.bigint256() % BOUND);

  it("multiplies edge and random loose values (below 13r) to a loose result below 2r", function () {
    for (let i = 0; i < values.length; i++) {
      const a = values[i]!;
      const b = values[(i * 7 + 3) % values.length]!;
      write(0, a);
      write(1, b);
      kernel.exports.mulLoose(slot(0), slot(1), slot(2));
      expectProduct(read(2), a, b, `${a} * ${b}`);
    }
    for (const a of edges)
      for (const b of edges) {
        write(0, a);
        write(1, b);
        kernel.exports.mulLoose(slot(0), slot(1), slot(2));
        expectProduct(read(2), a, b, `${a} * ${b}`);
      }
  });

  it("squares exactly as it multiplies a value by itself", function () {
    for (const a of values) {
      write(0, a);
      kernel.exports.mulLoose(slot(0), slot(0), slot(1));
      kernel.exports.squareLoose(slot(0), slot(2));
      const square = read(2);
      expect(square, `${a}^2`).to.equal(read(1)); // the same integer, not just congruent
      expectProduct(square, a, a, `${a}^2`);
    }
  });

  it("computes products emitted side by side like products emitted alone", function () {
    for (let i = 0; i + 2 < values.length; i += 3) {
      const [a, b, c] = [values[i]!, values[i + 1]!, values[i + 2]!];
      write(0, a);
      write(1, b);
      write(2, c);
      kernel.exports.productPair(slot(0), slot(1), slot(2), slot(3), slot(4));
      expectProduct(read(3), a, b, `${a} * ${b} (side by side)`);
      expectProduct(read(4), c, c, `${c}^2 (side by side)`);
      kernel.exports.mulLoose(slot(0), slot(1), slot(5));
      expect(read(3)).to.equal(read(5));
    }
  });

  it("reduces fully with mul: canonical results for canonical inputs", function () {
    for (let i = 0; i < values.length; i++) {
      const a = values[i]! % r;
      const b = values[(i * 5 + 1) % values.length]! % r;
      write(0, a);
      write(1, b);
      kernel.exports.mul(slot(0), slot(1), slot(2));
      const got = read(2);
      expect(got < r, "below r").to.equal(true);
      expect(got).to.equal((((a * b) % r) * rInverse) % r);
    }
  });
});

interface TestKernel {
  exports: {
    memory: WebAssembly.Memory;
    mulLoose(a: number, b: number, out: number): void;
    squareLoose(a: number, out: number): void;
    productPair(a: number, b: number, c: number, out1: number, out2: number): void;
    mul(a: number, b: number, out: number): void;
  };
  view(): DataView;
}

/** A module with each FieldEmitter product as a function over elements in memory. */
function buildTestKernel(): TestKernel {
  const m = new ModuleBuilder(1);
  const define = (
    name: string,
    inputs: number,
    outputs: number,
    body: (F: FieldEmitter, ins: Local[][], outs: Local[][]) => void,
  ) => {
    const f = m.addFunction(name, Array<"i32">(inputs + outputs).fill("i32"), null, {
      exported: true,
    });
    const F = new FieldEmitter(f);
    const ins = f.params.slice(0, inputs).map(() => F.element());
    const outs = f.params.slice(inputs).map(() => F.element());
    ins.forEach((x, i) => F.load(x, f.params[i]!, 0));
    body(F, ins, outs);
    outs.forEach((x, i) => F.store(f.params[inputs + i]!, 0, x));
  };
  define("mulLoose", 2, 1, (F, [a, b], [out]) => F.mulLoose(out!, a!, b!));
  define("squareLoose", 1, 1, (F, [a], [out]) => F.squareLoose(out!, a!));
  define("productPair", 3, 2, (F, [a, b, c], [out1, out2]) =>
    F.productsLoose([
      { out: out1!, a: a!, b: b! },
      { out: out2!, a: c!, b: "square" },
    ]),
  );
  define("mul", 2, 1, (F, [a, b], [out]) => F.mul(out!, a!, b!));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(m.encode()));
  const exports = instance.exports as unknown as TestKernel["exports"];
  return { exports, view: () => new DataView(exports.memory.buffer) };
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}
