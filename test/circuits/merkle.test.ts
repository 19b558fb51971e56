import { expect } from "chai";
import {
  type CircuitInput,
  type TestCircuit,
  expectCheatFails,
  expectCheatHolds,
  expectRefused,
  loadTemplate,
} from "../helpers/circuits.js";
import { fieldSamples } from "../helpers/field-samples.js";
import { compress, merkleProof, merkleRoot } from "../helpers/poseidon2-reference.js";

const MERKLE = "circuits/merkle/merkle_root.circom";
const MERKLE_CHECK = "test/circuits/fixtures/merkle_root_check.circom";
const DEPTH = 6;

const leavesOf = (count: number, label = "leaves") => fieldSamples(`${label} ${count}`, count);

/** The reference proof, padded with zeros to `depth` entries as Codex's input files are. */
function siblingsFor(leaves: readonly bigint[], index: number, depth = DEPTH): bigint[] {
  const proof = merkleProof(leaves, index);
  return [...proof, ...new Array<bigint>(depth - proof.length).fill(0n)];
}

const bitsOf = (x: number, n = DEPTH): number[] =>
  Array.from({ length: n }, (_, i) => (x >> i) & 1);

/** Input for MerkleRootCheck(DEPTH): the reference tree's root, leaf and proof. */
function checkInput(
  leaves: readonly bigint[],
  index: number,
): Record<string, bigint | number[] | bigint[]> {
  return {
    root: merkleRoot(leaves),
    leaf: leaves[index]!,
    indexBits: bitsOf(index),
    lastBits: bitsOf(leaves.length - 1),
    siblings: siblingsFor(leaves, index),
  };
}

describe("Merkle root circuits", function () {
  this.timeout(300_000);

  describe(`MerkleRootFromIndex(${DEPTH})`, function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate(
        `merkle_root_from_index_${DEPTH}`,
        [MERKLE],
        `MerkleRootFromIndex(${DEPTH})`,
      );
    });

    const rootFor = async (leaves: readonly bigint[], index: number, siblings?: bigint[]) => {
      const input: CircuitInput = {
        leaf: leaves[index]!,
        index,
        leafCount: leaves.length,
        siblings: siblings ?? siblingsFor(leaves, index),
      };
      return (await circuit.calculate(input)).get("main.root");
    };

    it("reconstructs the root for every leaf count from 1 to 40, and 63 and 64", async function () {
      for (const count of [...Array.from({ length: 40 }, (_, i) => i + 1), 63, 64]) {
        const leaves = leavesOf(count);
        const expected = merkleRoot(leaves);
        for (const index of new Set([0, count >> 1, count - 1])) {
          expect(await rootFor(leaves, index), `${count} leaves, leaf ${index}`).to.equal(expected);
        }
      }
    });

    it("reconstructs the root from every leaf of the odd-sized trees 1 .. 39", async function () {
      for (let count = 1; count <= 39; count += 2) {
        const leaves = leavesOf(count, "odd");
        const expected = merkleRoot(leaves);
        for (let index = 0; index < count; index++) {
          expect(await rootFor(leaves, index), `${count} leaves, leaf ${index}`).to.equal(expected);
        }
      }
    });

    it("gives a singleton tree the root C(leaf, 0, key 3)", async function () {
      for (const leaf of fieldSamples("singleton", 3)) {
        expect(await rootFor([leaf], 0)).to.equal(compress(leaf, 0n, 3));
      }
    });

    it("ignores the path at odd nodes and at levels the tree does not have", async function () {
      // 21 leaves: leaf 20 is odd at levels 0 and 1 (layers of 21 and 11 nodes); the tree has 5
      // levels, so level 5 of the depth-6 path is not part of it.
      const leaves = leavesOf(21);
      const junk = fieldSamples("junk", DEPTH);
      const siblings = siblingsFor(leaves, 20);
      for (const level of [0, 1, 5]) {
        expect(siblings[level]).to.equal(0n);
        siblings[level] = junk[level]!;
      }
      expect(await rootFor(leaves, 20, siblings)).to.equal(merkleRoot(leaves));
      // ...while the same junk at a real sibling changes the root.
      const real = siblingsFor(leaves, 20);
      real[2] = junk[2]!;
      expect(await rootFor(leaves, 20, real)).to.not.equal(merkleRoot(leaves));
    });

    it("refuses an index at or past the leaf count, a count of 0 and a count above 2^depth", async function () {
      const leaves = leavesOf(5);
      const input = { leaf: leaves[4]!, siblings: siblingsFor(leaves, 4) };
      await circuit.calculate({ ...input, index: 4, leafCount: 5 }); // the untampered input
      for (const [index, leafCount] of [
        [5, 5],
        [7, 5],
        [64, 5],
        [0, 0],
        [4, 65],
      ] as const) {
        await expectRefused(circuit, { ...input, index, leafCount });
      }
    });
  });

  describe("MerkleRootFromIndex(1)", function () {
    it("handles the trees of one and two leaves", async function () {
      const circuit = await loadTemplate(
        "merkle_root_from_index_1",
        [MERKLE],
        "MerkleRootFromIndex(1)",
      );
      const [a, b] = fieldSamples("depth 1", 2) as [bigint, bigint];
      const root = async (leafCount: number, index: number, leaf: bigint, sibling: bigint) =>
        (await circuit.calculate({ leaf, index, leafCount, siblings: [sibling] })).get("main.root");
      expect(await root(1, 0, a, 0n)).to.equal(compress(a, 0n, 3));
      expect(await root(2, 0, a, b)).to.equal(compress(a, b, 1));
      expect(await root(2, 1, b, a)).to.equal(compress(a, b, 1));
      expect(compress(a, b, 1)).to.equal(merkleRoot([a, b]));
    });
  });

  // A dishonest prover controls every private value; MerkleRootFromPath computes nothing with
  // `<--`, so fixing the inputs determines the whole witness and `cheat` decides satisfiability.
  describe(`MerkleRootCheck(${DEPTH}): negative cases`, function () {
    let circuit: TestCircuit;
    const inputs = ["root", "leaf", "indexBits", "lastBits", "siblings"];
    before(async function () {
      circuit = await loadTemplate(
        `merkle_root_check_${DEPTH}`,
        [MERKLE_CHECK],
        `MerkleRootCheck(${DEPTH})`,
        inputs,
      );
    });

    /** The honest input must pass, and the tampered one must fail at the constraint level. */
    async function expectTamperFails(honest: CircuitInput, tampered: CircuitInput) {
      await circuit.calculate(honest);
      expectCheatHolds(circuit.cheat(honest));
      await expectRefused(circuit, tampered);
      expectCheatFails(circuit.cheat(tampered));
    }

    const leaves = leavesOf(21, "negative");

    it("accepts every leaf of the 21-leaf tree", async function () {
      for (let index = 0; index < leaves.length; index++) {
        await circuit.calculate(checkInput(leaves, index));
      }
    });

    it("rejects a wrong sibling at each level the path uses", async function () {
      for (const index of [13, 20]) {
        const honest = checkInput(leaves, index);
        const levels = honest.siblings as bigint[];
        for (let level = 0; level < 5; level++) {
          if (levels[level] === 0n) continue; // odd node: no sibling to tamper with
          const siblings = [...levels];
          siblings[level] = siblings[level]! + 1n;
          await expectTamperFails(honest, { ...honest, siblings });
        }
      }
    });

    it("rejects a wrong index", async function () {
      const honest = checkInput(leaves, 13);
      for (const wrong of [12, 9, 15, 5]) {
        await expectTamperFails(honest, { ...honest, indexBits: bitsOf(wrong) });
      }
    });

    it("rejects an index past the last leaf, even where its extra bits sit on skipped levels", async function () {
      // A full 16-leaf tree uses levels 0..3; index 13 + 16 differs from 13 only at level 4,
      // which is skipped, so only the index <= last check stands between it and a valid proof.
      const full = leavesOf(16, "full");
      const honest = checkInput(full, 13);
      await expectTamperFails(honest, { ...honest, indexBits: bitsOf(13 + 16) });
      await expectTamperFails(honest, { ...honest, indexBits: bitsOf(13 + 32) });
    });

    it("rejects a tampered leaf", async function () {
      for (const index of [0, 13, 20]) {
        const honest = checkInput(leaves, index);
        await expectTamperFails(honest, { ...honest, leaf: (honest.leaf as bigint) + 1n });
      }
    });

    it("rejects a wrong leaf count (which changes the odd-node keys)", async function () {
      const honest = checkInput(leaves, 20);
      for (const wrongCount of [22, 24, 32]) {
        await expectTamperFails(honest, { ...honest, lastBits: bitsOf(wrongCount - 1) });
      }
    });

    it("rejects a non-bit in the index (caught by the bit check the caller owes)", async function () {
      const honest = checkInput(leaves, 13);
      const indexBits = bitsOf(13);
      indexBits[1] = 2; // 13 = 1101b; with a 2 at bit 1 the weighted sum is 17
      await expectTamperFails(honest, { ...honest, indexBits });
    });
  });
});
