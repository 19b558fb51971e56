import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { releaseSnarkjsWorkers } from "../../scripts/circuits/snarkjs-runtime.js";
import { deployHoldfast } from "../../scripts/deploy/holdfast.js";
import {
  DeployParametersError,
  type MarketplaceParameters,
  NETWORKS,
  NETWORK_NAMES,
  type NetworkParameters,
  PARAMETERS_DIR,
  maxBlocksIn,
  parseNetworkParameters,
  proofTimingProblems,
  readNetworkParameters,
} from "../../scripts/deploy/networks.js";
import { type ThreePublicSetup, threePublicSetup } from "../helpers/three-public-fixture.js";

let fixture: ThreePublicSetup;

/** Deploys the system with `parameters` on a fresh simulated chain; the constructor judges them. */
async function deployWith(parameters: NetworkParameters) {
  const connection = await network.create();
  const { ethers } = connection;
  // Networks without a test token get one deployed beside, passed as an existing token.
  const token =
    parameters.testToken === undefined
      ? await (
          await ethers.deployContract("TestToken", [(await ethers.getSigners())[0]!, 0n])
        ).getAddress()
      : undefined;
  const deployment = await deployHoldfast(connection, {
    parameters,
    verificationKey: fixture.setup.vkeyJson,
    zkeyHash: fixture.setup.zkeyHash,
    ...(token === undefined ? {} : { token }),
  });
  const marketplace = await ethers.getContractAt("Marketplace", deployment.marketplace);
  return { connection, deployment, marketplace };
}

/** The configuration a deployed marketplace reports, as plain numbers. */
async function configurationOf(marketplace: Awaited<ReturnType<typeof deployWith>>["marketplace"]) {
  const c = await marketplace.configuration();
  return {
    collateral: {
      repairRewardPercentage: Number(c.collateral.repairRewardPercentage),
      maxNumberOfSlashes: Number(c.collateral.maxNumberOfSlashes),
      slashPercentage: Number(c.collateral.slashPercentage),
      validatorRewardPercentage: Number(c.collateral.validatorRewardPercentage),
    },
    proofs: {
      period: Number(c.proofs.period),
      timeout: Number(c.proofs.timeout),
      downtime: Number(c.proofs.downtime),
      downtimeProduct: Number(c.proofs.downtimeProduct),
      minBlockTimeMs: Number(c.proofs.minBlockTimeMs),
    },
    reservations: {
      maxReservations: Number(c.reservations.maxReservations),
      windowDoublings: Number(c.reservations.windowDoublings),
      windowExpansionPercentage: Number(c.reservations.windowExpansionPercentage),
    },
    requestDurationLimit: Number(c.requestDurationLimit),
    zkeyHash: c.proofs.zkeyHash,
  };
}

function withProofs(
  parameters: NetworkParameters,
  proofs: Partial<MarketplaceParameters["proofs"]>,
): NetworkParameters {
  return {
    ...parameters,
    marketplace: {
      ...parameters.marketplace,
      proofs: { ...parameters.marketplace.proofs, ...proofs },
    },
  };
}

describe("deploy/parameters: per-network marketplace configuration", function () {
  this.timeout(180_000);

  before(async function () {
    fixture = await threePublicSetup();
    await releaseSnarkjsWorkers();
  });

  after(releaseSnarkjsWorkers);

  for (const name of NETWORK_NAMES) {
    it(`${name}: fits the chain's block time and is accepted by the Marketplace constructor`, async function () {
      const descriptor = NETWORKS[name];
      const parameters = await readNetworkParameters(name);
      const { proofs } = parameters.marketplace;
      // The block-time rule, computed here on the chain's fastest blocks.
      expect(proofs.minBlockTimeMs).to.be.at.most(descriptor.fastestBlockTimeMs);
      const blockTime = descriptor.fastestBlockTimeMs;
      expect(maxBlocksIn(proofs.period, blockTime)).to.be.at.most(256 - proofs.downtime);
      expect(maxBlocksIn(proofs.timeout, blockTime)).to.be.at.most(proofs.downtime);
      expect(proofTimingProblems(proofs, blockTime)).to.deep.equal([]);
      expect(parameters.testToken !== undefined).to.equal(descriptor.testToken);

      const { marketplace } = await deployWith(parameters);
      expect(await configurationOf(marketplace)).to.deep.equal({
        ...parameters.marketplace,
        zkeyHash: fixture.setup.zkeyHash,
      });
    });
  }

  it("local: short periods for a demo on a local node", async function () {
    const { proofs } = (await readNetworkParameters("local")).marketplace;
    expect(proofs.period).to.be.within(10, 30);
    expect(proofs.timeout).to.be.below(proofs.period);
  });

  it("a period too long for the block window is refused by the TS check and by the constructor", async function () {
    const taiko = await readNetworkParameters("taiko");
    // 97 s of 0.5 s blocks is 194 blocks, over 256 - 64: one second more than the limit allows.
    const tooLong = withProofs(taiko, { period: 97 });
    expect(proofTimingProblems(tooLong.marketplace.proofs, 500)).to.have.length(1);
    const file = path.join(PARAMETERS_DIR, "taiko.json");
    const json = JSON.parse(await readFile(file, "utf8")) as {
      Marketplace: { configuration: MarketplaceParameters };
    };
    json.Marketplace.configuration.proofs.period = 97;
    expect(() => parseNetworkParameters(json, NETWORKS.taiko, file))
      .to.throw(DeployParametersError)
      .with.property("field", "Marketplace.configuration.proofs");

    // The constructor refuses it by itself (deployed directly: deployHoldfast would stop it first).
    const { ethers } = await network.create();
    await ethers.provider.send("hardhat_mine", ["0x101"]);
    const [deployer] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", [deployer!.address, 0n]);
    const factory = await ethers.getContractFactory("Marketplace");
    const configuration = {
      ...tooLong.marketplace,
      proofs: { ...tooLong.marketplace.proofs, zkeyHash: "x" },
    };
    await expect(factory.deploy(configuration, await token.getAddress(), await token.getAddress()))
      .to.be.revertedWithCustomError(factory, "Configuration_PeriodExceedsBlockWindow")
      .withArgs(194n, 192n);
  });

  it("a timeout longer than the downtime's blocks is refused by the TS check", async function () {
    const local = await readNetworkParameters("local");
    const { proofs } = local.marketplace;
    const problems = proofTimingProblems({ ...proofs, timeout: proofs.downtime + 1 }, 1000);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.match(/timeout/);
  });

  it("deployHoldfast refuses parameters unfit for the chain it deploys to, before sending anything", async function () {
    const connection = await network.create();
    const local = await readNetworkParameters("local");
    // minBlockTimeMs 2000 on Hardhat's 1 s chain: the contract would accept it, the chain breaks it.
    const optimistic = withProofs(local, { minBlockTimeMs: 2000 });
    const before = await connection.ethers.provider.getBlockNumber();
    let error: unknown;
    try {
      await deployHoldfast(connection, {
        parameters: optimistic,
        verificationKey: fixture.setup.vkeyJson,
        zkeyHash: fixture.setup.zkeyHash,
      });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(DeployParametersError);
    expect((error as Error).message).to.match(/minBlockTimeMs 2000 exceeds/);
    expect(await connection.ethers.provider.getBlockNumber()).to.equal(before);
  });

  it("refuses malformed parameter files with the offending field", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "holdfast-parameters-"));
    try {
      const good = JSON.parse(await readFile(path.join(PARAMETERS_DIR, "local.json"), "utf8")) as {
        Marketplace: { configuration: Record<string, Record<string, unknown>> };
        TestToken?: unknown;
      };
      const cases: [string, (json: typeof good) => void, string][] = [
        ["negative", (j) => (j.Marketplace.configuration.proofs!.period = -1), "proofs.period"],
        ["fraction", (j) => (j.Marketplace.configuration.proofs!.downtime = 1.5), "downtime"],
        [
          "uint8 overflow",
          (j) => (j.Marketplace.configuration.collateral!.slashPercentage = 256),
          "slashPercentage",
        ],
        [
          "missing",
          (j) => delete j.Marketplace.configuration.reservations!.maxReservations,
          "maxReservations",
        ],
        ["unknown field", (j) => (j.Marketplace.configuration.proofs!.zkeyHash = "x"), "zkeyHash"],
        ["string number", (j) => (j.Marketplace.configuration.proofs!.timeout = "10"), "timeout"],
        ["faucet", (j) => (j.TestToken = { faucetLimit: "lots" }), "TestToken.faucetLimit"],
      ];
      for (const [label, mutate, field] of cases) {
        const json = structuredClone(good);
        mutate(json);
        await writeFile(path.join(dir, "local.json"), JSON.stringify(json));
        let error: unknown;
        try {
          await readNetworkParameters("local", dir);
        } catch (e) {
          error = e;
        }
        expect(error, label).to.be.instanceOf(DeployParametersError);
        expect((error as DeployParametersError).field, label).to.include(field);
      }
      // Taiko Alethia takes an existing token: a TestToken section is refused.
      const taiko = JSON.parse(await readFile(path.join(PARAMETERS_DIR, "taiko.json"), "utf8")) as {
        TestToken?: unknown;
      };
      taiko.TestToken = { faucetLimit: "1n" };
      expect(() => parseNetworkParameters(taiko, NETWORKS.taiko, "taiko.json"))
        .to.throw(DeployParametersError)
        .with.property("field", "TestToken");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
