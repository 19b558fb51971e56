import { expect } from "chai";
import { type TestCircuit, expectCheatHolds, loadTemplate } from "../helpers/circuits.js";
import { fieldSamples } from "../helpers/field-samples.js";
import { merkleProof, merkleRoot } from "../helpers/poseidon2-reference.js";

// The circuit tests lean on two helpers: the R1CS check of every witness and the dishonest-prover
// completion. Both are checked here against the witness generator itself.
describe("circuit test helpers", function () {
  this.timeout(300_000);

  let permutation: TestCircuit;
  let merkle: TestCircuit;
  before(async function () {
    permutation = await loadTemplate(
      "poseidon2_permutation",
      ["circuits/poseidon2/permutation.circom"],
      "Poseidon2Permutation()",
    );
    merkle = await loadTemplate(
      "merkle_root_check_6",
      ["test/circuits/fixtures/merkle_root_check.circom"],
      "MerkleRootCheck(6)",
      ["root", "leaf", "indexBits", "lastBits", "siblings"],
    );
  });

  it("the R1CS check flags any single changed wire of a generated witness", async function () {
    const witness = await permutation.calculate({ in: fieldSamples("helper", 3) });
    expect(permutation.violatedConstraints([...witness.values])).to.deep.equal([]);
    for (let wire = 1; wire < witness.values.length; wire++) {
      const tampered = [...witness.values];
      tampered[wire] = tampered[wire]! + 1n;
      expect(permutation.violatedConstraints(tampered), `wire ${wire}`).to.not.deep.equal([]);
    }
  });

  it("the completion from the inputs alone reproduces the generator's witness", async function () {
    const leaves = fieldSamples("helper leaves", 11);
    const input = {
      root: merkleRoot(leaves),
      leaf: leaves[10]!,
      indexBits: [0, 1, 0, 1, 0, 0],
      lastBits: [0, 1, 0, 1, 0, 0],
      siblings: [...merkleProof(leaves, 10), 0n, 0n],
    };
    const witness = await merkle.calculate(input);
    const outcome = merkle.cheat(input);
    expectCheatHolds(outcome);
    expect(outcome.values).to.deep.equal(witness.values);

    const state = { in: fieldSamples("helper state", 3) };
    expect(permutation.cheat(state).values).to.deep.equal(
      (await permutation.calculate(state)).values,
    );
  });
});
