import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { expect } from "chai";
import { StorageProofError } from "../../node/src/proof/errors.js";
import { verificationKeyFromSnarkjs } from "../../node/src/proof/groth16-encoding.js";
import { compileCircuit } from "../../scripts/circuits/compile.js";
import {
  NAMED_INSTANCES,
  buildInstance,
  instanceMain,
  readInstanceParameters,
  requiredPtauPower,
} from "../../scripts/circuits/instances.js";
import { buildDir, repoRoot } from "../../scripts/lib/paths.js";

const require = createRequire(import.meta.url);

const tuple = (main: string) => Object.values(readInstanceParameters(main));

describe("storage-proof circuit instances", function () {
  this.timeout(900_000);

  it("reads the parameters from the instance's main file", function () {
    expect(tuple(NAMED_INSTANCES.dev)).to.deep.equal([10, 4, 5, 67, 1]);
    expect(tuple(NAMED_INSTANCES.production)).to.deep.equal([32, 8, 5, 67, 5]);
  });

  it("refuses a main without the three public inputs in order, or with impossible parameters", async function () {
    const dir = path.join(buildDir, "test-mains");
    await mkdir(dir, { recursive: true });
    const write = async (name: string, main: string) => {
      const file = path.join(dir, name);
      await writeFile(file, `pragma circom 2.2.0;\n${main}\n`);
      return path.relative(repoRoot, file);
    };
    const reordered = await write(
      "reordered.circom",
      "component main {public [dataSetRoot, entropy, slotIndex]} = SampleAndProve(10, 4, 5, 67, 1);",
    );
    expect(() => readInstanceParameters(reordered)).to.throw(/no "component main/);
    const shallow = await write(
      "shallow.circom",
      "component main {public [entropy, dataSetRoot, slotIndex]} = SampleAndProve(5, 4, 5, 67, 1);",
    );
    expect(() => readInstanceParameters(shallow))
      .to.throw(StorageProofError)
      .with.property("code", "BAD_PARAMETERS");
  });

  it("writes mains for other parameters that compile to the same templates", async function () {
    const main = await instanceMain({
      ...readInstanceParameters(NAMED_INSTANCES.dev),
      nSamples: 2,
    });
    expect(tuple(main)).to.deep.equal([10, 4, 5, 67, 2]);
    expect(await instanceMain(readInstanceParameters(main))).to.equal(main);
  });

  it("needs 2^14 powers of tau for dev and 2^17 for production", async function () {
    expect(requiredPtauPower(await compileCircuit(NAMED_INSTANCES.dev))).to.equal(14);
    expect(requiredPtauPower(await compileCircuit(NAMED_INSTANCES.production))).to.equal(17);
  });

  it("builds the dev artifacts once and then reuses them", async function () {
    const first = await buildInstance(NAMED_INSTANCES.dev);
    expect(await buildInstance(NAMED_INSTANCES.dev)).to.deep.equal(first);
    const zkey = await readFile(first.zkey);
    expect(createHash("sha256").update(zkey).digest("hex")).to.equal(first.zkeyHash);
    const vkey = JSON.parse(await readFile(first.vkeyJson, "utf8")) as unknown;
    const parameters = JSON.parse(await readFile(first.verifierParameters, "utf8")) as {
      Groth16Verifier: { verificationKey: { alpha1: { x: string } } };
    };
    expect(parameters.Groth16Verifier.verificationKey.alpha1.x).to.equal(
      `${verificationKeyFromSnarkjs(vkey).alpha1.x}n`,
    );
  });

  it("refuses to set up production without a published powers of tau", function () {
    const cli = spawnSync(
      process.execPath,
      [require.resolve("tsx/cli"), "scripts/circuits/cli.ts", "instance", "production"],
      { cwd: repoRoot, encoding: "utf8" },
    );
    expect(cli.status).to.equal(1);
    expect(cli.stderr).to.include("needs a published powers of tau (--ptau)");
    const unknown = spawnSync(
      process.execPath,
      [require.resolve("tsx/cli"), "scripts/circuits/cli.ts", "instance", "staging"],
      { cwd: repoRoot, encoding: "utf8" },
    );
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.include("usage:");
  });
});
