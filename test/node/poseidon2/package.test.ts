import { expect } from "chai";
import type * as Poseidon2 from "../../../node/src/poseidon2/index.js";

// The library as a consumer sees it: `holdfast/poseidon2` resolves through package.json "exports"
// to the compiled node/dist (npm test builds first).
describe("poseidon2: the holdfast/poseidon2 package entry point", function () {
  it("resolves to the compiled library and computes the known answer", async function () {
    const specifier = "holdfast/poseidon2"; // a variable: type checking must not need node/dist
    expect(import.meta.resolve(specifier)).to.match(/\/node\/dist\/poseidon2\/index\.js$/);
    const lib = (await import(specifier)) as typeof Poseidon2;
    expect(lib.permute([0n, 1n, 2n])[0]).to.equal(
      0x30610a447b7dec194697fb50786aa7421494bd64c221ba4d3b1af25fb07bd103n,
    );
    for (const name of [
      "permute",
      "sponge",
      "compress",
      "bytesToElements",
      "cellHash",
      "cellHashes",
      "merkleRoot",
      "MerkleTree",
      "verifyMerkleProof",
      "sampleCellIndices",
      "toBytesLE",
      "fromBytesLE",
      "Poseidon2Error",
    ])
      expect(lib, name).to.have.property(name).that.is.a("function");
  });
});
