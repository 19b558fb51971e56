import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import {
  Groth16EncodingError,
  proofFromSnarkjs,
  publicSignalsFromSnarkjs,
  verificationKeyFromSnarkjs,
} from "../../node/src/proof/groth16-encoding.js";
import { releaseSnarkjsWorkers } from "../../scripts/circuits/snarkjs-runtime.js";
import { verifierDeploymentParameters } from "../../scripts/deploy/verifier-parameters.js";
import Groth16VerifierModule from "../../deploy/modules/Groth16Verifier.js";
import {
  type ThreePublicSetup,
  proveThreePublic,
  threePublicSetup,
} from "../helpers/three-public-fixture.js";

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(import.meta.dirname, "..", "..");

describe("deploy/modules/Groth16Verifier (Ignition)", function () {
  this.timeout(120_000);
  after(releaseSnarkjsWorkers);

  let fixture: ThreePublicSetup;
  let proof: ReturnType<typeof proofFromSnarkjs>;
  let pub: ReturnType<typeof publicSignalsFromSnarkjs>;
  let dir: string;

  before(async function () {
    fixture = await threePublicSetup();
    const result = await proveThreePublic(fixture, 99n, 1234n, 5n);
    await releaseSnarkjsWorkers();
    proof = proofFromSnarkjs(result.proof);
    pub = publicSignalsFromSnarkjs(result.publicSignals);
    dir = await mkdtemp(path.join(tmpdir(), "holdfast-verifier-"));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("deploys from a parameters file the circuits CLI makes from verification_key.json", async function () {
    const parametersFile = path.join(dir, "verifier-parameters.json");
    const cli = spawnSync(
      process.execPath,
      [
        require.resolve("tsx/cli"),
        "scripts/circuits/cli.ts",
        "verifier-parameters",
        fixture.setup.vkeyJson,
        parametersFile,
      ],
      { cwd: repoRoot, encoding: "utf8" },
    );
    expect(cli.status, cli.stderr).to.equal(0);
    expect(JSON.parse(cli.stdout)).to.deep.equal({ parameters: parametersFile });

    const { ignition, ethers } = await network.create("hardhatMainnet");
    const { verifier: deployed } = await ignition.deploy(Groth16VerifierModule, {
      parameters: parametersFile,
    });
    const verifier = await ethers.getContractAt("Groth16Verifier", await deployed.getAddress());
    expect(await verifier.verify(proof, pub)).to.equal(true);
    expect(await verifier.verify(proof, [pub[0], pub[1], pub[2] + 1n])).to.equal(false);
    const held = await verifier.verificationKey();
    const key = verificationKeyFromSnarkjs(fixture.vkey);
    expect([held.alpha1.x, held.gamma2.x.imag, held.ic[2].y]).to.deep.equal([
      key.alpha1.x,
      key.gamma2.x.imag,
      key.ic[2].y,
    ]);
  });

  it("deploys from parameters given in code", async function () {
    const { ignition, ethers } = await network.create("hardhatMainnet");
    const { verifier: deployed } = await ignition.deploy(Groth16VerifierModule, {
      parameters: await verifierDeploymentParameters(fixture.setup.vkeyJson),
    });
    const verifier = await ethers.getContractAt("Groth16Verifier", await deployed.getAddress());
    expect(await verifier.verify(proof, pub)).to.equal(true);
  });

  it("refuses a verification key for another number of public inputs before deploying", async function () {
    const vkey = JSON.parse(await readFile(fixture.setup.vkeyJson, "utf8")) as { nPublic: number };
    const wrong = path.join(dir, "one-public.json");
    await writeFile(wrong, JSON.stringify({ ...vkey, nPublic: 1 }));
    let error: unknown;
    try {
      await verifierDeploymentParameters(wrong);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Groth16EncodingError);
    expect((error as Groth16EncodingError).field).to.equal("nPublic");
  });

  it("does not deploy without the verificationKey parameter", async function () {
    const { ignition } = await network.create("hardhatMainnet");
    let error: unknown;
    try {
      await ignition.deploy(Groth16VerifierModule);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.include("verificationKey");
  });
});
