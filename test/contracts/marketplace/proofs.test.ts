import { expect } from "chai";
import { network } from "hardhat";
import {
  collateralPerSlot,
  type Deployed,
  exampleRequest,
  type Request,
  RequestState,
  SlotState,
  slashAmount,
  slotIdOf,
  testbed,
  testVerifier,
  validatorRewardPerSlash,
} from "./testbed.js";

const bed = testbed(await network.create());
const { ethers, time } = bed;

describe("Marketplace proofs", function () {
  let d: Deployed;
  let request: Request;
  let requestId: string;
  let slotId: string;
  let host: Deployed["actors"]["hosts"][number];

  let fillPeriod: bigint;

  /** A started request, filled at the start of a period so that the tests have ~100 s in it. */
  async function started() {
    const deployed = await bed.deploy();
    await bed.advanceToNextPeriod();
    const r = exampleRequest(deployed.actors.client.address);
    const { requestId: id, fills } = await bed.startRequest(deployed, r);
    return { deployed, r, id, fillPeriod: bed.periodOf(fills[0]!.filledAt) };
  }

  beforeEach(async function () {
    const fixture = await bed.loadFixture(started);
    d = fixture.deployed;
    request = fixture.r;
    requestId = fixture.id;
    fillPeriod = fixture.fillPeriod;
    slotId = slotIdOf(requestId, 0n);
    host = d.actors.hosts[0]!;
  });

  const now = () => bed.latestTimestamp();
  const currentPeriod = async () => bed.periodOf(await now());

  describe("challenges", function () {
    it("follow the specification's pointer formula at every block", async function () {
      for (let k = 0; k < 6; k++) {
        const latest = (await ethers.provider.getBlock("latest"))!;
        const period = bed.periodOf(BigInt(latest.timestamp));
        expect(await d.marketplace.currentPeriod()).to.equal(period);
        expect(await d.marketplace.getPointer(slotId)).to.equal(
          BigInt(bed.pointerAt(slotId, period, latest.number)),
        );
        expect(await d.marketplace.getChallenge(slotId)).to.equal(
          await bed.challengeAt(slotId, latest.number, BigInt(latest.timestamp)),
        );
        await bed.mineBlocks(53);
      }
    });

    it("stay on one block hash until the pointer wraps, then move 256 blocks ahead", async function () {
      const pointer = Number(await d.marketplace.getPointer(slotId));
      const challenge = await d.marketplace.getChallenge(slotId);
      const period = await currentPeriod();
      await bed.mineBlocks(255 - pointer);
      expect(await currentPeriod()).to.equal(period);
      expect(await d.marketplace.getPointer(slotId)).to.equal(255n);
      expect(await d.marketplace.getChallenge(slotId)).to.equal(challenge);
      await bed.mineBlocks(1);
      expect(await d.marketplace.getPointer(slotId)).to.equal(0n);
      expect(await d.marketplace.getChallenge(slotId)).not.to.equal(challenge);
    });
  });

  describe("requirements", function () {
    it("ask no proof in the fill period", async function () {
      await bed.alignPointer(slotId, fillPeriod, true);
      await bed.mineBlocks(1);
      expect(await currentPeriod()).to.equal(fillPeriod);
      expect(await d.marketplace.isProofRequired(slotId)).to.equal(false);
      expect(await d.marketplace.willProofBeRequired(slotId)).to.equal(false);
    });

    it("ask a proof in every later period outside downtime when proofProbability is 1", async function () {
      await bed.advanceToNextPeriod();
      const period = await currentPeriod();
      await bed.alignPointer(slotId, period, true);
      await bed.mineBlocks(1);
      expect(await d.marketplace.isProofRequired(slotId)).to.equal(true);
      expect(await d.marketplace.willProofBeRequired(slotId)).to.equal(false);
      await bed.alignPointer(slotId, period, false);
      await bed.mineBlocks(1);
      expect((await d.marketplace.getPointer(slotId)) < 64n).to.equal(true);
      expect(await d.marketplace.isProofRequired(slotId)).to.equal(false);
      expect(await d.marketplace.willProofBeRequired(slotId)).to.equal(true);
    });

    it("scale proofProbability by (256 - downtime) / 256", async function () {
      expect(await d.marketplace.slotProbability(slotId)).to.equal(0n); // 1 * 192 / 256
      for (const [probability, scaled] of [
        [4n, 3n],
        [1000n, 750n],
        [2n ** 32n - 1n, ((2n ** 32n - 1n) * 192n) / 256n],
      ] as const) {
        const r = exampleRequest(d.actors.client.address);
        r.ask.proofProbability = probability;
        const { requestId: id } = await bed.requestStorage(d, r);
        await bed.fillSlot(d, r, 0n, host);
        expect(await d.marketplace.slotProbability(slotIdOf(id, 0n))).to.equal(scaled);
      }
    });

    it("ask a proof about once every proofProbability periods", async function () {
      const r = exampleRequest(d.actors.client.address);
      r.ask.proofProbability = 4n;
      r.ask.slots = 1n;
      r.ask.maxSlotLoss = 0n;
      const { requestId: id } = await bed.requestStorage(d, r);
      await bed.fillSlot(d, r, 0n, host);
      const slot = slotIdOf(id, 0n);
      const samples = 256;
      let required = 0;
      for (let i = 0; i < samples; i++) {
        await time.increase(d.config.proofs.period);
        await bed.mineBlocks(i % 7);
        if (await d.marketplace.isProofRequired(slot)) required++;
      }
      // p = 192/256 outside downtime * 1/3 per hit = 1/4; mean 64, sd 6.9: five sd either side.
      expect(required).to.be.within(29, 99);
    });

    it("ask nothing of slots that are not Filled", async function () {
      await d.marketplace.connect(host).freeSlot(slotId);
      await bed.advanceToNextPeriod();
      await bed.alignPointer(slotId, await currentPeriod(), true);
      await bed.mineBlocks(1);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Repair);
      expect(await d.marketplace.isProofRequired(slotId)).to.equal(false);
      await bed.alignPointer(slotIdOf(requestId, 1n), await currentPeriod(), true);
      await bed.mineBlocks(1);
      expect(await d.marketplace.isProofRequired(slotIdOf(requestId, 1n))).to.equal(true);
      await time.increase(request.ask.duration);
      expect(await d.marketplace.isProofRequired(slotIdOf(requestId, 1n))).to.equal(false);
      expect(await d.marketplace.willProofBeRequired(slotIdOf(requestId, 1n))).to.equal(false);
    });
  });

  describe("submitProof", function () {
    it("accepts one proof per period from the host, with the inputs the marketplace computes", async function () {
      await bed.advanceToNextPeriod();
      await expect(bed.submitProof(d, request, 0n, host))
        .to.emit(d.marketplace, "ProofSubmitted")
        .withArgs(slotId);
      await expect(bed.submitProof(d, request, 0n, host)).to.be.revertedWithCustomError(
        d.marketplace,
        "Proofs_ProofAlreadySubmitted",
      );
      await bed.advanceToNextPeriod();
      await expect(bed.submitProof(d, request, 0n, host)).to.emit(d.marketplace, "ProofSubmitted");
    });

    it("counts the fill as the fill period's proof", async function () {
      const fresh = exampleRequest(d.actors.client.address);
      await bed.requestStorage(d, fresh);
      await bed.fillSlot(d, fresh, 0n, host);
      await expect(bed.submitProof(d, fresh, 0n, host)).to.be.revertedWithCustomError(
        d.marketplace,
        "Proofs_ProofAlreadySubmitted",
      );
    });

    it("rejects proofs from anyone but the host, and wrong proofs", async function () {
      await bed.advanceToNextPeriod();
      const { proof, inputs } = await bed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
      await expect(
        d.marketplace.connect(d.actors.hosts[1]!).submitProof(slotId, proof),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_ProofNotSubmittedByHost");
      await expect(
        d.marketplace.connect(d.actors.stranger).submitProof(ethers.ZeroHash, proof),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_ProofNotSubmittedByHost");
      // a proof for the neighbouring slot's index is not a proof for this slot
      const wrong = await testVerifier.proofFor([inputs[0], inputs[1], 1n]);
      await expect(
        d.marketplace.connect(host).submitProof(slotId, wrong),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_InvalidProof");
      // the rejected proof left the period open
      await expect(bed.submitProof(d, request, 0n, host)).to.emit(d.marketplace, "ProofSubmitted");
    });

    it("rejects proofs for slots that are not Filled", async function () {
      await d.marketplace.connect(host).freeSlot(slotId);
      await bed.advanceToNextPeriod();
      await expect(bed.submitProof(d, request, 0n, host)).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_ProofNotSubmittedByHost",
      );
      await time.increase(request.ask.duration);
      const other = d.actors.hosts[1]!;
      await expect(bed.submitProof(d, request, 1n, other)).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_SlotNotAcceptingProofs",
      );
      await d.marketplace.connect(other).freeSlot(slotIdOf(requestId, 1n));
      await expect(bed.submitProof(d, request, 1n, other)).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_SlotNotAcceptingProofs",
      );
    });
  });

  describe("markProofAsMissing", function () {
    it("slashes the host, credits the validator and gives the rest to the client", async function () {
      const escrow = await d.marketplace.requestEscrow(requestId);
      const missed = (await currentPeriod()) + 1n;
      await bed.advanceToMarkable(slotId, missed);
      await expect(d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed))
        .to.emit(d.marketplace, "ProofMarkedMissing")
        .withArgs(slotId, missed, d.actors.validator.address)
        .and.not.to.emit(d.marketplace, "SlotFreed");
      const slash = slashAmount(d.config, request.ask);
      const reward = validatorRewardPerSlash(d.config, request.ask);
      expect(await d.marketplace.missingProofs(slotId)).to.equal(1n);
      expect(await d.marketplace.currentCollateral(slotId)).to.equal(
        collateralPerSlot(request.ask) - slash,
      );
      expect(await d.marketplace.validatorReward(d.actors.validator.address)).to.equal(reward);
      expect(await d.marketplace.requestEscrow(requestId)).to.equal(escrow - reward);
      await expect(
        d.marketplace.connect(d.actors.stranger).markProofAsMissing(slotId, missed),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_ProofAlreadyMarkedMissing");
    });

    it("is allowed from the period's end until the timeout, not before, not after", async function () {
      const missed = (await currentPeriod()) + 1n;
      const end = bed.periodEnd(missed);
      await time.increaseTo(end - 20n);
      await bed.alignPointer(slotId, missed, true);
      await time.setNextBlockTimestamp(end - 1n);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_PeriodNotEnded");
      await time.setNextBlockTimestamp(end + d.config.proofs.timeout);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_ValidationTimedOut");
      await time.setNextBlockTimestamp(end + d.config.proofs.timeout - 1n);
      await d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed);
      expect(await d.marketplace.missingProofs(slotId)).to.equal(1n);
    });

    it("is allowed at the very end of the period", async function () {
      const missed = (await currentPeriod()) + 1n;
      const end = bed.periodEnd(missed);
      await time.increaseTo(end - 20n);
      await bed.alignPointer(slotId, missed, true);
      await time.setNextBlockTimestamp(end);
      await d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed);
      expect(await d.marketplace.missingProofs(slotId)).to.equal(1n);
    });

    it("is refused when the host proved in that period", async function () {
      await bed.advanceToNextPeriod();
      const proven = await currentPeriod();
      await bed.submitProof(d, request, 0n, host);
      await bed.advanceToMarkable(slotId, proven);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, proven),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_ProofNotMissing");
      // ... also after the host proved the next period too
      await bed.submitProof(d, request, 0n, host);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, proven),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_ProofNotMissing");
    });

    it("still catches a missed period after the host proved the next one", async function () {
      await bed.advanceToNextPeriod();
      await bed.submitProof(d, request, 0n, host); // proves p - 1 ...
      const missed = (await currentPeriod()) + 1n; // ... skips p ...
      await time.increaseTo(bed.periodEnd(missed));
      await bed.submitProof(d, request, 0n, host); // ... proves p + 1
      await bed.alignPointer(slotId, missed, true);
      await d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed);
      expect(await d.marketplace.missingProofs(slotId)).to.equal(1n);
    });

    it("is refused when no proof was required", async function () {
      // The fixture filled the slot early in this period: the one before asked nothing of it.
      await bed.alignPointer(slotId, fillPeriod - 1n, true);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, fillPeriod - 1n),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_ProofNotRequired");
      // Nor does a period whose pointer is in downtime when it is marked.
      const missed = (await currentPeriod()) + 1n;
      await time.increaseTo(bed.periodEnd(missed));
      await bed.alignPointer(slotId, missed, false);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_ProofNotRequired");
    });

    it("counts the fill as the proof of the fill period", async function () {
      await bed.advanceToMarkable(slotId, fillPeriod);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, fillPeriod),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_ProofNotMissing");
    });

    it("is refused for slots that are not Filled", async function () {
      const missed = (await currentPeriod()) + 1n;
      await bed.advanceToMarkable(slotId, missed);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(ethers.ZeroHash, missed),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_SlotNotAcceptingProofs");
      await d.marketplace.connect(host).freeSlot(slotId);
      await expect(
        d.marketplace.connect(d.actors.validator).markProofAsMissing(slotId, missed),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_SlotNotAcceptingProofs");
    });

    it("removes the host at maxNumberOfSlashes missed proofs, and fails the request past maxSlotLoss", async function () {
      await bed.missProof(d, slotId);
      const { tx } = await bed.missProof(d, slotId);
      await expect(tx).to.emit(d.marketplace, "SlotFreed").withArgs(requestId, 0n);
      await expect(tx).not.to.emit(d.marketplace, "RequestFailed");
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Repair);
      expect(await d.marketplace.getHost(slotId)).to.equal(ethers.ZeroAddress);
      expect(await d.marketplace.missingProofs(slotId)).to.equal(0n);
      expect(await d.marketplace.currentCollateral(slotId)).to.equal(0n);
      expect(await d.marketplace.connect(host).mySlots()).to.deep.equal([]);
      expect(await d.marketplace.validatorReward(d.actors.validator.address)).to.equal(
        2n * validatorRewardPerSlash(d.config, request.ask),
      );

      const second = slotIdOf(requestId, 1n);
      await bed.missProof(d, second);
      const failing = await bed.missProof(d, second);
      await expect(failing.tx).to.emit(d.marketplace, "RequestFailed").withArgs(requestId);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Failed);
      // nothing more can be marked on a failed request
      await expect(bed.missProof(d, slotIdOf(requestId, 2n))).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_SlotNotAcceptingProofs",
      );
    });
  });

  describe("validator rewards", function () {
    it("are collected by the validator, once", async function () {
      await bed.missProof(d, slotId);
      const reward = validatorRewardPerSlash(d.config, request.ask);
      const before = await d.token.balanceOf(d.actors.validator.address);
      await expect(d.marketplace.connect(d.actors.validator).withdrawValidatorReward())
        .to.emit(d.marketplace, "ValidatorRewardWithdrawn")
        .withArgs(d.actors.validator.address, reward);
      expect(await d.token.balanceOf(d.actors.validator.address)).to.equal(before + reward);
      expect(await d.marketplace.validatorReward(d.actors.validator.address)).to.equal(0n);
      await expect(
        d.marketplace.connect(d.actors.validator).withdrawValidatorReward(),
      ).to.be.revertedWithCustomError(d.marketplace, "Vault_NoValidatorReward");
    });
  });
});
