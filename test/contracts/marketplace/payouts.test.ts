/**
 * The money of whole requests, to the token unit, from the specification's rules:
 * - Finished: a host gets (end - filledAt) * pricePerSlotPerSecond + its remaining collateral;
 * - Cancelled: a host gets (expiry - filledAt) * price + collateral;
 * - Failed: a host still in place gets (failedAt - filledAt) * price + collateral;
 * - a removed host loses its collateral and payment; a slash gives validatorRewardPercentage of it
 *   to the validator; a repairing host deposits collateral less the repair reward;
 * - the client gets the rest. Every party collects once and the marketplace ends empty.
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  collateralPerSlot,
  type Deployed,
  exampleRequest,
  maxPrice,
  pricePerSlotPerSecond,
  repairReward,
  type Request,
  slashAmount,
  slotIdOf,
  testbed,
  validatorRewardPerSlash,
} from "./testbed.js";

const bed = testbed(await network.create());

describe("Marketplace payouts", function () {
  let d: Deployed;
  let request: Request;
  let requestId: string;
  let createdAt: bigint;
  let rate: bigint;
  let collateral: bigint;

  beforeEach(async function () {
    d = await bed.loadFixture(bed.deploy);
    request = exampleRequest(d.actors.client.address);
    ({ requestId, createdAt } = await bed.requestStorage(d, request));
    rate = pricePerSlotPerSecond(request.ask);
    collateral = collateralPerSlot(request.ask);
  });

  const balanceOf = (address: string) => d.token.balanceOf(address);
  const marketBalance = async () => balanceOf(await d.marketplace.getAddress());

  /** Frees `slotId` as `host` and checks that exactly `amount` arrives, announced as SlotPaid. */
  async function collectsAsHost(
    host: Deployed["actors"]["hosts"][number],
    slotId: string,
    amount: bigint,
  ) {
    const before = await balanceOf(host.address);
    await expect(d.marketplace.connect(host).freeSlot(slotId))
      .to.emit(d.marketplace, "SlotPaid")
      .withArgs(slotId, host.address, amount);
    expect(await balanceOf(host.address)).to.equal(before + amount);
    await expect(d.marketplace.connect(host).freeSlot(slotId)).to.be.revertedWithCustomError(
      d.marketplace,
      "Marketplace_AlreadyPaid",
    );
  }

  /** Withdraws as the client and checks that exactly `amount` arrives. */
  async function collectsAsClient(amount: bigint) {
    const client = d.actors.client;
    const before = await balanceOf(client.address);
    await expect(d.marketplace.connect(client).withdrawFunds(requestId))
      .to.emit(d.marketplace, "FundsWithdrawn")
      .withArgs(requestId, client.address, amount);
    expect(await balanceOf(client.address)).to.equal(before + amount);
    await expect(
      d.marketplace.connect(client).withdrawFunds(requestId),
    ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_AlreadyWithdrawn");
  }

  /** The marketplace holds exactly the request's escrow plus the validator's rewards. */
  async function expectSolvent() {
    expect(await marketBalance()).to.equal(
      (await d.marketplace.requestEscrow(requestId)) +
        (await d.marketplace.validatorReward(d.actors.validator.address)),
    );
  }

  it("pays a finished request: hosts from their fill to the end, the client the rest", async function () {
    const fills = await bed.fillAll(d, request);
    const end = createdAt + request.ask.duration;
    expect(await marketBalance()).to.equal(maxPrice(request.ask) + 4n * collateral);
    await expectSolvent();
    await bed.time.increaseTo(end + 1n);

    for (const [i, fill] of fills.entries()) {
      await collectsAsHost(
        d.actors.hosts[i]!,
        fill.slotId,
        (end - fill.filledAt) * rate + collateral,
      );
      await expectSolvent();
    }
    const unfilledTime = fills.reduce((sum, fill) => sum + (fill.filledAt - createdAt), 0n);
    await collectsAsClient(unfilledTime * rate);
    expect(await marketBalance()).to.equal(0n);
    expect(await d.marketplace.requestEscrow(requestId)).to.equal(0n);
  });

  it("pays a cancelled request: filled slots until the expiry plus collateral, the client the rest", async function () {
    const [h1, h2] = d.actors.hosts;
    const a = await bed.fillSlot(d, request, 0n, h1!);
    const b = await bed.fillSlot(d, request, 2n, h2!);
    const expiry = createdAt + request.expiry;
    await bed.time.increaseTo(expiry + 1n);

    // the client first, this time: it must not take what the hosts are owed
    await collectsAsClient(
      maxPrice(request.ask) - (expiry - a.filledAt) * rate - (expiry - b.filledAt) * rate,
    );
    await expectSolvent();
    await collectsAsHost(h1!, a.slotId, (expiry - a.filledAt) * rate + collateral);
    await collectsAsHost(h2!, b.slotId, (expiry - b.filledAt) * rate + collateral);
    expect(await marketBalance()).to.equal(0n);
  });

  it("pays a failed request: hosts in place until the failure, removed hosts nothing", async function () {
    const fills = await bed.fillAll(d, request);
    const [h0, h1, h2, h3] = d.actors.hosts;
    const starting = await Promise.all([h0!, h1!].map((h) => balanceOf(h.address)));

    await bed.missProof(d, fills[0]!.slotId);
    await bed.missProof(d, fills[0]!.slotId); // host 0 removed: one slot lost, allowed
    await bed.time.increase(600n);
    const failing = await d.marketplace.connect(h1!).freeSlot(fills[1]!.slotId); // two lost: failed
    const failedAt = await bed.blockTimestamp(failing.hash);
    expect(await d.marketplace.requestEnd(requestId)).to.equal(failedAt);
    await bed.time.increase(3_600n);

    const reward = validatorRewardPerSlash(d.config, request.ask);
    await collectsAsHost(
      h2!,
      fills[2]!.slotId,
      (failedAt - fills[2]!.filledAt) * rate + collateral,
    );
    await collectsAsHost(
      h3!,
      fills[3]!.slotId,
      (failedAt - fills[3]!.filledAt) * rate + collateral,
    );
    await collectsAsClient(
      maxPrice(request.ask) -
        (failedAt - fills[2]!.filledAt) * rate -
        (failedAt - fills[3]!.filledAt) * rate +
        2n * collateral -
        2n * reward,
    );
    // the removed hosts got nothing back and cannot collect
    expect(await balanceOf(h0!.address)).to.equal(starting[0]);
    expect(await balanceOf(h1!.address)).to.equal(starting[1]);
    for (const [i, host] of [h0!, h1!].entries()) {
      await expect(
        d.marketplace.connect(host).freeSlot(fills[i]!.slotId),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_InvalidSlotHost");
    }
    await d.marketplace.connect(d.actors.validator).withdrawValidatorReward();
    expect(await marketBalance()).to.equal(0n);
  });

  it("pays a repaired request: the repairing host from its fill with the full collateral", async function () {
    const fills = await bed.fillAll(d, request);
    const [h0, h1, h2, h3, h4] = d.actors.hosts;
    await bed.missProof(d, fills[0]!.slotId);
    await bed.missProof(d, fills[0]!.slotId);
    await bed.time.increase(1_000n);
    const beforeRepair = await balanceOf(h4!.address);
    const repair = await bed.fillSlot(d, request, 0n, h4!, { repair: true });
    const reward = repairReward(d.config, request.ask);
    expect(await balanceOf(h4!.address)).to.equal(beforeRepair - (collateral - reward));
    await expectSolvent();

    const end = createdAt + request.ask.duration;
    await bed.time.increaseTo(end + 1n);
    await collectsAsHost(h4!, repair.slotId, (end - repair.filledAt) * rate + collateral);
    for (const [i, host] of [h1!, h2!, h3!].entries()) {
      const fill = fills[i + 1]!;
      await collectsAsHost(host, fill.slotId, (end - fill.filledAt) * rate + collateral);
    }
    const validatorRewards = 2n * validatorRewardPerSlash(d.config, request.ask);
    const unfilledTime =
      fills.slice(1).reduce((sum, fill) => sum + (fill.filledAt - createdAt), 0n) +
      (repair.filledAt - createdAt);
    // Payment for time no host kept, and host 0's collateral less the validator's share and the repair reward.
    await collectsAsClient(unfilledTime * rate + collateral - validatorRewards - reward);
    expect(await d.marketplace.connect(h0!).mySlots()).to.deep.equal([]);
    await d.marketplace.connect(d.actors.validator).withdrawValidatorReward();
    expect(await marketBalance()).to.equal(0n);
  });

  it("returns a slashed host's remaining collateral and gives the slash to validator and client", async function () {
    const fills = await bed.fillAll(d, request);
    await bed.missProof(d, fills[3]!.slotId);
    const end = createdAt + request.ask.duration;
    await bed.time.increaseTo(end + 1n);
    const slash = slashAmount(d.config, request.ask);
    const reward = validatorRewardPerSlash(d.config, request.ask);
    await collectsAsHost(
      d.actors.hosts[3]!,
      fills[3]!.slotId,
      (end - fills[3]!.filledAt) * rate + collateral - slash,
    );
    const unfilledTime = fills.reduce((sum, fill) => sum + (fill.filledAt - createdAt), 0n);
    await collectsAsClient(unfilledTime * rate + slash - reward);
    for (const [i, fill] of fills.slice(0, 3).entries()) {
      await collectsAsHost(
        d.actors.hosts[i]!,
        fill.slotId,
        (end - fill.filledAt) * rate + collateral,
      );
    }
    await d.marketplace.connect(d.actors.validator).withdrawValidatorReward();
    expect(await marketBalance()).to.equal(0n);
  });

  it("gives the client the whole payment and collateral of a slot its host abandoned", async function () {
    const fills = await bed.fillAll(d, request);
    await bed.time.increase(5_000n);
    await d.marketplace.connect(d.actors.hosts[2]!).freeSlot(fills[2]!.slotId);
    const end = createdAt + request.ask.duration;
    await bed.time.increaseTo(end + 1n);
    const others = [0, 1, 3];
    const unfilledTime = others.reduce((sum, i) => sum + (fills[i]!.filledAt - createdAt), 0n);
    await collectsAsClient(unfilledTime * rate + request.ask.duration * rate + collateral);
    for (const i of others) {
      await collectsAsHost(
        d.actors.hosts[i]!,
        fills[i]!.slotId,
        (end - fills[i]!.filledAt) * rate + collateral,
      );
    }
    expect(await marketBalance()).to.equal(0n);
  });

  it("pays a host slashed while the request was New when the request is cancelled", async function () {
    const [host] = d.actors.hosts;
    const fill = await bed.fillSlot(d, request, 1n, host!);
    await bed.missProof(d, fill.slotId);
    const expiry = createdAt + request.expiry;
    await bed.time.increaseTo(expiry + 1n);
    const slash = slashAmount(d.config, request.ask);
    const reward = validatorRewardPerSlash(d.config, request.ask);
    await collectsAsHost(host!, fill.slotId, (expiry - fill.filledAt) * rate + collateral - slash);
    await collectsAsClient(
      maxPrice(request.ask) - (expiry - fill.filledAt) * rate + slash - reward,
    );
    await d.marketplace.connect(d.actors.validator).withdrawValidatorReward();
    expect(await marketBalance()).to.equal(0n);
  });

  it("keeps requests apart: one request's payouts never touch another's escrow", async function () {
    const other = exampleRequest(d.actors.client.address);
    const { requestId: otherId } = await bed.requestStorage(d, other);
    const fills = await bed.fillAll(d, request);
    await bed.time.increase(request.ask.duration + 1n);
    for (const [i, fill] of fills.entries())
      await d.marketplace.connect(d.actors.hosts[i]!).freeSlot(fill.slotId);
    await d.marketplace.connect(d.actors.client).withdrawFunds(requestId);
    expect(await d.marketplace.requestEscrow(requestId)).to.equal(0n);
    expect(await d.marketplace.requestEscrow(otherId)).to.equal(maxPrice(other.ask));
    expect(await marketBalance()).to.equal(maxPrice(other.ask));
    expect(slotIdOf(otherId, 0n)).not.to.equal(fills[0]!.slotId);
  });
});
