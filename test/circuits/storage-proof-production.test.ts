import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { hexlify } from "ethers";
import { circuitInputJson, buildProofInput } from "../../node/src/proof/input.js";
import { SlotTree, blockStoreFromBytes, provableSlot } from "../../node/src/proof/slot-tree.js";
import { MerkleTree, sampleCellIndices, toBytesLE } from "../../node/src/poseidon2/index.js";
import { NAMED_INSTANCES } from "../../scripts/circuits/instances.js";
import {
  type TestCircuit,
  TestCircuit as Circuit,
  WitnessGenerationError,
  loadTemplate,
} from "../helpers/circuits.js";
import { byteSamples, fieldSamples } from "../helpers/field-samples.js";
import { compress, sponge } from "../helpers/poseidon2-reference.js";
import { PRODUCTION_PARAMETERS } from "../helpers/storage-proof-reference.js";

let production: Promise<TestCircuit> | undefined;
/** The production circuit, loaded once for this file (its R1CS alone takes a few hundred MB). */
const loadProduction = () => (production ??= Circuit.load(NAMED_INSTANCES.production));

/** Slot `index` of a dataset of `nSlots`: a slot of `nCells` pseudo-random cells, other roots random. */
async function request(label: string, nCells: number, index: number, nSlots: number) {
  const store = blockStoreFromBytes(byteSamples(label, nCells * 2048));
  const tree = await SlotTree.build(store);
  const roots = fieldSamples(label, nSlots);
  roots[index] = tree.root;
  return {
    parameters: PRODUCTION_PARAMETERS,
    challenge: hexlify(byteSamples(`challenge ${label}`, 32)),
    merkleRoot: toBytesLE(new MerkleTree(roots).root),
    slotIndex: index,
    slotRoots: roots,
    slot: provableSlot(tree, store),
  };
}

// The production instance (SampleAndProve(32, 8, 5, 67, 5), as Codex deploys it) is too big for a
// local setup in CI; it is compiled (cached by content hash) and checked by witness generation, with
// every R1CS constraint checked, on inputs the node builds.
describe("SampleAndProve, production instance", function () {
  this.timeout(900_000);

  let circuit: TestCircuit;
  before(async function () {
    circuit = await loadProduction();
  });

  it("has 87,488 constraints and the public inputs entropy, dataSetRoot, slotIndex in wires 1..3", function () {
    expect(circuit.constraintCount).to.equal(87_488);
    expect(
      ["main.entropy", "main.dataSetRoot", "main.slotIndex"].map((n) => circuit.wire(n)),
    ).to.deep.equal([1, 2, 3]);
  });

  it("proves slot 3 of 11 with 512 cells, a one-block slot alone, and slot 200 of 256 with 2^12 cells", async function () {
    for (const [label, nCells, index, nSlots] of [
      ["codex-like", 512, 3, 11],
      ["one block", 32, 0, 1],
      ["large", 4096, 200, 256],
    ] as const) {
      const input = await buildProofInput(await request(label, nCells, index, nSlots));
      await circuit.calculate(circuitInputJson(input) as never);
    }
  });
});

interface CodexInput {
  dataSetRoot: string;
  entropy: string;
  nCellsPerSlot: number;
  nSlotsPerDataSet: number;
  slotIndex: number;
  slotRoot: string;
  slotProof: string[];
  cellData: string[][];
  merklePaths: string[][];
}

// An input file Codex's tooling made for its production circuit (see the vector's "source"). Its
// dataset proof and its sampled cells agree with this implementation. Its cell paths do not: they
// compress the slot tree's bottom level with key 0, as one tree over all 512 cells (all five paths
// reach 17289842...159288 that way), while the spec, Codex's circuit (ProveSingleCell's two
// RootFromMerklePath) and Codex's reference (Slot.hs, a tree over the block roots) give that level
// the bottom key; its slotRoot 66349521...919323 is neither. So the file as a whole is refused.
describe("Codex's production input file", function () {
  this.timeout(900_000);

  let codex: CodexInput;
  before(async function () {
    const file = path.join(
      import.meta.dirname,
      "..",
      "vectors",
      "codex-proof-input-production.json",
    );
    codex = (JSON.parse(await readFile(file, "utf8")) as { input: CodexInput }).input;
  });

  it("has a dataset proof (slot 3 of 11) that the circuit's dataset tree accepts", async function () {
    const circuit = await loadTemplate(
      "merkle_root_from_index_8",
      ["circuits/merkle/merkle_root.circom"],
      "MerkleRootFromIndex(8)",
    );
    const witness = await circuit.calculate({
      leaf: codex.slotRoot,
      index: codex.slotIndex,
      leafCount: codex.nSlotsPerDataSet,
      siblings: codex.slotProof,
    });
    expect(witness.get("main.root")).to.equal(BigInt(codex.dataSetRoot));
  });

  it("samples the cells this implementation samples", function () {
    const indices = sampleCellIndices(
      BigInt(codex.entropy),
      BigInt(codex.slotRoot),
      codex.nCellsPerSlot,
      5,
    );
    // Two cells in blocks a and b have the same slot-tree siblings above the level where a and b
    // part, and different ones at it: the paths' shared entries fix each pair's parting level.
    const blockTreeDepth = PRODUCTION_PARAMETERS.blockTreeDepth;
    const slotLevels = Math.log2(codex.nCellsPerSlot) - blockTreeDepth;
    for (let a = 0; a < 5; a++) {
      for (let b = a + 1; b < 5; b++) {
        const parting = 31 - Math.clz32((indices[a]! ^ indices[b]!) >> blockTreeDepth);
        for (let level = 0; level < slotLevels; level++) {
          const same =
            codex.merklePaths[a]![blockTreeDepth + level] ===
            codex.merklePaths[b]![blockTreeDepth + level];
          expect(same, `samples ${a} and ${b} at slot level ${level}`).to.equal(level > parting);
        }
      }
    }
  });

  it("has cell paths that all reach one root as a single tree over the cells, not its slotRoot", function () {
    const indices = sampleCellIndices(BigInt(codex.entropy), BigInt(codex.slotRoot), 512, 5);
    const roots = indices.map((index, s) => {
      let node = sponge(codex.cellData[s]!.map(BigInt));
      for (let level = 0; level < 9; level++) {
        const sibling = BigInt(codex.merklePaths[s]![level]!);
        const key = level === 0 ? 1 : 0;
        node = (index >> level) & 1 ? compress(sibling, node, key) : compress(node, sibling, key);
      }
      return node;
    });
    expect(new Set(roots)).to.deep.equal(
      new Set([17289842037646926532340689421684120779849520605172558173298711585317864159288n]),
    );
    expect(roots[0]).to.not.equal(BigInt(codex.slotRoot));
  });

  it("is read by the production witness generator, which refuses its cell paths", async function () {
    const circuit = await loadProduction();
    let failure: unknown;
    try {
      await circuit.calculate(codex as never);
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(WitnessGenerationError);
    expect((failure as Error).message).to.match(/Assert Failed[\s\S]*CellInclusion/);
  });
});
