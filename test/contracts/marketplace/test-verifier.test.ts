import { expect } from "chai";
import { network } from "hardhat";
import { testVerifier } from "./testbed.js";

const { ethers } = await network.create();

describe("TestGroth16Verifier", function () {
  it("accepts in BindInputs mode exactly the proofs that carry the public inputs", async function () {
    const verifier = await ethers.deployContract("TestGroth16Verifier");
    expect(await verifier.mode()).to.equal(0n);
    const built = await verifier.proofFor([11n, 22n, 3n]);
    expect([built.a.x, built.a.y, built.c.x]).to.deep.equal([11n, 22n, 3n]);
    const proof = await testVerifier.proofFor([11n, 22n, 3n]);
    expect(await verifier.verify(proof, [11n, 22n, 3n])).to.equal(true);
    expect(await verifier.verify(proof, [11n, 22n, 4n])).to.equal(false);
    expect(await verifier.verify(proof, [11n, 23n, 3n])).to.equal(false);
    expect(await verifier.verify(proof, [12n, 22n, 3n])).to.equal(false);
  });

  it("accepts everything in AcceptAll mode and nothing in RejectAll mode", async function () {
    const verifier = await ethers.deployContract("TestGroth16Verifier");
    const proof = await testVerifier.proofFor([1n, 2n, 3n]);
    await verifier.setMode(1n);
    expect(await verifier.verify(proof, [9n, 9n, 9n])).to.equal(true);
    await verifier.setMode(2n);
    expect(await verifier.verify(proof, [1n, 2n, 3n])).to.equal(false);
  });

  it("is measured by the gas meter, cold dearer than warm", async function () {
    const verifier = await ethers.deployContract("TestGroth16Verifier");
    const meter = await ethers.deployContract("VerifierGasMeter");
    const proof = await testVerifier.proofFor([5n, 6n, 7n]);
    const [cold, warm, valid] = await meter.measure(await verifier.getAddress(), proof, [
      5n,
      6n,
      7n,
    ]);
    expect(valid).to.equal(true);
    // The first call pays 2600 for the account and 2100 for the mode's storage slot, the second 100
    // each; memory expansion adds a few gas to the first.
    expect(cold - warm >= 4_500n && cold - warm < 4_600n, `${cold} - ${warm}`).to.equal(true);
    expect(warm > 0n).to.equal(true);
  });
});
