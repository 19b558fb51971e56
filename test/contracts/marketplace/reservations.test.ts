import { expect } from "chai";
import { AbiCoder, getAddress, keccak256, toBeHex } from "ethers";
import { network } from "hardhat";
import {
  collateralPerSlot,
  type Deployed,
  exampleConfig,
  exampleRequest,
  type Request,
  SlotState,
  slotIdOf,
  testbed,
} from "./testbed.js";

const connection = await network.create();
const bed = testbed(connection);

/** The key of a slot's reservation round, from the specification of the window. */
function roundKey(slotId: string, round: bigint): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "uint32"], [slotId, round]));
}

/** Bit length of the XOR distance between `host` and the round's source. */
function distanceBits(host: string, key: string): bigint {
  const distance = BigInt(host) ^ (BigInt(key) & ((1n << 160n) - 1n));
  return BigInt(distance.toString(2).length) - (distance === 0n ? 1n : 0n);
}

/** When the window admits `host`: openedAt + ceil(s * E / D), s = bits - (160 - D). */
function eligibleAt(bits: bigint, doublings: bigint, openedAt: bigint, expansion: bigint): bigint {
  const base = 160n - doublings;
  if (bits <= base) return openedAt;
  return openedAt + ((bits - base) * expansion + doublings - 1n) / doublings;
}

describe("Marketplace slot reservations", function () {
  let d: Deployed;
  let request: Request;
  let requestId: string;

  beforeEach(async function () {
    d = await bed.loadFixture(bed.deploy);
    request = exampleRequest(d.actors.client.address);
    ({ requestId } = await bed.requestStorage(d, request));
  });

  it("reserves a Free slot for the caller", async function () {
    const [host] = d.actors.hosts;
    expect(await d.marketplace.canReserveSlot(requestId, 1n, host!.address)).to.equal(true);
    await d.marketplace.connect(host!).reserveSlot(requestId, 1n);
    expect(await d.marketplace.getReservations(requestId, 1n)).to.deep.equal([host!.address]);
    expect(await d.marketplace.getReservations(requestId, 0n)).to.deep.equal([]);
    expect(await d.marketplace.canReserveSlot(requestId, 1n, host!.address)).to.equal(false);
  });

  it("refuses a second reservation by the same host", async function () {
    const [host] = d.actors.hosts;
    await d.marketplace.connect(host!).reserveSlot(requestId, 0n);
    await expect(
      d.marketplace.connect(host!).reserveSlot(requestId, 0n),
    ).to.be.revertedWithCustomError(d.marketplace, "SlotReservations_AlreadyReserved");
  });

  it("takes maxReservations hosts, announces when full and refuses more", async function () {
    const [h1, h2, h3, h4] = d.actors.hosts;
    await expect(d.marketplace.connect(h1!).reserveSlot(requestId, 2n)).not.to.emit(
      d.marketplace,
      "SlotReservationsFull",
    );
    await expect(d.marketplace.connect(h2!).reserveSlot(requestId, 2n)).not.to.emit(
      d.marketplace,
      "SlotReservationsFull",
    );
    await expect(d.marketplace.connect(h3!).reserveSlot(requestId, 2n))
      .to.emit(d.marketplace, "SlotReservationsFull")
      .withArgs(requestId, 2n);
    expect(await d.marketplace.canReserveSlot(requestId, 2n, h4!.address)).to.equal(false);
    await expect(
      d.marketplace.connect(h4!).reserveSlot(requestId, 2n),
    ).to.be.revertedWithCustomError(d.marketplace, "SlotReservations_ReservationsFull");
    expect(await d.marketplace.getReservations(requestId, 2n)).to.deep.equal([
      h1!.address,
      h2!.address,
      h3!.address,
    ]);
  });

  it("rejects an unknown request and an index out of range", async function () {
    const [host] = d.actors.hosts;
    await expect(
      d.marketplace.connect(host!).reserveSlot(keccak256("0x01"), 0n),
    ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_UnknownRequest");
    for (const call of [
      () => d.marketplace.connect(host!).reserveSlot(requestId, request.ask.slots),
      () => d.marketplace.canReserveSlot(requestId, request.ask.slots, host!.address),
      () => d.marketplace.getReservations(requestId, request.ask.slots),
      () => d.marketplace.reservationEligibleAt(requestId, request.ask.slots, host!.address),
    ]) {
      await expect(call()).to.be.revertedWithCustomError(d.marketplace, "Marketplace_InvalidSlot");
    }
  });

  it("refuses reservations on a Filled slot", async function () {
    const [h1, h2] = d.actors.hosts;
    await bed.fillSlot(d, request, 0n, h1!);
    expect(await d.marketplace.canReserveSlot(requestId, 0n, h2!.address)).to.equal(false);
    await expect(
      d.marketplace.connect(h2!).reserveSlot(requestId, 0n),
    ).to.be.revertedWithCustomError(d.marketplace, "SlotReservations_SlotNotReservable");
  });

  it("refuses reservations once the request is cancelled", async function () {
    const [host] = d.actors.hosts;
    await bed.time.increase(request.expiry + 1n);
    expect(await d.marketplace.canReserveSlot(requestId, 0n, host!.address)).to.equal(false);
    await expect(
      d.marketplace.connect(host!).reserveSlot(requestId, 0n),
    ).to.be.revertedWithCustomError(d.marketplace, "SlotReservations_SlotNotReservable");
  });

  it("requires a reservation to fill", async function () {
    const [h1, h2] = d.actors.hosts;
    await d.marketplace.connect(h1!).reserveSlot(requestId, 0n);
    const slotId = slotIdOf(requestId, 0n);
    const { proof } = await bed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
    await expect(
      d.marketplace.connect(h2!).fillSlot(requestId, 0n, proof),
    ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_ReservationRequired");
  });

  it("requires a reservation to fill also when the set is full", async function () {
    const [h1, h2, h3, h4] = d.actors.hosts;
    for (const host of [h1!, h2!, h3!])
      await d.marketplace.connect(host).reserveSlot(requestId, 0n);
    const slotId = slotIdOf(requestId, 0n);
    const { proof } = await bed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
    await expect(
      d.marketplace.connect(h4!).fillSlot(requestId, 0n, proof),
    ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_ReservationRequired");
  });

  it("clears a slot's reservations when its host is removed, and takes reservations in Repair", async function () {
    const [h1, h2, h3, h4, h5] = d.actors.hosts;
    await d.marketplace.connect(h2!).reserveSlot(requestId, 0n);
    await d.marketplace.connect(h3!).reserveSlot(requestId, 0n);
    const { slotId } = await bed.fillSlot(d, request, 0n, h1!);
    expect(await d.marketplace.getReservations(requestId, 0n)).to.have.length(3);
    await d.marketplace.connect(h1!).freeSlot(slotId);
    expect(await d.marketplace.slotState(slotId)).to.equal(SlotState.Repair);
    expect(await d.marketplace.getReservations(requestId, 0n)).to.deep.equal([]);
    // the earlier reservations are gone: h2 must reserve again to fill
    await d.token
      .connect(h2!)
      .approve(await d.marketplace.getAddress(), collateralPerSlot(request.ask));
    const { proof } = await bed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
    await expect(
      d.marketplace.connect(h2!).fillSlot(requestId, 0n, proof),
    ).to.be.revertedWithCustomError(d.marketplace, "Marketplace_ReservationRequired");
    for (const host of [h2!, h4!, h5!])
      await d.marketplace.connect(host).reserveSlot(requestId, 0n);
    expect(await d.marketplace.getReservations(requestId, 0n)).to.deep.equal([
      h2!.address,
      h4!.address,
      h5!.address,
    ]);
  });
});

describe("Marketplace reservation window", function () {
  const config = exampleConfig();
  config.reservations.windowDoublings = 8n;
  config.reservations.windowExpansionPercentage = 50n;
  const windowed = testbed(connection, config);
  const expansion = (3_600n * 50n) / 100n; // the example request's expiry is 3600 s

  let d: Deployed;
  let request: Request;
  let requestId: string;
  let createdAt: bigint;

  beforeEach(async function () {
    d = await windowed.loadFixture(windowed.deploy);
    request = exampleRequest(d.actors.client.address);
    ({ requestId, createdAt } = await windowed.requestStorage(d, request));
  });

  /** A funded signer at `address`, which the test chain lets us send from. */
  async function signerAt(address: string) {
    await windowed.networkHelpers.impersonateAccount(address);
    await windowed.networkHelpers.setBalance(address, 10n ** 20n);
    await d.token.mint(address, 10n ** 30n);
    return windowed.ethers.getSigner(address);
  }

  it("tells each host when it may reserve, by its distance to the slot's source", async function () {
    const slotId = slotIdOf(requestId, 0n);
    const key = roundKey(slotId, 0n);
    for (const host of d.actors.hosts) {
      const expected = eligibleAt(distanceBits(host.address, key), 8n, createdAt, expansion);
      expect(await d.marketplace.reservationEligibleAt(requestId, 0n, host.address)).to.equal(
        expected,
      );
    }
  });

  it("refuses a host before its time, and accepts it from then on", async function () {
    const slotId = slotIdOf(requestId, 1n);
    // The host farthest from the source waits longest.
    const hosts = [...d.actors.hosts];
    const key = roundKey(slotId, 0n);
    hosts.sort((a, b) => Number(distanceBits(b.address, key) - distanceBits(a.address, key)));
    const host = hosts[0]!;
    const at = await d.marketplace.reservationEligibleAt(requestId, 1n, host.address);
    expect(at > createdAt).to.equal(true);
    expect(at <= createdAt + expansion).to.equal(true);

    await windowed.time.setNextBlockTimestamp(at - 1n);
    await expect(d.marketplace.connect(host).reserveSlot(requestId, 1n))
      .to.be.revertedWithCustomError(d.marketplace, "SlotReservations_NotInWindow")
      .withArgs(at);
    await windowed.time.increaseTo(at - 1n);
    expect(await d.marketplace.canReserveSlot(requestId, 1n, host.address)).to.equal(false);
    await windowed.time.setNextBlockTimestamp(at);
    await d.marketplace.connect(host).reserveSlot(requestId, 1n);
    expect(await d.marketplace.getReservations(requestId, 1n)).to.deep.equal([host.address]);
  });

  it("admits every address once the expansion is over", async function () {
    await windowed.time.increaseTo(createdAt + expansion);
    for (const host of d.actors.hosts) {
      expect(await d.marketplace.canReserveSlot(requestId, 2n, host.address)).to.equal(
        d.actors.hosts.indexOf(host) < 3,
      );
      if (d.actors.hosts.indexOf(host) < 3)
        await d.marketplace.connect(host).reserveSlot(requestId, 2n);
    }
  });

  it("admits an address within 160 - D bits of the source at once", async function () {
    const slotId = slotIdOf(requestId, 3n);
    const source = BigInt(roundKey(slotId, 0n)) & ((1n << 160n) - 1n);
    // Flip bit 151: distance 2**151, bit length 152 = 160 - 8.
    const near = getAddress(toBeHex(source ^ (1n << 151n), 20));
    // Flip bit 152 instead: bit length 153, one step out: E / 8 seconds later.
    const next = getAddress(toBeHex(source ^ (1n << 152n), 20));
    expect(await d.marketplace.reservationEligibleAt(requestId, 3n, near)).to.equal(createdAt);
    expect(await d.marketplace.reservationEligibleAt(requestId, 3n, next)).to.equal(
      createdAt + expansion / 8n,
    );
    const signer = await signerAt(near);
    await d.marketplace.connect(signer).reserveSlot(requestId, 3n);
    expect(await d.marketplace.canReserveSlot(requestId, 3n, next)).to.equal(false);
  });

  it("opens a new window, from a new source, when the slot goes to Repair", async function () {
    const slotId = slotIdOf(requestId, 0n);
    const source = BigInt(roundKey(slotId, 0n)) & ((1n << 160n) - 1n);
    const host = await signerAt(getAddress(toBeHex(source ^ 1n, 20)));
    await d.token
      .connect(host)
      .approve(await d.marketplace.getAddress(), collateralPerSlot(request.ask));
    await d.marketplace.connect(host).reserveSlot(requestId, 0n);
    const { proof } = await windowed.proofForNextBlock(slotId, 0n, request.content.merkleRoot);
    await d.marketplace.connect(host).fillSlot(requestId, 0n, proof);
    await windowed.time.increase(100n);
    const tx = await d.marketplace.connect(host).freeSlot(slotId);
    const reopenedAt = await windowed.blockTimestamp(tx.hash);

    const key = roundKey(slotId, 1n);
    expect(key).not.to.equal(roundKey(slotId, 0n));
    const bits = distanceBits(host.address, key);
    expect(await d.marketplace.reservationEligibleAt(requestId, 0n, host.address)).to.equal(
      eligibleAt(bits, 8n, reopenedAt, expansion),
    );
    for (const other of d.actors.hosts) {
      expect(await d.marketplace.reservationEligibleAt(requestId, 0n, other.address)).to.equal(
        eligibleAt(distanceBits(other.address, key), 8n, reopenedAt, expansion),
      );
    }
  });
});
