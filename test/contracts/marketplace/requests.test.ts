import { expect } from "chai";
import { network } from "hardhat";
import {
  type Deployed,
  exampleRequest,
  maxPrice,
  type Request,
  RequestState,
  requestIdOf,
  slotIdOf,
  testbed,
  plain,
} from "./testbed.js";

const bed = testbed(await network.create());
const { ethers } = bed;

const FIELD_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

describe("Marketplace requests", function () {
  let d: Deployed;
  let request: Request;

  beforeEach(async function () {
    d = await bed.loadFixture(bed.deploy);
    request = exampleRequest(d.actors.client.address);
  });

  async function approveFor(r: Request) {
    await d.token
      .connect(d.actors.client)
      .approve(await d.marketplace.getAddress(), maxPrice(r.ask));
  }

  describe("requestStorage", function () {
    it("takes the full price from the client and announces the request", async function () {
      const market = await d.marketplace.getAddress();
      await approveFor(request);
      const before = await d.token.balanceOf(d.actors.client.address);
      const now = await bed.latestTimestamp();
      await bed.time.setNextBlockTimestamp(now + 10n);
      const price =
        request.ask.slots *
        request.ask.duration *
        request.ask.pricePerBytePerSecond *
        request.ask.slotSize;
      await expect(d.marketplace.connect(d.actors.client).requestStorage(request))
        .to.emit(d.marketplace, "StorageRequested")
        .withArgs(requestIdOf(request), Object.values(request.ask), now + 10n + request.expiry);
      expect(await d.token.balanceOf(d.actors.client.address)).to.equal(before - price);
      expect(await d.token.balanceOf(market)).to.equal(price);
      expect(await d.marketplace.requestEscrow(requestIdOf(request))).to.equal(price);
    });

    it("stores the request as submitted, under keccak256(abi.encode(request))", async function () {
      const { requestId } = await bed.requestStorage(d, request);
      const stored = await d.marketplace.getRequest(requestId);
      expect(stored.client).to.equal(request.client);
      expect(plain(stored.ask)).to.deep.equal(request.ask);
      expect(stored.content.cid).to.equal(request.content.cid);
      expect(stored.content.merkleRoot).to.equal(request.content.merkleRoot);
      expect(stored.expiry).to.equal(request.expiry);
      expect(stored.nonce).to.equal(request.nonce);
    });

    it("starts New, with expiry and end counted from the request", async function () {
      const { requestId, createdAt } = await bed.requestStorage(d, request);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.New);
      expect(await d.marketplace.requestExpiry(requestId)).to.equal(createdAt + request.expiry);
      expect(await d.marketplace.requestEnd(requestId)).to.equal(createdAt + request.ask.duration);
    });

    it("lists the request among the client's until the client withdraws", async function () {
      const { requestId } = await bed.requestStorage(d, request);
      const other = exampleRequest(d.actors.client.address);
      const { requestId: otherId } = await bed.requestStorage(d, other);
      const mine = await d.marketplace.connect(d.actors.client).myRequests();
      expect([...mine].sort()).to.deep.equal([requestId, otherId].sort());
      expect(await d.marketplace.connect(d.actors.stranger).myRequests()).to.deep.equal([]);

      await bed.time.increase(request.expiry + 1n);
      await d.marketplace.connect(d.actors.client).withdrawFunds(requestId);
      expect(await d.marketplace.connect(d.actors.client).myRequests()).to.deep.equal([otherId]);
      await d.marketplace.connect(d.actors.client).withdrawFunds(otherId);
      expect(await d.marketplace.connect(d.actors.client).myRequests()).to.deep.equal([]);
    });

    it("accepts an expiry equal to the duration and a maxSlotLoss equal to the slots", async function () {
      request.expiry = request.ask.duration;
      request.ask.maxSlotLoss = request.ask.slots;
      const { requestId } = await bed.requestStorage(d, request);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.New);
    });

    it("accepts the largest amounts that fit 128 bits", async function () {
      // slots * duration * rate + slots * collateral = 2**128 - 2: just fits.
      request.ask = {
        ...request.ask,
        slots: 1n,
        slotSize: 1n,
        duration: 1n,
        pricePerBytePerSecond: 2n ** 127n - 1n,
        collateralPerByte: 2n ** 127n - 1n,
      };
      request.expiry = 1n;
      await d.token.mint(d.actors.client.address, 2n ** 128n);
      await approveFor(request);
      await d.marketplace.connect(d.actors.client).requestStorage(request);
      expect(await d.marketplace.requestEscrow(requestIdOf(request))).to.equal(2n ** 127n - 1n);
    });

    describe("rejects, changing nothing,", function () {
      async function rejects(r: Request, error: string, signer = d.actors.client) {
        await d.token.connect(signer).approve(await d.marketplace.getAddress(), 10n ** 30n);
        const before = await d.token.balanceOf(signer.address);
        await expect(d.marketplace.connect(signer).requestStorage(r)).to.be.revertedWithCustomError(
          d.marketplace,
          error,
        );
        expect(await d.token.balanceOf(signer.address)).to.equal(before);
        await expect(d.marketplace.getRequest(requestIdOf(r))).to.be.revertedWithCustomError(
          d.marketplace,
          "Marketplace_UnknownRequest",
        );
      }

      it("a request whose client is not the caller", async function () {
        await rejects(request, "Marketplace_InvalidClientAddress", d.actors.stranger);
      });

      it("zero slots, and more than 2**32 - 1", async function () {
        await rejects(
          { ...request, ask: { ...request.ask, slots: 0n, maxSlotLoss: 0n } },
          "Marketplace_InsufficientSlots",
        );
        await rejects(
          { ...request, ask: { ...request.ask, slots: 2n ** 32n } },
          "Marketplace_TooManySlots",
        );
      });

      it("maxSlotLoss above slots", async function () {
        await rejects(
          { ...request, ask: { ...request.ask, maxSlotLoss: 5n } },
          "Marketplace_InvalidMaxSlotLoss",
        );
      });

      it("a duration above the limit", async function () {
        const limit = d.config.requestDurationLimit;
        await rejects(
          { ...request, ask: { ...request.ask, duration: limit + 1n } },
          "Marketplace_DurationExceedsLimit",
        );
      });

      it("an expiry of zero or beyond the duration", async function () {
        await rejects({ ...request, expiry: 0n }, "Marketplace_InvalidExpiry");
        await rejects(
          { ...request, expiry: request.ask.duration + 1n },
          "Marketplace_InvalidExpiry",
        );
        await rejects(
          { ...request, expiry: 1n, ask: { ...request.ask, duration: 0n } },
          "Marketplace_InvalidExpiry",
        );
      });

      it("a proofProbability of zero or beyond 2**32 - 1", async function () {
        await rejects(
          { ...request, ask: { ...request.ask, proofProbability: 0n } },
          "Marketplace_InsufficientProofProbability",
        );
        await rejects(
          { ...request, ask: { ...request.ask, proofProbability: 2n ** 32n } },
          "Marketplace_ProofProbabilityTooLarge",
        );
      });

      it("a zero price, collateral or slot size", async function () {
        await rejects(
          { ...request, ask: { ...request.ask, pricePerBytePerSecond: 0n } },
          "Marketplace_InsufficientReward",
        );
        await rejects(
          { ...request, ask: { ...request.ask, collateralPerByte: 0n } },
          "Marketplace_InsufficientCollateral",
        );
        await rejects(
          { ...request, ask: { ...request.ask, slotSize: 0n } },
          "Marketplace_InsufficientSlotSize",
        );
      });

      it("an empty cid", async function () {
        await rejects(
          { ...request, content: { ...request.content, cid: "0x" } },
          "Marketplace_InvalidCid",
        );
      });

      it("a merkle root that is not a field element", async function () {
        // r in 32 bytes little-endian: byte i is bits 8i..8i+7 of r.
        const le = (v: bigint) =>
          "0x" +
          Array.from({ length: 32 }, (_, i) =>
            ((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, "0"),
          ).join("");
        await rejects(
          { ...request, content: { ...request.content, merkleRoot: le(FIELD_MODULUS) } },
          "Marketplace_InvalidMerkleRoot",
        );
        const fine = {
          ...request,
          content: { ...request.content, merkleRoot: le(FIELD_MODULUS - 1n) },
        };
        await approveFor(fine);
        await d.marketplace.connect(d.actors.client).requestStorage(fine);
      });

      it("amounts beyond 128 bits", async function () {
        const base = { ...request.ask, slots: 1n, slotSize: 1n, duration: 1n };
        await rejects(
          { ...request, expiry: 1n, ask: { ...base, pricePerBytePerSecond: 2n ** 128n } },
          "Marketplace_AmountTooLarge",
        );
        await rejects(
          { ...request, expiry: 1n, ask: { ...base, collateralPerByte: 2n ** 128n } },
          "Marketplace_AmountTooLarge",
        );
        // price and collateral fit alone, not together
        await rejects(
          {
            ...request,
            expiry: 1n,
            ask: { ...base, pricePerBytePerSecond: 2n ** 127n, collateralPerByte: 2n ** 127n },
          },
          "Marketplace_AmountTooLarge",
        );
        // products that overflow 256 bits
        await rejects(
          { ...request, ask: { ...request.ask, pricePerBytePerSecond: 2n ** 255n, slotSize: 4n } },
          "Marketplace_AmountTooLarge",
        );
        await rejects(
          { ...request, ask: { ...request.ask, collateralPerByte: 2n ** 255n, slotSize: 4n } },
          "Marketplace_AmountTooLarge",
        );
        await rejects(
          {
            ...request,
            ask: { ...request.ask, slotSize: 2n ** 64n - 1n, pricePerBytePerSecond: 2n ** 200n },
          },
          "Marketplace_AmountTooLarge",
        );
      });

      it("the same request twice", async function () {
        await bed.requestStorage(d, request);
        await approveFor(request);
        await expect(
          d.marketplace.connect(d.actors.client).requestStorage(request),
        ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_RequestAlreadyExists");
      });

      it("a request the client has not approved the price for", async function () {
        await d.token
          .connect(d.actors.client)
          .approve(await d.marketplace.getAddress(), maxPrice(request.ask) - 1n);
        await expect(
          d.marketplace.connect(d.actors.client).requestStorage(request),
        ).to.be.revertedWithCustomError(d.token, "ERC20InsufficientAllowance");
      });
    });
  });

  describe("views of unknown requests and slots", function () {
    it("revert with Marketplace_UnknownRequest for requests", async function () {
      const unknown = requestIdOf(request);
      for (const call of [
        () => d.marketplace.getRequest(unknown),
        () => d.marketplace.requestState(unknown),
        () => d.marketplace.requestEnd(unknown),
        () => d.marketplace.requestExpiry(unknown),
        () => d.marketplace.requestEscrow(unknown),
        () => d.marketplace.canReserveSlot(unknown, 0n, d.actors.hosts[0]!.address),
        () => d.marketplace.reservationEligibleAt(unknown, 0n, d.actors.hosts[0]!.address),
        () => d.marketplace.getReservations(unknown, 0n),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(
          d.marketplace,
          "Marketplace_UnknownRequest",
        );
      }
    });

    it("describe a never-filled slot as Free, hostless and owing nothing", async function () {
      const { requestId } = await bed.requestStorage(d, request);
      const slotId = slotIdOf(requestId, 0n);
      expect(await d.marketplace.slotState(slotId)).to.equal(0n);
      expect(await d.marketplace.getHost(slotId)).to.equal(ethers.ZeroAddress);
      expect(await d.marketplace.currentCollateral(slotId)).to.equal(0n);
      expect(await d.marketplace.missingProofs(slotId)).to.equal(0n);
      expect(await d.marketplace.isProofRequired(slotId)).to.equal(false);
      expect(await d.marketplace.willProofBeRequired(slotId)).to.equal(false);
      expect(await d.marketplace.slotProbability(slotId)).to.equal(0n);
      await expect(d.marketplace.getActiveSlot(slotId)).to.be.revertedWithCustomError(
        d.marketplace,
        "Marketplace_SlotIsFree",
      );
    });
  });

  describe("withdrawFunds", function () {
    it("is refused to anyone but the client", async function () {
      const { requestId } = await bed.requestStorage(d, request);
      await bed.time.increase(request.expiry + 1n);
      await expect(
        d.marketplace.connect(d.actors.stranger).withdrawFunds(requestId),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_InvalidClientAddress");
    });

    it("is refused while the request runs", async function () {
      const { requestId } = await bed.requestStorage(d, request);
      await expect(
        d.marketplace.connect(d.actors.client).withdrawFunds(requestId),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_InvalidState");
    });

    it("is refused for an unknown request", async function () {
      await expect(
        d.marketplace.connect(d.actors.client).withdrawFunds(requestIdOf(request)),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_UnknownRequest");
    });

    it("returns everything when no slot was filled, once, and announces the cancellation once", async function () {
      const { requestId, createdAt } = await bed.requestStorage(d, request);
      const before = await d.token.balanceOf(d.actors.client.address);
      await bed.time.increaseTo(createdAt + request.expiry);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.New);
      await bed.time.increase(1n);
      expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Cancelled);
      expect(await d.marketplace.requestEnd(requestId)).to.equal(createdAt + request.expiry);
      await expect(d.marketplace.connect(d.actors.client).withdrawFunds(requestId))
        .to.emit(d.marketplace, "RequestCancelled")
        .withArgs(requestId)
        .and.to.emit(d.marketplace, "FundsWithdrawn")
        .withArgs(requestId, d.actors.client.address, maxPrice(request.ask));
      expect(await d.token.balanceOf(d.actors.client.address)).to.equal(
        before + maxPrice(request.ask),
      );
      expect(await d.token.balanceOf(await d.marketplace.getAddress())).to.equal(0n);
      expect(await d.marketplace.requestEscrow(requestId)).to.equal(0n);
      await expect(
        d.marketplace.connect(d.actors.client).withdrawFunds(requestId),
      ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_AlreadyWithdrawn");
    });
  });
});
