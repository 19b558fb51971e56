import { expect } from "chai";
import {
  type CircuitInput,
  type TestCircuit,
  expectCheatFails,
  expectCheatHolds,
  expectRefused,
} from "../helpers/circuits.js";
import { TestCircuit as Circuit } from "../helpers/circuits.js";
import { fieldSamples } from "../helpers/field-samples.js";
import { R, bytesToElements, sponge } from "../helpers/poseidon2-reference.js";
import {
  DEV_PARAMETERS,
  type ReferenceProofInput,
  ReferenceSlot,
  referenceProofInput,
  sampleCells,
  sampleEntropies,
  sampleSlots,
} from "../helpers/storage-proof-reference.js";

const DEV = "circuits/instances/dev.circom";

const asInput = (input: ReferenceProofInput): CircuitInput => ({ ...input });

/** The first entropy (from a labelled sequence) for which `accept` holds. */
function findEntropy(label: string, accept: (entropy: bigint) => boolean): bigint {
  for (const entropy of sampleEntropies(label, 1000)) if (accept(entropy)) return entropy;
  throw new Error(`no entropy in 1000 tries for ${label}`);
}

/** A cell path padded with zeros to the dev instance's maxDepth. */
const padded = (path: readonly bigint[]) => [
  ...path,
  ...new Array<bigint>(DEV_PARAMETERS.maxDepth - path.length).fill(0n),
];

/** h_1 = sponge(entropy, slotRoot, 1), the first sample's hash. */
const sampleHash = (entropy: bigint, slotRoot: bigint) => sponge([entropy, slotRoot, 1n]);

// The dev instance (SampleAndProve(10, 4, 5, 67, 1)) on inputs built by the BigInt reference: every
// honest witness is checked against the full R1CS, every dishonest one must be refused.
describe("SampleAndProve, dev instance", function () {
  this.timeout(600_000);

  let circuit: TestCircuit;
  // A one-slot dataset of one block, three slots of two blocks, eleven one-block slots.
  let single: ReferenceSlot[];
  let three: ReferenceSlot[];
  let eleven: ReferenceSlot[];
  const rootsOf = (slots: readonly ReferenceSlot[]) => slots.map((s) => s.root);

  before(async function () {
    circuit = await Circuit.load(DEV);
    single = sampleSlots("single", 1, 32);
    three = sampleSlots("three", 3, 64);
    eleven = sampleSlots("eleven", 11, 32);
  });

  const proofInput = (slots: readonly ReferenceSlot[], slotIndex: number, entropy: bigint) =>
    referenceProofInput(DEV_PARAMETERS, slots[slotIndex]!, rootsOf(slots), slotIndex, entropy);

  it("has 12,614 constraints and the public inputs entropy, dataSetRoot, slotIndex in wires 1..3", function () {
    expect(circuit.constraintCount).to.equal(12_614);
    expect(circuit.build.nonLinearConstraints).to.equal(12_614);
    expect(
      ["main.entropy", "main.dataSetRoot", "main.slotIndex"].map((n) => circuit.wire(n)),
    ).to.deep.equal([1, 2, 3]);
  });

  describe("honest inputs", function () {
    it("proves the one-block slot (32 cells) of a one-slot dataset", async function () {
      for (const entropy of sampleEntropies("single", 4)) {
        await circuit.calculate(asInput(proofInput(single, 0, entropy)));
      }
    });

    it("proves every slot of a dataset of 3 slots of 64 cells", async function () {
      const entropies = sampleEntropies("three", 3);
      for (let slot = 0; slot < 3; slot++) {
        for (const entropy of entropies) {
          await circuit.calculate(asInput(proofInput(three, slot, entropy)));
        }
      }
    });

    it("proves every slot of a dataset of 11 one-block slots", async function () {
      const [entropy] = sampleEntropies("eleven", 1) as [bigint];
      for (let slot = 0; slot < 11; slot++) {
        await circuit.calculate(asInput(proofInput(eleven, slot, entropy)));
      }
    });

    it("proves a slot of 2^10 cells (the dev maximum) in every block", async function () {
      const big = new ReferenceSlot(sampleCells("big", 1024));
      // The other slots of its dataset only contribute their roots.
      const roots = [...fieldSamples("big dataset", 2), big.root];
      const blocks = new Set<number>();
      const entropies = sampleEntropies("big", 400);
      for (const entropy of entropies) {
        const block = Number(sampleHash(entropy, big.root) % 1024n) >> 5;
        if (blocks.has(block)) continue;
        blocks.add(block);
        const input = referenceProofInput(DEV_PARAMETERS, big, roots, 2, entropy);
        await circuit.calculate(asInput(input));
        if (blocks.size === 32) break;
      }
      expect(blocks.size).to.equal(32);
    });
  });

  describe("cheating", function () {
    it("refuses wrong cell data (any one element changed)", async function () {
      const honest = proofInput(three, 1, sampleEntropies("wrong data", 1)[0]!);
      await circuit.calculate(asInput(honest));
      for (const element of [0, 33, 66]) {
        const cellData = honest.cellData.map((cell) => [...cell]);
        cellData[0]![element] = cellData[0]![element]! + 1n;
        await expectRefused(circuit, asInput({ ...honest, cellData }));
      }
    });

    it("refuses a cell (with its valid path) from another index than the sampled one", async function () {
      const slot = three[2]!;
      const entropy = sampleEntropies("other index", 1)[0]!;
      const honest = proofInput(three, 2, entropy);
      const sampled = Number(sampleHash(entropy, slot.root) % 64n);
      for (const other of [sampled ^ 1, sampled ^ 32, (sampled + 7) % 64]) {
        await expectRefused(
          circuit,
          asInput({
            ...honest,
            cellData: [bytesToElements(slot.cells[other]!)],
            merklePaths: [padded(slot.path(other))],
          }),
        );
      }
    });

    it("refuses a wrong slot index (a neighbour's, or one past the dataset)", async function () {
      const honest = proofInput(eleven, 5, sampleEntropies("slot index", 1)[0]!);
      for (const slotIndex of [4, 6, 11, 15, 16, 1 << 20]) {
        await expectRefused(circuit, asInput({ ...honest, slotIndex }));
      }
    });

    it("refuses a slot whose root is not a leaf of the dataset tree", async function () {
      // A valid slot with valid cell proofs, claimed as slot 1 of the 3-slot dataset.
      const stranger = new ReferenceSlot(sampleCells("stranger", 64));
      const entropy = sampleEntropies("stranger", 1)[0]!;
      const own = referenceProofInput(DEV_PARAMETERS, stranger, [stranger.root], 0, entropy);
      await circuit.calculate(asInput(own));
      const dataset = proofInput(three, 1, entropy);
      await expectRefused(
        circuit,
        asInput({ ...own, dataSetRoot: dataset.dataSetRoot, slotIndex: 1, nSlotsPerDataSet: 3 }),
      );
      await expectRefused(
        circuit,
        asInput({
          ...own,
          dataSetRoot: dataset.dataSetRoot,
          slotIndex: 1,
          nSlotsPerDataSet: 3,
          slotProof: dataset.slotProof,
        }),
      );
    });

    it("refuses a proof input made for a stale entropy", async function () {
      const slot = three[0]!;
      const [stale, fresh] = sampleEntropies("stale", 2) as [bigint, bigint];
      // With one sample of 64 cells, 1 in 64 fresh challenges picks the same cell: then the stale
      // input is a valid proof of the fresh statement. These two pick different cells.
      expect(sampleHash(stale, slot.root) % 64n).to.not.equal(sampleHash(fresh, slot.root) % 64n);
      const input = proofInput(three, 0, stale);
      await circuit.calculate(asInput(input));
      await expectRefused(circuit, asInput({ ...input, entropy: fresh }));
    });

    it("refuses a false cell count: smaller, larger, not a power of two, below a block, above 2^10", async function () {
      const honest = proofInput(three, 0, sampleEntropies("cell count", 1)[0]!);
      for (const nCellsPerSlot of [32, 128, 48, 63, 65, 16, 1, 0, 2048, 1 << 20]) {
        await expectRefused(circuit, asInput({ ...honest, nCellsPerSlot }));
      }
    });

    it("refuses a false slot count: 0, more than 2^4, or another count than the tree's", async function () {
      const honest = proofInput(three, 2, sampleEntropies("slot count", 1)[0]!);
      for (const nSlotsPerDataSet of [0, 17, 2, 4, 5]) {
        await expectRefused(circuit, asInput({ ...honest, nSlotsPerDataSet }));
      }
    });

    it("refuses a tampered slot proof or dataset root", async function () {
      const honest = proofInput(eleven, 10, sampleEntropies("slot proof", 1)[0]!);
      for (let level = 0; level < 4; level++) {
        if (honest.slotProof[level] === 0n) continue; // an odd node: nothing to tamper with
        const slotProof = [...honest.slotProof];
        slotProof[level] = slotProof[level]! + 1n;
        await expectRefused(circuit, asInput({ ...honest, slotProof }));
      }
      await expectRefused(circuit, asInput({ ...honest, dataSetRoot: honest.dataSetRoot + 1n }));
    });

    // The witness generator always computes canonical bits; a dishonest prover would pick the bits
    // of h + r instead, whose low bits are those of h + 1 (r = 1 mod 2^28), and prove that cell.
    it("refuses the non-canonical bits of the sample hash, with which another cell could be proven", function () {
      const slot = three[1]!;
      const entropy = findEntropy(
        "non-canonical",
        (e) => sampleHash(e, slot.root) < 2n ** 254n - R,
      );
      const h = sampleHash(entropy, slot.root);
      const honest = proofInput(three, 1, entropy);
      const honestIndex = Number(h % 64n);
      const shiftedIndex = Number((h + R) % 64n);
      expect(shiftedIndex).to.equal((honestIndex + 1) % 64);

      // Hints: the values the prover picks with `<--`. --O2 keeps one wire per set of equal
      // signals, under whichever name; the others are skipped by cheat, so each is set under all.
      const hints = (hash: bigint) => {
        const map = new Map<string, bigint>();
        const bits = (names: readonly string[], value: bigint, n: number) => {
          for (let i = 0; i < n; i++) {
            for (const name of names) map.set(`${name}[${i}]`, (value >> BigInt(i)) & 1n);
          }
        };
        bits(["main.index[0].bits.bits"], hash, 254);
        bits(["main.inclusion[0].indexBits"], hash, 5);
        bits(["main.cells.bits.bits", "main.cells.mask"], 63n, 10);
        bits(["main.dataSet.indexBits.bits", "main.dataSet.path.indexBits"], 1n, 4);
        bits(["main.dataSet.lastBits.bits", "main.dataSet.path.lastBits"], 2n, 4);
        return map;
      };
      expectCheatHolds(circuit.cheat(asInput(honest), hints(h)));
      const shifted = {
        ...honest,
        cellData: [bytesToElements(slot.cells[shiftedIndex]!)],
        merklePaths: [padded(slot.path(shiftedIndex))],
      };
      expectCheatFails(circuit.cheat(asInput(shifted), hints(h + R)));
    });
  });
});
