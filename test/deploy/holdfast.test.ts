import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { releaseSnarkjsWorkers } from "../../scripts/circuits/snarkjs-runtime.js";
import { averageBlockTimeMs } from "../../scripts/deploy/block-time.js";
import { type DeployHoldfastOptions, deployHoldfast } from "../../scripts/deploy/holdfast.js";
import { DeployParametersError } from "../../scripts/deploy/networks.js";
import { type ThreePublicSetup, threePublicSetup } from "../helpers/three-public-fixture.js";

async function deployError(options: DeployHoldfastOptions): Promise<unknown> {
  const connection = await network.create();
  try {
    await deployHoldfast(connection, options);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("scripts/deploy/holdfast: deployHoldfast", function () {
  this.timeout(120_000);

  let fixture: ThreePublicSetup;
  let dir: string;

  before(async function () {
    fixture = await threePublicSetup();
    await releaseSnarkjsWorkers();
    dir = await mkdtemp(path.join(tmpdir(), "holdfast-deploy-"));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("deploys a working system on a fresh chain, mining past block 256 first", async function () {
    const connection = await network.create();
    const { ethers } = connection;
    expect(await ethers.provider.getBlockNumber()).to.equal(0);
    const deployment = await deployHoldfast(connection, {
      parameters: "local",
      verificationKey: fixture.setup.vkeyJson,
      zkeyHash: fixture.setup.zkeyHash,
    });
    // In-process simulated chains keep no record, as Hardhat's own `ignition.deploy` does.
    expect(deployment.deploymentDir).to.equal(undefined);
    expect(deployment.deployBlock).to.be.greaterThan(256);
    const marketplace = await ethers.getContractAt("Marketplace", deployment.marketplace);
    expect(await marketplace.token()).to.equal(deployment.token);
    const token = await ethers.getContractAt("TestToken", deployment.token);
    const [deployer] = await ethers.getSigners();
    expect(await token.owner()).to.equal(deployer!.address);
    expect(await token.faucetLimit()).to.equal(1_000n * 10n ** 18n);
    const verifier = await ethers.getContractAt("Groth16Verifier", deployment.verifier);
    const key = await verifier.verificationKey();
    expect(key.alpha1.x).to.equal(BigInt(fixture.vkey.vk_alpha_1[0]!));
  });

  it("resumes from its record: a second run deploys nothing and reports the same system", async function () {
    const connection = await network.create();
    const options: DeployHoldfastOptions = {
      parameters: "local",
      verificationKey: fixture.setup.vkeyJson,
      zkeyHash: fixture.setup.zkeyHash,
      deploymentsDir: path.join(dir, "resume"),
    };
    const first = await deployHoldfast(connection, options);
    const blocks = await connection.ethers.provider.getBlockNumber();
    const second = await deployHoldfast(connection, options);
    expect(second).to.deep.equal(first);
    expect(await connection.ethers.provider.getBlockNumber()).to.equal(blocks);

    const reset = await deployHoldfast(connection, { ...options, reset: true });
    expect(reset.marketplace).to.not.equal(first.marketplace);
    expect(reset.deployBlock).to.be.greaterThan(first.deployBlock);
  });

  it("refuses a record of another chain with the same id (a restarted node) unless reset", async function () {
    const options: DeployHoldfastOptions = {
      parameters: "local",
      verificationKey: fixture.setup.vkeyJson,
      zkeyHash: fixture.setup.zkeyHash,
      deploymentsDir: path.join(dir, "restarted"),
    };
    await deployHoldfast(await network.create(), options);
    const restarted = await network.create();
    let error: unknown;
    try {
      await deployHoldfast(restarted, options);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/this chain does not have.*reset/);
    const fresh = await deployHoldfast(restarted, { ...options, reset: true });
    expect(await restarted.ethers.provider.getCode(fresh.marketplace)).to.not.equal("0x");
    expect(fresh.deployBlock).to.be.greaterThan(256);
  });

  it("requires an existing token where the parameters have no test token", async function () {
    const error = await deployError({
      parameters: "taiko",
      verificationKey: fixture.setup.vkeyJson,
      zkeyHash: fixture.setup.zkeyHash,
    });
    expect(error).to.be.instanceOf(DeployParametersError);
    expect((error as DeployParametersError).field).to.equal("token");
  });

  it("refuses a token that is not an address and a missing zkey hash", async function () {
    const base = {
      parameters: "local" as const,
      verificationKey: fixture.setup.vkeyJson,
      zkeyHash: fixture.setup.zkeyHash,
    };
    const badToken = await deployError({ ...base, token: "0x1234" });
    expect(badToken).to.be.instanceOf(DeployParametersError);
    expect((badToken as DeployParametersError).field).to.equal("token");
    const noHash = await deployError({ ...base, zkeyHash: "" });
    expect(noHash).to.be.instanceOf(DeployParametersError);
    expect((noHash as DeployParametersError).field).to.equal("zkeyHash");
  });

  it("measures a chain's average block time over its recent blocks", async function () {
    const { provider, networkHelpers } = await network.create();
    expect(await averageBlockTimeMs(provider)).to.equal(undefined);
    await networkHelpers.mine(100, { interval: 3 });
    expect(await averageBlockTimeMs(provider, 50)).to.deep.equal({ averageMs: 3000, blocks: 50 });
    await networkHelpers.mine(300, { interval: 0 });
    // A burst: 256 blocks in (at most) a second or two of the simulated clock.
    const burst = (await averageBlockTimeMs(provider))!;
    expect(burst.blocks).to.equal(256);
    expect(burst.averageMs).to.be.below(10);
  });
});
