import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import {
  DEFAULT_DEPLOYMENTS_DIR,
  DeploymentRecordError,
  type DeploymentRecordErrorCode,
  deploymentDir,
  readDeployment,
} from "../../../node/src/chain/deployment.js";
import { releaseSnarkjsWorkers } from "../../../scripts/circuits/snarkjs-runtime.js";
import { type HoldfastDeployment, deployHoldfast } from "../../../scripts/deploy/holdfast.js";
import { repoRoot } from "../../../scripts/lib/paths.js";
import { threePublicSetup } from "../../helpers/three-public-fixture.js";

const CHAIN = 31337n;

async function expectRecordError(
  promise: Promise<unknown>,
  code: DeploymentRecordErrorCode,
  pattern: RegExp,
) {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).to.be.instanceOf(DeploymentRecordError);
  expect((error as DeploymentRecordError).code).to.equal(code);
  expect((error as Error).message).to.match(pattern);
}

describe("node/chain/deployment: reading deployment records by chain id", function () {
  this.timeout(120_000);

  let dir: string;
  /** A record Ignition wrote for a real deployment (test token) and one with an existing token. */
  let withTestToken: { dir: string; deployment: HoldfastDeployment };
  let withExistingToken: { dir: string; deployment: HoldfastDeployment };

  before(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "holdfast-records-"));
    const fixture = await threePublicSetup();
    await releaseSnarkjsWorkers();
    const common = { verificationKey: fixture.setup.vkeyJson, zkeyHash: fixture.setup.zkeyHash };

    const first = await network.create();
    const testTokenDir = path.join(dir, "test-token");
    withTestToken = {
      dir: testTokenDir,
      deployment: await deployHoldfast(first, {
        ...common,
        parameters: "local",
        deploymentsDir: testTokenDir,
      }),
    };

    const second = await network.create();
    const [deployer] = await second.ethers.getSigners();
    const stable = await second.ethers.deployContract("TestToken", [deployer!.address, 0n]);
    const existingDir = path.join(dir, "existing-token");
    withExistingToken = {
      dir: existingDir,
      deployment: await deployHoldfast(second, {
        ...common,
        parameters: "local",
        token: await stable.getAddress(),
        deploymentsDir: existingDir,
      }),
    };
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** A copy of the test-token record in a fresh folder, for tests that damage it. */
  async function copyRecord(): Promise<{ root: string; folder: string }> {
    const root = await mkdtemp(path.join(dir, "copy-"));
    const folder = deploymentDir(CHAIN, root);
    await cp(deploymentDir(CHAIN, withTestToken.dir), folder, { recursive: true });
    return { root, folder };
  }

  it("reads addresses and the marketplace's deploy block from Ignition's record", async function () {
    const { deployment } = withTestToken;
    expect(await readDeployment(CHAIN, { dir: withTestToken.dir })).to.deep.equal({
      chainId: CHAIN,
      marketplace: deployment.marketplace,
      token: deployment.token,
      verifier: deployment.verifier,
      deployBlock: deployment.deployBlock,
    });
    expect(deployment.deployBlock).to.be.greaterThan(256);
  });

  it("reads the token of a deployment over an existing token", async function () {
    const { deployment } = withExistingToken;
    const addresses = JSON.parse(
      await readFile(
        path.join(deploymentDir(CHAIN, withExistingToken.dir), "deployed_addresses.json"),
        "utf8",
      ),
    ) as Record<string, string>;
    expect(addresses["ExistingToken#Token"]).to.equal(deployment.token);
    expect(await readDeployment(CHAIN, { dir: withExistingToken.dir })).to.deep.include({
      token: deployment.token,
      marketplace: deployment.marketplace,
      deployBlock: deployment.deployBlock,
    });
  });

  it("returns undefined for a chain without a record", async function () {
    expect(await readDeployment(167000n, { dir: withTestToken.dir })).to.equal(undefined);
    expect(await readDeployment(CHAIN, { dir: path.join(dir, "nowhere") })).to.equal(undefined);
  });

  it("leaves the deploy block out when the journal is missing", async function () {
    const { root, folder } = await copyRecord();
    await rm(path.join(folder, "journal.jsonl"));
    const deployment = await readDeployment(CHAIN, { dir: root });
    expect(deployment?.marketplace).to.equal(withTestToken.deployment.marketplace);
    expect(deployment).to.not.have.property("deployBlock");
  });

  it("checksums addresses", async function () {
    const { root, folder } = await copyRecord();
    const file = path.join(folder, "deployed_addresses.json");
    const json = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
    for (const key of Object.keys(json)) json[key] = json[key]!.toLowerCase();
    await writeFile(file, JSON.stringify(json));
    expect((await readDeployment(CHAIN, { dir: root }))?.marketplace).to.equal(
      withTestToken.deployment.marketplace,
    );
  });

  it("refuses malformed and incomplete records with a typed error", async function () {
    const cases: [string, (json: Record<string, unknown>) => unknown, string, RegExp][] = [
      ["not JSON", () => "{", "ERR_MALFORMED", /not JSON/],
      ["an array", () => [], "ERR_MALFORMED", /not an object/],
      [
        "a bad address",
        (j) => ({ ...j, "Marketplace#Marketplace": "0x1234" }),
        "ERR_MALFORMED",
        /"Marketplace#Marketplace" is not an address/,
      ],
      [
        "a number for an address",
        (j) => ({ ...j, "Groth16Verifier#Groth16Verifier": 7 }),
        "ERR_MALFORMED",
        /Groth16Verifier/,
      ],
      [
        "no marketplace",
        (j) => ({ ...j, "Marketplace#Marketplace": undefined }),
        "ERR_INCOMPLETE",
        /no marketplace/,
      ],
      [
        "no token",
        (j) => ({ ...j, "TestToken#TestToken": undefined }),
        "ERR_INCOMPLETE",
        /no token/,
      ],
      [
        "two tokens",
        (j) => ({ ...j, "ExistingToken#Token": j["TestToken#TestToken"] }),
        "ERR_MALFORMED",
        /more than one token/,
      ],
    ];
    for (const [label, mutate, code, pattern] of cases) {
      const { root, folder } = await copyRecord();
      const file = path.join(folder, "deployed_addresses.json");
      const json = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      const mutated = mutate(json);
      await writeFile(file, typeof mutated === "string" ? mutated : JSON.stringify(mutated));
      await expectRecordError(
        readDeployment(CHAIN, { dir: root }),
        code as DeploymentRecordErrorCode,
        pattern,
      ).catch((error: unknown) => {
        throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
      });
    }
  });

  it("refuses a journal that is not Ignition's", async function () {
    const { root, folder } = await copyRecord();
    const journal = path.join(folder, "journal.jsonl");
    await writeFile(journal, `${await readFile(journal, "utf8")}\nnot json\n`);
    await expectRecordError(readDeployment(CHAIN, { dir: root }), "ERR_MALFORMED", /line \d+/);

    const second = await copyRecord();
    const lines = (await readFile(path.join(second.folder, "journal.jsonl"), "utf8"))
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const message = JSON.parse(line) as { type: string; futureId?: string; receipt?: object };
        if (
          message.type === "TRANSACTION_CONFIRM" &&
          message.futureId === "Marketplace#Marketplace"
        )
          message.receipt = { blockNumber: "soon" };
        return JSON.stringify(message);
      });
    await writeFile(path.join(second.folder, "journal.jsonl"), lines.join("\n"));
    await expectRecordError(
      readDeployment(CHAIN, { dir: second.root }),
      "ERR_MALFORMED",
      /Marketplace#Marketplace has no block number/,
    );
  });

  it("reports an unreadable record as such", async function () {
    const root = await mkdtemp(path.join(dir, "unreadable-"));
    // A folder where the file should be: reading it fails with EISDIR.
    await mkdir(path.join(deploymentDir(CHAIN, root), "deployed_addresses.json"), {
      recursive: true,
    });
    await expectRecordError(readDeployment(CHAIN, { dir: root }), "ERR_UNREADABLE", /EISDIR/);
  });

  it("refuses a chain id that is not a positive bigint", async function () {
    for (const bad of [0n, -1n, 5 as unknown as bigint]) {
      let error: unknown;
      try {
        await readDeployment(bad, { dir });
      } catch (e) {
        error = e;
      }
      expect(error, String(bad)).to.be.instanceOf(RangeError);
    }
  });

  it("looks in the repository's deploy/deployments by default", function () {
    expect(DEFAULT_DEPLOYMENTS_DIR).to.equal(path.join(repoRoot, "deploy", "deployments"));
    expect(deploymentDir(167000n)).to.equal(
      path.join(repoRoot, "deploy", "deployments", "chain-167000"),
    );
  });
});
