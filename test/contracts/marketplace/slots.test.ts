import { expect } from "chai";
import { network } from "hardhat";
import {
  collateralPerSlot,
  type Deployed,
  exampleRequest,
  repairReward,
  type Request,
  RequestState,
  SlotState,
  slotIdOf,
  testbed,
  testVerifier,
  plain,
} from "./testbed.js";

const bed = testbed(await network.create());
const { ethers } = bed;

describe("Marketplace slots", function () {
  let d: Deployed;
  let request: Request;
  let requestId: string;

  beforeEach(async function () {
    d = await bed.loadFixture(bed.deploy);
    request = exampleRequest(d.actors.client.address);
    ({ requestId } = await bed.requestStorage(d, request));
  });

  const mySlots = async (host: (typeof d.actors.hosts)[number]) =>
    [...(await d.marketplace.connect(host).mySlots())].sort();

  describe("fillSlot", function () {
    it("takes the collateral, records the host and announces the fill", async function () {
      const [host] = d.actors.hosts;
      const market = await d.marketplace.getAddress();
      const slotId = slotIdOf(requestId, 2n);
      const hostBefore = await d.token.balanceOf(host!.address);
      const marketBefore = await d.token.balanceOf(market);
      await d.token.connect(host!).approve(market, collateralPerSlot(request.ask));
      await d.marketplace.connect(host!).reserveSlot(requestId, 2n);
      const { proof } = await bed.proofForNextBlock(slotId, 2n, request.content.merkleRoot);
      await expect(d.marketplace.connect(host!).fillSlot(requestId, 2n, proof))
        .to.emit(d.marketplace, "SlotFilled")
        .withArgs(requestId, 2n)
        .and.not.to.emit(d.marketplace, "RequestFulfilled");

      const collateral = collateralPerSlot(request.ask);
      expect(await d.token.balanceOf(host!.address)).to.equal(hostBefore - collateral);
      expect(await d.token.balanceOf(market)).to.equal(marketBefore + collateral);
      expect(await d.marketplace.getHost(slotId)).to.equal(host!.address);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Filled);
      expect(await d.marketplace.currentCollateral(slotId)).to.equal(collateral);
      expect(await mySlots(host!)).to.deep.equal([slotId]);
      const active = await d.marketplace.getActiveSlot(slotId);
      expect(active.slotIndex).to.equal(2n);
      expect(active.request.nonce).to.equal(request.nonce);
      expect(plain(active.request.ask)).to.deep.equal(request.ask);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.New);
    });

    it("starts the request when the last slot is filled, once", async function () {
      const hosts = d.actors.hosts;
      for (let i = 0n; i < request.ask.slots - 1n; i++)
        await bed.fillSlot(d, request, i, hosts[Number(i)]!);
      const last = request.ask.slots - 1n;
      const slotId = slotIdOf(requestId, last);
      await d.token
        .connect(hosts[4]!)
        .approve(await d.marketplace.getAddress(), collateralPerSlot(request.ask));
      await d.marketplace.connect(hosts[4]!).reserveSlot(requestId, last);
      const { proof } = await bed.proofForNextBlock(slotId, last, request.content.merkleRoot);
      await expect(d.marketplace.connect(hosts[4]!).fillSlot(requestId, last, proof))
        .to.emit(d.marketplace, "RequestFulfilled")
        .withArgs(requestId);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Started);

      // A repair of a started request does not start it again.
      await d.marketplace.connect(hosts[4]!).freeSlot(slotId);
      await d.marketplace.connect(hosts[3]!).reserveSlot(requestId, last);
      await d.token
        .connect(hosts[3]!)
        .approve(await d.marketplace.getAddress(), collateralPerSlot(request.ask));
      const again = await bed.proofForNextBlock(slotId, last, request.content.merkleRoot);
      await expect(
        d.marketplace.connect(hosts[3]!).fillSlot(requestId, last, again.proof),
      ).not.to.emit(d.marketplace, "RequestFulfilled");
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Started);
    });

    it("rejects an unknown request and an index out of range", async function () {
      const [host] = d.actors.hosts;
      const proof = await testVerifier.proofFor([0n, 0n, 0n]);
      await expect(
        d.marketplace.connect(host!).fillSlot(ethers.ZeroHash, 0n, proof),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_UnknownRequest");
      await expect(
        d.marketplace.connect(host!).fillSlot(requestId, request.ask.slots, proof),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_InvalidSlot");
    });

    it("rejects a slot that is already filled", async function () {
      const [h1, h2] = d.actors.hosts;
      await d.marketplace.connect(h2!).reserveSlot(requestId, 0n);
      await bed.fillSlot(d, request, 0n, h1!);
      const slotId = slotIdOf(requestId, 0n);
      await d.token
        .connect(h2!)
        .approve(await d.marketplace.getAddress(), collateralPerSlot(request.ask));
      const { proof } = await bed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
      await expect(
        d.marketplace.connect(h2!).fillSlot(requestId, 0n, proof),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_SlotNotFree");
    });

    it("rejects a fill once the request is cancelled, even with a reservation", async function () {
      const [host] = d.actors.hosts;
      await d.marketplace.connect(host!).reserveSlot(requestId, 0n);
      await bed.time.increase(request.expiry + 1n);
      const slotId = slotIdOf(requestId, 0n);
      const { proof } = await bed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
      await expect(
        d.marketplace.connect(host!).fillSlot(requestId, 0n, proof),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_SlotNotFree");
    });

    it("rejects a proof that is not for the slot's challenge, root and index", async function () {
      const [host] = d.actors.hosts;
      await d.token
        .connect(host!)
        .approve(await d.marketplace.getAddress(), collateralPerSlot(request.ask));
      await d.marketplace.connect(host!).reserveSlot(requestId, 1n);
      const slotId = slotIdOf(requestId, 1n);
      const { inputs } = await bed.proofForNextBlock(slotId, 1n, request.content.merkleRoot);
      const wrong: [bigint, bigint, bigint][] = [
        [inputs[0] + 1n, inputs[1], inputs[2]],
        [inputs[0], inputs[1] + 1n, inputs[2]],
        [inputs[0], inputs[1], inputs[2] + 1n],
      ];
      for (const w of wrong) {
        await expect(
          d.marketplace.connect(host!).fillSlot(requestId, 1n, await testVerifier.proofFor(w)),
        ).to.be.revertedWithCustomError(d.marketplace, "Proofs_InvalidProof");
      }
      await d.verifier.setMode(2n); // RejectAll
      const { proof } = await bed.proofForNextBlock(slotId, 1n, request.content.merkleRoot);
      await expect(
        d.marketplace.connect(host!).fillSlot(requestId, 1n, proof),
      ).to.be.revertedWithCustomError(d.marketplace, "Proofs_InvalidProof");
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Free);
    });

    it("rejects a host that has not approved its collateral", async function () {
      const [host] = d.actors.hosts;
      await d.marketplace.connect(host!).reserveSlot(requestId, 0n);
      const slotId = slotIdOf(requestId, 0n);
      const { proof } = await bed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
      await expect(
        d.marketplace.connect(host!).fillSlot(requestId, 0n, proof),
      ).to.be.revertedWithCustomError(d.token, "ERC20InsufficientAllowance");
    });

    it("gives the repair reward as a discount on the collateral of a Repair slot", async function () {
      const [h1, h2] = d.actors.hosts;
      const { slotId } = await bed.fillSlot(d, request, 0n, h1!);
      await d.marketplace.connect(h1!).freeSlot(slotId);
      const before = await d.token.balanceOf(h2!.address);
      await bed.fillSlot(d, request, 0n, h2!, { repair: true });
      const discounted = collateralPerSlot(request.ask) - repairReward(d.config, request.ask);
      expect(await d.token.balanceOf(h2!.address)).to.equal(before - discounted);
      // The host works with the full collateral: the difference is its reward.
      expect(await d.marketplace.currentCollateral(slotId)).to.equal(
        collateralPerSlot(request.ask),
      );
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Filled);
      expect(await d.marketplace.getHost(slotId)).to.equal(h2!.address);
    });
  });

  describe("freeSlot", function () {
    it("is refused to anyone but the host", async function () {
      const [h1, h2] = d.actors.hosts;
      const { slotId } = await bed.fillSlot(d, request, 0n, h1!);
      await expect(d.marketplace.connect(h2!).freeSlot(slotId)).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_InvalidSlotHost",
      );
      await expect(
        d.marketplace.connect(h2!).freeSlot(slotIdOf(requestId, 1n)),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_InvalidSlotHost");
    });

    it("abandons a running slot: Repair, no refund, host unlisted", async function () {
      const [host] = d.actors.hosts;
      const { slotId } = await bed.fillSlot(d, request, 1n, host!);
      const before = await d.token.balanceOf(host!.address);
      await expect(d.marketplace.connect(host!).freeSlot(slotId))
        .to.emit(d.marketplace, "SlotFreed")
        .withArgs(requestId, 1n);
      expect(await d.token.balanceOf(host!.address)).to.equal(before);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Repair);
      expect(await d.marketplace.getHost(slotId)).to.equal(ethers.ZeroAddress);
      expect(await d.marketplace.currentCollateral(slotId)).to.equal(0n);
      expect(await mySlots(host!)).to.deep.equal([]);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.New);
      await expect(d.marketplace.connect(host!).freeSlot(slotId)).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_InvalidSlotHost",
      );
    });

    it("fails a started request that loses more than maxSlotLoss slots, not before", async function () {
      const fills = await bed.fillAll(d, request);
      const hosts = d.actors.hosts;
      await expect(d.marketplace.connect(hosts[0]!).freeSlot(fills[0]!.slotId)).not.to.emit(
        d.marketplace,
        "RequestFailed",
      );
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Started);
      const tx = d.marketplace.connect(hosts[1]!).freeSlot(fills[1]!.slotId);
      await expect(tx).to.emit(d.marketplace, "RequestFailed").withArgs(requestId);
      const failedAt = await bed.latestTimestamp();
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Failed);
      expect(await d.marketplace.requestEnd(requestId)).to.equal(failedAt);
      // Every slot follows its request.
      expect(await d.marketplace.slotState(fills[2]!.slotId)).to.equal(SlotState.Failed);
      expect(await d.marketplace.slotState(fills[0]!.slotId)).to.equal(SlotState.Failed);
      // A failed request takes no hosts.
      await expect(
        d.marketplace.connect(hosts[0]!).reserveSlot(requestId, 0n),
      ).to.be.revertedWithCustomError(d.marketplace, "SlotReservations_SlotNotReservable");
    });

    it("keeps the host list of each host exact through fills and removals", async function () {
      const [h1, h2] = d.actors.hosts;
      const other = exampleRequest(d.actors.client.address);
      const { requestId: otherId } = await bed.requestStorage(d, other);
      const a = await bed.fillSlot(d, request, 0n, h1!);
      const b = await bed.fillSlot(d, request, 1n, h1!);
      const c = await bed.fillSlot(d, other, 0n, h1!);
      const e = await bed.fillSlot(d, other, 1n, h2!);
      expect(await mySlots(h1!)).to.deep.equal([a.slotId, b.slotId, c.slotId].sort());
      await d.marketplace.connect(h1!).freeSlot(a.slotId); // first: the last one moves into its place
      expect(await mySlots(h1!)).to.deep.equal([b.slotId, c.slotId].sort());
      await d.marketplace.connect(h1!).freeSlot(c.slotId);
      expect(await mySlots(h1!)).to.deep.equal([b.slotId]);
      await d.marketplace.connect(h1!).freeSlot(b.slotId);
      expect(await mySlots(h1!)).to.deep.equal([]);
      expect(await mySlots(h2!)).to.deep.equal([e.slotId]);
      expect(otherId).not.to.equal(requestId);
    });
  });

  describe("slot states", function () {
    it("walks Free, Filled, Repair, Filled, Finished, Paid", async function () {
      const [h1, h2] = d.actors.hosts;
      const slotId = slotIdOf(requestId, 0n);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Free);
      await bed.fillSlot(d, request, 0n, h1!);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Filled);
      await d.marketplace.connect(h1!).freeSlot(slotId);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Repair);
      await bed.fillSlot(d, request, 0n, h2!, { repair: true });
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Filled);
      for (let i = 1n; i < request.ask.slots; i++)
        await bed.fillSlot(d, request, i, d.actors.hosts[Number(i)]!);
      const end = await d.marketplace.requestEnd(requestId);
      await bed.time.increaseTo(end);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Filled);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Started);
      await bed.time.increase(1n);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Finished);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Finished);
      await d.marketplace.connect(h2!).freeSlot(slotId);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Paid);
      expect(await d.marketplace.currentCollateral(slotId)).to.equal(0n);
      expect(await d.marketplace.getHost(slotId)).to.equal(h2!.address);
      await expect(d.marketplace.connect(h2!).freeSlot(slotId)).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_AlreadyPaid",
      );
    });

    it("reports filled slots of a cancelled request as Cancelled, and unfilled ones as Free", async function () {
      const [h1] = d.actors.hosts;
      const { slotId } = await bed.fillSlot(d, request, 0n, h1!);
      await bed.time.increase(request.expiry + 1n);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Cancelled);
      expect(await d.marketplace.slotState(slotIdOf(requestId, 1n))).to.equal(SlotState.Free);
      await expect(d.marketplace.connect(h1!).freeSlot(slotId))
        .to.emit(d.marketplace, "RequestCancelled")
        .withArgs(requestId);
      expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Paid);
      // announced once: the client's withdrawal does not repeat it
      await expect(d.marketplace.connect(d.actors.client).withdrawFunds(requestId)).not.to.emit(
        d.marketplace,
        "RequestCancelled",
      );
    });

    it("reports a Repair slot of a finished request as Finished, and it takes no host", async function () {
      const fills = await bed.fillAll(d, request);
      await d.marketplace.connect(d.actors.hosts[0]!).freeSlot(fills[0]!.slotId);
      await bed.time.increase(request.ask.duration + 1n);
      expect(await d.marketplace.slotState(fills[0]!.slotId)).to.equal(SlotState.Finished);
      await expect(
        d.marketplace.connect(d.actors.hosts[4]!).reserveSlot(requestId, 0n),
      ).to.be.revertedWithCustomError(d.marketplace, "SlotReservations_SlotNotReservable");
    });
  });
});
