import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import * as snarkjs from "snarkjs";
import { compileCircuit } from "../../scripts/circuits/compile.js";
import { ensurePtau } from "../../scripts/circuits/ptau.js";
import { groth16Setup } from "../../scripts/circuits/setup.js";
import { releaseSnarkjsWorkers } from "../../scripts/circuits/snarkjs-runtime.js";
import { compileSolidity } from "../helpers/solc.js";

const require = createRequire(import.meta.url);
const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

// The whole toolchain end to end on the smallest circuit: circom2 -> local powers of tau -> Groth16
// setup -> proof -> the verifier contract snarkjs exports, deployed on Hardhat's EVM.
describe("Groth16 round trip (tiny circuit, snarkjs-exported verifier)", function () {
  this.timeout(120_000);
  after(releaseSnarkjsWorkers);

  let verifier: { verifyProof: (...args: unknown[]) => Promise<boolean> };
  let args: {
    a: [bigint, bigint];
    b: [[bigint, bigint], [bigint, bigint]];
    c: [bigint, bigint];
    pub: [bigint];
  };

  before(async function () {
    const build = await compileCircuit("test/circuits/fixtures/multiplier.circom");
    const ptau = await ensurePtau(6);
    const setup = await groth16Setup(build, ptau);
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      { a: 3, b: 11 },
      build.wasm,
      setup.zkey,
    );
    expect(publicSignals).to.deep.equal(["33"]);
    const vkey = JSON.parse(
      await readFile(setup.vkeyJson, "utf8"),
    ) as snarkjs.Groth16VerificationKey;
    expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).to.equal(true);

    // snarkjs's package exports hide its templates folder; it sits beside build/main.cjs's parent.
    const snarkjsRoot = path.dirname(path.dirname(require.resolve("snarkjs")));
    const template = await readFile(
      path.join(snarkjsRoot, "templates", "verifier_groth16.sol.ejs"),
      "utf8",
    );
    const source = await snarkjs.zKey.exportSolidityVerifier(setup.zkey, { groth16: template });
    await releaseSnarkjsWorkers();
    const { abi, bytecode } = compileSolidity("Groth16Verifier.sol", source, "Groth16Verifier");

    const { ethers } = await network.create();
    const factory = new ethers.ContractFactory(
      abi as never,
      bytecode,
      (await ethers.getSigners())[0],
    );
    verifier = (await factory.deploy()) as unknown as typeof verifier;

    // snarkjs's proof coordinates are decimal strings; pi_b's Fp2 halves go to the EVM swapped.
    args = {
      a: [BigInt(proof.pi_a[0]), BigInt(proof.pi_a[1])],
      b: [
        [BigInt(proof.pi_b[0][1]), BigInt(proof.pi_b[0][0])],
        [BigInt(proof.pi_b[1][1]), BigInt(proof.pi_b[1][0])],
      ],
      c: [BigInt(proof.pi_c[0]), BigInt(proof.pi_c[1])],
      pub: [33n],
    };
  });

  it("accepts the real proof", async function () {
    expect(await verifier.verifyProof(args.a, args.b, args.c, args.pub)).to.equal(true);
  });

  it("rejects the proof with a tampered public input", async function () {
    expect(await verifier.verifyProof(args.a, args.b, args.c, [34n])).to.equal(false);
  });

  it("rejects the public input shifted by the field modulus", async function () {
    expect(await verifier.verifyProof(args.a, args.b, args.c, [33n + BN254_R])).to.equal(false);
  });

  it("rejects a tampered proof point", async function () {
    const c: [bigint, bigint] = [args.c[0], args.c[1] + 1n];
    expect(await verifier.verifyProof(args.a, args.b, c, args.pub)).to.equal(false);
  });
});
