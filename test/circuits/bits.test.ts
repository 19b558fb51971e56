import { expect } from "chai";
import {
  type TestCircuit,
  expectCheatFails,
  expectCheatHolds,
  expectRefused,
  loadTemplate,
} from "../helpers/circuits.js";
import { fieldSamples } from "../helpers/field-samples.js";
import { R } from "../helpers/poseidon2-reference.js";

const BITS = "circuits/bits/bits.circom";
const CANONICAL = "circuits/bits/canonical.circom";
const COMPARE = "circuits/bits/compare.circom";
const LOG2 = "circuits/bits/log2.circom";
const CANONICAL_CHECK = "test/circuits/fixtures/canonical_bits_check.circom";

/** The n low bits of x, least significant first. */
const bitsOf = (x: bigint, n: number): bigint[] =>
  Array.from({ length: n }, (_, i) => (x >> BigInt(i)) & 1n);

/** `name[i]` -> value for a bit vector, as hints for TestCircuit.cheat. */
const hintBits = (name: string, bits: readonly bigint[]) =>
  new Map(bits.map((bit, i) => [`${name}[${i}]`, bit]));

describe("bit circuits", function () {
  this.timeout(300_000);

  describe("AssertBinary(3)", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate("assert_binary_3", [BITS], "AssertBinary(3)", ["in"]);
    });

    it("accepts bits", async function () {
      for (const input of [
        [0, 0, 0],
        [1, 0, 1],
        [1, 1, 1],
      ]) {
        await circuit.calculate({ in: input });
      }
    });

    it("rejects a non-bit (2, and -1 = r - 1) in any position", async function () {
      for (const bad of [2n, R - 1n]) {
        for (let position = 0; position < 3; position++) {
          const input = [1n, 0n, 1n];
          input[position] = bad;
          await expectRefused(circuit, { in: input });
          expectCheatFails(circuit.cheat({ in: input }));
        }
      }
      expectCheatHolds(circuit.cheat({ in: [1n, 0n, 1n] }));
    });
  });

  describe("BitDecompose(8)", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate("bit_decompose_8", [BITS], "BitDecompose(8)", ["in"]);
    });

    it("decomposes every value below 2^8", async function () {
      for (let x = 0n; x < 256n; x++) {
        const witness = await circuit.calculate({ in: x });
        expect(witness.array("main.bits", 8)).to.deep.equal(bitsOf(x, 8));
      }
    });

    it("has no witness for values of 2^8 and above", async function () {
      for (const x of [256n, 257n, 1000n, R - 1n]) await expectRefused(circuit, { in: x });
      // No prover escapes by choosing the bits: every 8-bit choice for 256 breaks a constraint.
      for (let choice = 0n; choice < 256n; choice++) {
        expectCheatFails(circuit.cheat({ in: 256n }, hintBits("main.bits", bitsOf(choice, 8))));
      }
    });

    it("rejects a non-bit that has the right weighted sum (4 as 2 * 2^1)", function () {
      const cheat = [0n, 2n, 0n, 0n, 0n, 0n, 0n, 0n];
      expectCheatFails(circuit.cheat({ in: 4n }, hintBits("main.bits", cheat)));
      expectCheatHolds(circuit.cheat({ in: 4n }, hintBits("main.bits", bitsOf(4n, 8))));
    });
  });

  describe("BitDecomposeCanonical()", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate(
        "bit_decompose_canonical",
        [CANONICAL],
        "BitDecomposeCanonical()",
        ["in"],
      );
    });

    it("costs 254 bit checks + 253 comparison steps", function () {
      expect(circuit.build.nonLinearConstraints).to.equal(507);
    });

    it("gives the integer bits of random elements and of 0, 1, 2^253 and r - 1", async function () {
      const values = [0n, 1n, 2n ** 253n, R - 1n, ...fieldSamples("canonical", 20)];
      for (const x of values) {
        const witness = await circuit.calculate({ in: x });
        expect(witness.array("main.bits", 254)).to.deep.equal(bitsOf(x, 254));
      }
    });

    it("rejects the bits of v + r, the other 254-bit decomposition a prover could pick", function () {
      // v + r < 2^254 exactly for v < 2^254 - r; the largest such v aliases to all ones.
      const largest = 2n ** 254n - R - 1n;
      for (const v of [0n, 1n, 12345n, largest >> 1n, largest]) {
        const alias = bitsOf(v + R, 254);
        expect(alias.reduce((sum, bit, i) => sum + (bit << BigInt(i)), 0n)).to.equal(v + R);
        expectCheatFails(circuit.cheat({ in: v }, hintBits("main.bits", alias)));
        expectCheatHolds(circuit.cheat({ in: v }, hintBits("main.bits", bitsOf(v, 254))));
      }
    });
  });

  describe("AssertBelowModulus() (bits supplied from outside)", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate(
        "canonical_bits_check",
        [CANONICAL_CHECK],
        "CanonicalBitsCheck()",
        ["in", "bits"],
      );
    });

    const check = (x: bigint) => ({ in: x % R, bits: bitsOf(x, 254) });

    it("accepts every 254-bit number below r", async function () {
      const below = [0n, 1n, R - 2n, R - 1n, R - 1n - (1n << 200n), ...fieldSamples("below", 10)];
      for (const x of below) {
        await circuit.calculate(check(x));
        expectCheatHolds(circuit.cheat(check(x)));
      }
    });

    it("rejects every 254-bit number from r up", async function () {
      const random = fieldSamples("above", 10).map((x) => R + (x % (2n ** 254n - R)));
      const above = [R, R + 1n, R | (1n << 27n), 2n ** 253n + R / 2n, 2n ** 254n - 1n, ...random];
      for (const x of above) {
        expect(x >= R && x < 2n ** 254n).to.equal(true);
        await expectRefused(circuit, check(x));
        expectCheatFails(circuit.cheat(check(x)));
      }
    });
  });

  describe("CompareBits(8)", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate("compare_bits_8", [COMPARE], "CompareBits(8)");
    });

    it("compares and finds the agreeing prefix like integer arithmetic", async function () {
      const samples = fieldSamples("compare", 200).map((x) => x % 256n);
      const pairs: [bigint, bigint][] = [
        [0n, 0n],
        [255n, 255n],
        [0n, 255n],
        [255n, 0n],
        [127n, 128n],
        [128n, 127n],
      ];
      for (let i = 0; i < samples.length; i += 2) pairs.push([samples[i]!, samples[i + 1]!]);
      for (let a = 0n; a < 16n; a++) pairs.push([a, 13n], [13n, a], [a, a ^ 1n]);
      for (const [a, b] of pairs) {
        const witness = await circuit.calculate({ a: bitsOf(a, 8), b: bitsOf(b, 8) });
        expect(witness.get("main.lessThan"), `${a} < ${b}`).to.equal(a < b ? 1n : 0n);
        expect(witness.get("main.greaterThan"), `${a} > ${b}`).to.equal(a > b ? 1n : 0n);
        for (let i = 0; i <= 8; i++) {
          const agree = a >> BigInt(i) === b >> BigInt(i) ? 1n : 0n;
          expect(witness.get(`main.agreeFrom[${i}]`), `${a}, ${b} from bit ${i}`).to.equal(agree);
        }
      }
    });
  });

  describe("Log2OfPowerOfTwo(8)", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate("log2_of_power_of_two_8", [LOG2], "Log2OfPowerOfTwo(8)", ["in"]);
    });

    it("gives k and the mask of 2^k - 1 for 2^0 .. 2^8", async function () {
      for (let k = 0n; k <= 8n; k++) {
        const witness = await circuit.calculate({ in: 1n << k });
        expect(witness.get("main.log2")).to.equal(k);
        expect(witness.array("main.mask", 8)).to.deep.equal(bitsOf((1n << k) - 1n, 8));
      }
    });

    it("rejects 0, every other number up to 600, 2^9 and -1", async function () {
      const rejected = [0n, 512n, R - 1n];
      for (let x = 3n; x <= 600n; x++) if ((x & (x - 1n)) !== 0n) rejected.push(x);
      for (const x of rejected) await expectRefused(circuit, { in: x });
    });

    it("rejects a non-power whose mask bits are the honest decomposition (6: mask 101)", function () {
      // in - 1 has exactly one 8-bit decomposition, so these hints are the prover's only option.
      expectCheatFails(circuit.cheat({ in: 6n }, hintBits("main.mask", bitsOf(5n, 8))));
      expectCheatHolds(circuit.cheat({ in: 8n }, hintBits("main.mask", bitsOf(7n, 8))));
    });
  });
});
