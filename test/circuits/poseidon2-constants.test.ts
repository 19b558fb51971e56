import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import {
  poseidon2ConstantsCircom,
  renderPoseidon2Constants,
} from "../../scripts/circuits/generate-poseidon2-constants.js";
import { repoRoot } from "../../scripts/lib/paths.js";

describe("circuits/poseidon2/constants.circom", function () {
  it("is what the generator renders from node/src/poseidon2/constants.ts (not stale)", async function () {
    const committed = await readFile(path.join(repoRoot, poseidon2ConstantsCircom), "utf8");
    expect(
      committed === renderPoseidon2Constants(),
      `${poseidon2ConstantsCircom} is stale: run npx tsx scripts/circuits/generate-poseidon2-constants.ts`,
    ).to.equal(true);
  });
});
