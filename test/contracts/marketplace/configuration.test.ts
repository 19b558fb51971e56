import { expect } from "chai";
import { network } from "hardhat";
import type { MarketplaceConfigStruct } from "../../../node/src/chain/contracts/marketplace/Marketplace.js";
import { type Config, exampleConfig, plain } from "./testbed.js";

const { ethers, networkHelpers } = await network.create();

describe("Marketplace configuration", function () {
  async function dependencies() {
    await networkHelpers.mine(300, { interval: 0 });
    const [deployer] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", [deployer!.address, 0n]);
    const verifier = await ethers.deployContract("TestGroth16Verifier");
    return { token, verifier };
  }

  async function deployWith(config: Config) {
    const { token, verifier } = await networkHelpers.loadFixture(dependencies);
    return ethers.deployContract("Marketplace", [
      config as MarketplaceConfigStruct,
      await token.getAddress(),
      await verifier.getAddress(),
    ]);
  }

  /** A deployment that must fail with `error` (and its arguments, if given). */
  async function rejects(config: Config, error: string, ...args: bigint[]) {
    const { token, verifier } = await networkHelpers.loadFixture(dependencies);
    const factory = await ethers.getContractFactory("Marketplace");
    const deployment = factory.deploy(
      config as MarketplaceConfigStruct,
      await token.getAddress(),
      await verifier.getAddress(),
    );
    if (args.length === 0) {
      await expect(deployment).to.be.revertedWithCustomError(factory, error);
    } else {
      await expect(deployment)
        .to.be.revertedWithCustomError(factory, error)
        .withArgs(...args);
    }
  }

  function modified(change: (config: Config) => void): Config {
    const config = exampleConfig();
    change(config);
    return config;
  }

  it("returns the configuration it was deployed with", async function () {
    const config = modified((c) => {
      c.reservations.windowDoublings = 12n;
      c.proofs.minBlockTimeMs = 2_000n;
    });
    const marketplace = await deployWith(config);
    const stored = await marketplace.configuration();
    expect(plain(stored.collateral)).to.deep.equal(config.collateral);
    expect(plain(stored.proofs)).to.deep.equal(config.proofs);
    expect(plain(stored.reservations)).to.deep.equal(config.reservations);
    expect(stored.requestDurationLimit).to.equal(config.requestDurationLimit);
  });

  it("accepts the boundaries of every rule", async function () {
    // 256 - 64 = 192 one-second blocks fit a 192 s period; a 64 s timeout spans exactly the downtime.
    const config = modified((c) => {
      c.collateral = {
        repairRewardPercentage: 0n,
        maxNumberOfSlashes: 100n,
        slashPercentage: 1n,
        validatorRewardPercentage: 100n,
      };
      c.proofs.period = 192n;
      c.proofs.timeout = 64n;
      c.reservations = {
        maxReservations: 16n,
        windowDoublings: 160n,
        windowExpansionPercentage: 100n,
      };
      c.requestDurationLimit = 2n ** 32n - 1n;
    });
    const marketplace = await deployWith(config);
    expect((await marketplace.configuration()).proofs.period).to.equal(192n);
  });

  describe("collateral", function () {
    it("rejects zero maxNumberOfSlashes", async function () {
      await rejects(
        modified((c) => (c.collateral.maxNumberOfSlashes = 0n)),
        "Configuration_InvalidMaxNumberOfSlashes",
      );
    });

    it("rejects slashes that could exceed the collateral", async function () {
      await rejects(
        modified((c) => {
          c.collateral.maxNumberOfSlashes = 101n;
          c.collateral.slashPercentage = 1n;
          c.collateral.repairRewardPercentage = 0n;
        }),
        "Configuration_MaximumSlashingTooHigh",
      );
      await rejects(
        modified((c) => (c.collateral.slashPercentage = 51n)),
        "Configuration_MaximumSlashingTooHigh",
      );
    });

    it("rejects a repair reward the collateral left by a removed host cannot pay", async function () {
      // 2 slashes of 20% leave 60%: a 61% repair reward is one point too many.
      await rejects(
        modified((c) => (c.collateral.repairRewardPercentage = 61n)),
        "Configuration_RepairRewardPercentageTooHigh",
      );
      await deployWith(modified((c) => (c.collateral.repairRewardPercentage = 60n)));
    });

    it("rejects a validator reward above 100%", async function () {
      await rejects(
        modified((c) => (c.collateral.validatorRewardPercentage = 101n)),
        "Configuration_ValidatorRewardPercentageTooHigh",
      );
    });
  });

  describe("proofs", function () {
    it("rejects a zero period", async function () {
      await rejects(
        modified((c) => (c.proofs.period = 0n)),
        "Configuration_InvalidPeriod",
      );
    });

    it("rejects a zero timeout and one longer than a period", async function () {
      await rejects(
        modified((c) => (c.proofs.timeout = 0n)),
        "Configuration_InvalidTimeout",
      );
      await rejects(
        modified((c) => {
          c.proofs.period = 20n;
          c.proofs.timeout = 21n;
        }),
        "Configuration_InvalidTimeout",
      );
    });

    it("rejects an even downtimeProduct (not prime to 256)", async function () {
      await rejects(
        modified((c) => (c.proofs.downtimeProduct = 66n)),
        "Configuration_InvalidDowntimeProduct",
      );
    });

    it("rejects a zero block time", async function () {
      await rejects(
        modified((c) => (c.proofs.minBlockTimeMs = 0n)),
        "Configuration_InvalidBlockTime",
      );
    });

    it("rejects a period that spans more blocks than 256 - downtime on this chain", async function () {
      // 120 s of 0.5 s blocks is 240 blocks, more than 192.
      await rejects(
        modified((c) => (c.proofs.minBlockTimeMs = 500n)),
        "Configuration_PeriodExceedsBlockWindow",
        240n,
        192n,
      );
      // 193 one-second blocks: one too many; partial blocks count as whole ones.
      await rejects(
        modified((c) => (c.proofs.period = 193n)),
        "Configuration_PeriodExceedsBlockWindow",
        193n,
        192n,
      );
      await rejects(
        modified((c) => {
          c.proofs.period = 100n;
          c.proofs.minBlockTimeMs = 520n; // 192.3 blocks
        }),
        "Configuration_PeriodExceedsBlockWindow",
        193n,
        192n,
      );
    });

    it("rejects a timeout that spans more blocks than the downtime", async function () {
      await rejects(
        modified((c) => (c.proofs.downtime = 29n)),
        "Configuration_TimeoutExceedsDowntime",
        30n,
        29n,
      );
      // Codex's defaults on a 2 s chain (Taiko-like): 60 and 15 blocks, accepted.
      await deployWith(modified((c) => (c.proofs.minBlockTimeMs = 2_000n)));
      // ... and on a 0.25 s chain: a 120 s period is 480 blocks, rejected.
      await rejects(
        modified((c) => (c.proofs.minBlockTimeMs = 250n)),
        "Configuration_PeriodExceedsBlockWindow",
        480n,
        192n,
      );
    });
  });

  describe("reservations and duration", function () {
    it("rejects zero or more than 16 reservations per slot", async function () {
      await rejects(
        modified((c) => (c.reservations.maxReservations = 0n)),
        "Configuration_InvalidMaxReservations",
      );
      await rejects(
        modified((c) => (c.reservations.maxReservations = 17n)),
        "Configuration_InvalidMaxReservations",
      );
    });

    it("rejects a window of more than 160 doublings", async function () {
      await rejects(
        modified((c) => (c.reservations.windowDoublings = 161n)),
        "Configuration_InvalidWindowDoublings",
      );
    });

    it("rejects a window expansion above 100% of the expiry", async function () {
      await rejects(
        modified((c) => (c.reservations.windowExpansionPercentage = 101n)),
        "Configuration_InvalidWindowExpansion",
      );
    });

    it("rejects a zero duration limit and one beyond 32 bits", async function () {
      await rejects(
        modified((c) => (c.requestDurationLimit = 0n)),
        "Configuration_InvalidRequestDurationLimit",
      );
      await rejects(
        modified((c) => (c.requestDurationLimit = 2n ** 32n)),
        "Configuration_InvalidRequestDurationLimit",
      );
    });
  });

  describe("deployment", function () {
    it("refuses to deploy before block 257, when the pointer could reach before block 0", async function () {
      const fresh = await network.create();
      const [deployer] = await fresh.ethers.getSigners();
      const token = await fresh.ethers.deployContract("TestToken", [deployer!.address, 0n]);
      const verifier = await fresh.ethers.deployContract("TestGroth16Verifier");
      const factory = await fresh.ethers.getContractFactory("Marketplace");
      const args = [
        exampleConfig() as MarketplaceConfigStruct,
        await token.getAddress(),
        await verifier.getAddress(),
      ] as const;
      await expect(factory.deploy(...args)).to.be.revertedWithCustomError(
        factory,
        "Proofs_InsufficientBlockHeight",
      );
      // Deployed in block 256: still too early. In block 257: fine.
      const latest = await fresh.ethers.provider.getBlockNumber();
      await fresh.networkHelpers.mine(255 - latest);
      await expect(factory.deploy(...args)).to.be.revertedWithCustomError(
        factory,
        "Proofs_InsufficientBlockHeight",
      );
      await fresh.networkHelpers.mine(1);
      await factory.deploy(...args);
      expect(await fresh.ethers.provider.getBlockNumber()).to.equal(257);
    });

    it("rejects a token or verifier address without code", async function () {
      const { token, verifier } = await networkHelpers.loadFixture(dependencies);
      const factory = await ethers.getContractFactory("Marketplace");
      const config = exampleConfig() as MarketplaceConfigStruct;
      const nobody = ethers.Wallet.createRandom().address;
      await expect(
        factory.deploy(config, nobody, await verifier.getAddress()),
      ).to.be.revertedWithCustomError(factory, "Vault_InvalidToken");
      await expect(
        factory.deploy(config, await token.getAddress(), nobody),
      ).to.be.revertedWithCustomError(factory, "Proofs_InvalidVerifier");
    });

    it("exposes its token", async function () {
      const { token } = await networkHelpers.loadFixture(dependencies);
      const marketplace = await deployWith(exampleConfig());
      expect(await marketplace.token()).to.equal(await token.getAddress());
    });
  });
});
