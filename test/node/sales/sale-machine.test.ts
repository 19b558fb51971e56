/**
 * Every transition of the sales state machine, on a real LevelDB with a scripted chain, slot data
 * and prover (fakes.ts): what each state does with each answer the chain can give, that the sale is
 * saved before acting, and that its reservation is released in every terminal state.
 */
import { expect } from "chai";
import type { SaleRecord, SaleState } from "../../../node/src/sales/records.js";
import { SaleStore } from "../../../node/src/sales/sale-store.js";
import {
  HOST,
  MANIFEST_CID,
  OTHER_HOST,
  type Harness,
  harness,
  revert,
  slotIdOf,
  testManifest,
  testRequest,
} from "./fakes.js";

const AVAILABILITY = {
  totalSize: 1_000_000n,
  duration: 10_000n,
  minPricePerBytePerSecond: 1n,
  totalCollateral: 10_000_000n,
  until: 0n,
  enabled: true,
};

describe("sales state machine", function () {
  let h: Harness;
  let requestId: string;
  let slotId: string;

  beforeEach(async function () {
    h = await harness();
    requestId = h.chain.addRequest(testRequest());
    slotId = slotIdOf(requestId, 0);
  });

  afterEach(async function () {
    await h.close();
  });

  const newSale = () => SaleStore.create({ slotId, requestId, slotIndex: 0 });
  const freeSize = () => h.availabilities.list()[0]!.freeSize;
  const held = () => h.availabilities.reservation(slotId);

  /** A sale saved in `state` with a reservation, as matching leaves it, then moved on. */
  async function saleIn(state: SaleState, changes: Partial<SaleRecord> = {}): Promise<SaleRecord> {
    await h.availabilities.create(AVAILABILITY);
    const reserving = (await h.machine.step(newSale())).record;
    expect(reserving.state).to.equal("reserving");
    return h.sales.save(SaleStore.next(reserving, { ...changes, state }));
  }

  /** A filled sale, as filling leaves it. */
  async function filledSale(state: SaleState = "proving"): Promise<SaleRecord> {
    const sale = await saleIn(state, { collateral: 131_072n, filledAt: 9_950n, filledBlock: 40 });
    h.data.held.add(0);
    h.chain.hosts.set(slotId, HOST);
    h.chain.slotStates.set(slotId, "filled");
    h.chain.requestStates.set(requestId, "started");
    return sale;
  }

  async function expectEnded(record: SaleRecord, state: SaleState, reason?: RegExp) {
    expect(record.state).to.equal(state);
    if (reason) expect(record.reason).to.match(reason);
    expect(held(), "reservation released").to.equal(undefined);
    expect(h.sales.get(slotId)?.state, "saved").to.equal(state);
  }

  describe("matching", function () {
    it("reserves space and collateral of the best availability and moves to reserving", async function () {
      await h.availabilities.create(AVAILABILITY);
      const { record } = await h.machine.step(newSale());
      expect(record.state).to.equal("reserving");
      expect(record.manifestCid).to.be.a("string");
      expect(held()).to.include({ size: 65_536n, collateral: 131_072n });
      expect(freeSize()).to.equal(AVAILABILITY.totalSize - 65_536n);
      expect(h.sales.get(slotId)?.state).to.equal("reserving");
    });

    it("ignores a slot no availability takes, saying why for each", async function () {
      const a = await h.availabilities.create({ ...AVAILABILITY, minPricePerBytePerSecond: 6n });
      const { record } = await h.machine.step(newSale());
      await expectEnded(record, "ignored", /no availability matches/);
      expect(record.mismatches).to.deep.equal([
        { availabilityId: a.id, reasons: ["price-too-low"] },
      ]);
      expect(freeSize()).to.equal(AVAILABILITY.totalSize);
    });

    it("ignores every slot when the host offers nothing", async function () {
      const { record } = await h.machine.step(newSale());
      await expectEnded(record, "ignored", /no availability/);
    });

    it("ends as the request did: cancelled, failed, finished", async function () {
      await h.availabilities.create(AVAILABILITY);
      for (const [state, ended] of [
        ["cancelled", "cancelled"],
        ["failed", "failed"],
        ["finished", "ignored"],
      ] as const) {
        h.chain.requestStates.set(requestId, state);
        const { record } = await h.machine.step(newSale());
        await expectEnded(record, ended);
      }
    });

    it("ignores a slot that is not free or in repair, and an unknown request", async function () {
      await h.availabilities.create(AVAILABILITY);
      h.chain.slotStates.set(slotId, "filled");
      await expectEnded((await h.machine.step(newSale())).record, "ignored", /slot is filled/);
      const unknown = SaleStore.create({ slotId: "0x01", requestId: "0x02", slotIndex: 0 });
      expect((await h.machine.step(unknown)).record).to.include({
        state: "ignored",
        reason: "unknown request",
      });
    });

    it("takes a slot in repair for what is left of the request", async function () {
      await h.availabilities.create({ ...AVAILABILITY, duration: 500n });
      h.chain.slotStates.set(slotId, "repair");
      h.chain.time = 10_500n; // the request ends at 10_900: 400 s left, within the 500 offered
      const { record } = await h.machine.step(newSale());
      expect(record).to.include({ state: "reserving", repair: true });
    });
  });

  describe("reserving", function () {
    it("reserves the slot on chain and moves to downloading", async function () {
      const reserving = await saleIn("reserving");
      const { record: next } = await h.machine.step(reserving);
      expect(next.state).to.equal("downloading");
      expect(h.chain.calls).to.deep.equal(["reserveSlot 0"]);
    });

    it("outside the reservation window, releases its reservation and asks to be tried later", async function () {
      const reserving = await saleIn("reserving");
      h.chain.canReserve = false;
      h.chain.eligibleAt = h.chain.time + 30n;
      const { record, retryAfterMs } = await h.machine.step(reserving);
      expect(record.state).to.equal("matching");
      expect(record.reason).to.match(/reservation window/);
      expect(retryAfterMs).to.equal(30_000);
      expect(held()).to.equal(undefined);
      expect(h.chain.calls).to.deep.equal([]);
    });

    it("goes on when the chain already holds its reservation (a crash after reserving)", async function () {
      const reserving = await saleIn("reserving");
      h.chain.canReserve = false;
      h.chain.failNext.set("reserveSlot", revert("SlotReservations_AlreadyReserved"));
      expect((await h.machine.step(reserving)).record.state).to.equal("downloading");
    });

    it("ignores a slot whose reservations are full", async function () {
      const reserving = await saleIn("reserving");
      h.chain.failNext.set("reserveSlot", revert("SlotReservations_ReservationsFull"));
      await expectEnded((await h.machine.step(reserving)).record, "ignored", /full/);
    });

    it("is filled already when the chain says the slot is its own", async function () {
      const reserving = await saleIn("reserving");
      h.chain.hosts.set(slotId, HOST);
      expect((await h.machine.step(reserving)).record.state).to.equal("filled");
    });

    it("ends when the request was cancelled meanwhile", async function () {
      const reserving = await saleIn("reserving");
      h.chain.requestStates.set(requestId, "cancelled");
      await expectEnded((await h.machine.step(reserving)).record, "cancelled");
    });

    it("errors on a revert it does not expect, releasing its reservation", async function () {
      const reserving = await saleIn("reserving");
      h.chain.failNext.set("reserveSlot", revert("Marketplace_UnknownRequest"));
      const error = await h.machine.step(reserving).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(Error);
      // The role's worker ends such a sale as errored:
      await expectEnded(await h.machine.errored(reserving, error), "errored", /UnknownRequest/);
    });
  });

  describe("downloading", function () {
    it("fetches the slot, checks it against the manifest and moves to initialProving", async function () {
      const downloading = await saleIn("downloading");
      const { record } = await h.machine.step(downloading);
      expect(record.state).to.equal("initialProving");
      expect(h.data.fetches).to.equal(1);
    });

    it("errors when the slot's root is not the manifest's", async function () {
      const downloading = await saleIn("downloading");
      h.data.roots = [99n, 22n];
      await expectEnded((await h.machine.step(downloading)).record, "errored", /root/);
    });

    it("errors when the dataset is not the request's: root, slot count, size", async function () {
      const cases: [Partial<NonNullable<ReturnType<typeof testManifest>["verifiable"]>>, RegExp][] =
        [
          [{ datasetRoot: testManifest().verifiable!.slotRoots[0]! }, /merkle root/],
          [{ slotRoots: [testManifest().verifiable!.slotRoots[0]!] }, /1 slots, the request 2/],
        ];
      for (const [verifiable, reason] of cases) {
        h.data.manifest = testManifest(verifiable);
        const downloading = await saleIn("downloading");
        await expectEnded((await h.machine.step(downloading)).record, "errored", reason);
      }
      h.data.manifest = { ...testManifest(), blocksCount: 4 };
      const downloading = await saleIn("downloading");
      await expectEnded((await h.machine.step(downloading)).record, "errored", /more than/);
    });

    it("tries a failing fetch again, then errors", async function () {
      const downloading = await saleIn("downloading");
      h.data.fetchError = new Error("no providers");
      const first = await h.machine.step(downloading);
      expect(first.record).to.include({ state: "downloading", attempts: 1 });
      expect(first.retryAfterMs).to.equal(1);
      expect(held()).to.not.equal(undefined);
      const second = await h.machine.step(first.record);
      expect(second.record.attempts).to.equal(2);
      await expectEnded((await h.machine.step(second.record)).record, "errored", /no providers/);
    });

    it("a filled slot fetched again goes back to proving", async function () {
      const sale = await filledSale("downloading");
      h.data.held.clear();
      const { record } = await h.machine.step(sale);
      expect(record.state).to.equal("proving");
    });
  });

  describe("initialProving and filling", function () {
    it("proves for the current period, then fills depositing the slot's collateral", async function () {
      h.data.held.add(0);
      const proving = await saleIn("initialProving");
      const { record: filling } = await h.machine.step(proving);
      expect(filling.state).to.equal("filling");
      expect(filling.fillProof?.period).to.equal(100n);
      expect(h.prover.requests[0]!.urgent).to.equal(false);
      expect(h.prover.requests[0]!.request.slotRoots).to.deep.equal([11n, 22n]);
      // Saved before fillSlot is sent.
      expect(h.sales.get(slotId)?.state).to.equal("filling");
      const { record: filled } = await h.machine.step(filling);
      expect(filled).to.include({ state: "filled", collateral: 131_072n, filledAt: 10_000n });
      expect(filled.fillProof).to.equal(undefined);
      expect(h.chain.calls).to.deep.equal(["fillSlot 0 131072"]);
      expect(held(), "the reservation stays while the slot is held").to.not.equal(undefined);
    });

    it("fetches again when the slot's data is missing", async function () {
      const proving = await saleIn("initialProving");
      expect((await h.machine.step(proving)).record.state).to.equal("downloading");
    });

    it("proves again when the period passed before filling", async function () {
      const filling = await saleIn("filling", { fillProof: { proof: undefined!, period: 99n } });
      const { record } = await h.machine.step(filling);
      expect(record).to.include({ state: "initialProving", attempts: 1 });
      expect(h.chain.calls).to.deep.equal([]);
    });

    it("proves again when the chain refuses the proof, and errors after the last attempt", async function () {
      h.data.held.add(0);
      let record = await saleIn("initialProving");
      for (let attempt = 1; attempt <= 3; attempt++) {
        record = (await h.machine.step(record)).record;
        expect(record.state).to.equal("filling");
        h.chain.failNext.set("fillSlot", revert("Proofs_InvalidProof"));
        record = (await h.machine.step(record)).record;
      }
      await expectEnded(record, "errored", /refused the fill proof, 3 times/);
    });

    it("ignores the slot when another host filled it first", async function () {
      const filling = await saleIn("filling", { fillProof: { proof: undefined!, period: 100n } });
      h.chain.failNext.set("fillSlot", revert("Marketplace_SlotNotFree"));
      h.chain.hosts.set(slotId, OTHER_HOST);
      await expectEnded((await h.machine.step(filling)).record, "ignored", /another host/);
    });

    it("is filled when the slot is its own after all (a crash after filling)", async function () {
      const filling = await saleIn("filling", { fillProof: { proof: undefined!, period: 100n } });
      h.chain.failNext.set("fillSlot", revert("Marketplace_SlotNotFree"));
      h.chain.hosts.set(slotId, HOST);
      expect((await h.machine.step(filling)).record.state).to.equal("filled");
    });

    it("deposits the collateral less the repair reward for a slot in repair", async function () {
      const filling = await saleIn("filling", { fillProof: { proof: undefined!, period: 100n } });
      h.chain.slotStates.set(slotId, "repair");
      const { record } = await h.machine.step(filling);
      expect(record.collateral).to.equal(131_072n - 13_107n);
      expect(h.chain.calls).to.deep.equal([`fillSlot 0 ${131_072n - 13_107n}`]);
    });
  });

  describe("filled", function () {
    it("moves to proving when the slot is its own", async function () {
      const filled = await filledSale("filled");
      expect((await h.machine.step(filled)).record.state).to.equal("proving");
    });

    it("fails when the slot is not its own", async function () {
      const filled = await filledSale("filled");
      h.chain.hosts.set(slotId, OTHER_HOST);
      await expectEnded((await h.machine.step(filled)).record, "failed", /not the slot's host/);
    });
  });

  describe("proving", function () {
    it("submits a proof in a period that requires one, once", async function () {
      const proving = await filledSale();
      h.chain.proofRequired = true;
      const next = await h.machine.prove(proving);
      expect(next).to.include({
        proofsSubmitted: 1,
        lastProofPeriod: 100n,
        lastCheckedPeriod: 100n,
      });
      expect(h.prover.requests[0]!.urgent).to.equal(true);
      expect(await h.machine.prove(next)).to.equal(next);
      expect(h.chain.calls.filter((c) => c.startsWith("submitProof"))).to.have.length(1);
    });

    it("proves during downtime when a proof will be required", async function () {
      const proving = await filledSale();
      h.chain.proofWillBeRequired = true;
      expect((await h.machine.prove(proving)).proofsSubmitted).to.equal(1);
    });

    it("only notes a period that requires no proof", async function () {
      const proving = await filledSale();
      const next = await h.machine.prove(proving);
      expect(next).to.include({ proofsSubmitted: 0, lastCheckedPeriod: 100n });
      expect(h.prover.requests).to.have.length(0);
    });

    it("counts and reports a proof that is ready only after its period ended, without sending it", async function () {
      const proving = await filledSale();
      h.chain.proofRequired = true;
      h.prover.during = () => (h.chain.time += 100n);
      const next = await h.machine.prove(proving);
      expect(next).to.include({ proofsSubmitted: 0, proofsMissed: 1, lastCheckedPeriod: 100n });
      expect(h.chain.calls).to.deep.equal([]);
      expect(
        await h.registry.getSingleMetricAsString("holdfast_sales_proofs_missed_total"),
      ).to.match(/ 1$/m);
    });

    it("counts a proof the chain refuses as missed", async function () {
      const proving = await filledSale();
      h.chain.proofRequired = true;
      h.chain.failNext.set("submitProof", revert("Marketplace_SlotNotAcceptingProofs"));
      expect(await h.machine.prove(proving)).to.include({ proofsMissed: 1, proofsSubmitted: 0 });
    });

    /** The challenge the slot's pointer gives after its next wrap. */
    const moved = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

    it("proves again before sending when the challenge moved while proving", async function () {
      const proving = await filledSale();
      h.chain.proofRequired = true;
      h.prover.during = () => {
        h.chain.challenge = moved(1);
        h.prover.during = undefined;
      };
      expect(await h.machine.prove(proving)).to.include({ proofsSubmitted: 1, proofsMissed: 0 });
      expect(h.prover.requests.map((r) => r.request.challenge)).to.deep.equal([moved(0), moved(1)]);
      expect(h.chain.calls.filter((c) => c.startsWith("submitProof"))).to.have.length(1);
    });

    it("proves again when the chain refuses a proof because the challenge moved after the check", async function () {
      const proving = await filledSale();
      h.chain.proofRequired = true;
      h.chain.beforeSubmit = () => (h.chain.challenge = moved(2)); // the transaction's block wrapped
      expect(await h.machine.prove(proving)).to.include({ proofsSubmitted: 1, proofsMissed: 0 });
      expect(h.prover.requests.map((r) => r.request.challenge)).to.deep.equal([moved(0), moved(2)]);
      expect(h.chain.calls.filter((c) => c.startsWith("submitProof"))).to.have.length(2);
    });

    it("does not prove again when a refused proof's challenge did not move", async function () {
      const proving = await filledSale();
      h.chain.proofRequired = true;
      h.chain.failNext.set("submitProof", revert("Proofs_InvalidProof"));
      expect(await h.machine.prove(proving)).to.include({ proofsSubmitted: 0, proofsMissed: 1 });
      expect(h.prover.requests).to.have.length(1);
    });

    it("gives up after three proofs when the challenge keeps moving", async function () {
      const proving = await filledSale();
      h.chain.proofRequired = true;
      let wraps = 0;
      h.prover.during = () => (h.chain.challenge = moved(++wraps));
      expect(await h.machine.prove(proving)).to.include({ proofsSubmitted: 0, proofsMissed: 1 });
      expect(h.prover.requests).to.have.length(3);
    });

    it("fetches the slot again when its data is gone, counting the proof as missed", async function () {
      const proving = await filledSale();
      h.data.held.clear();
      h.chain.proofRequired = true;
      const next = await h.machine.prove(proving);
      expect(next).to.include({ state: "downloading", proofsMissed: 1 });
      expect(held()).to.not.equal(undefined);
    });

    it("fails, releasing its reservation, when the slot was taken away (repair)", async function () {
      const proving = await filledSale();
      h.chain.slotStates.set(slotId, "repair");
      h.chain.hosts.delete(slotId);
      await expectEnded(await h.machine.prove(proving), "failed", /taken from this host/);
    });
  });

  describe("payout", function () {
    it("frees the slot of a finished request, records the payment and finishes", async function () {
      const proving = await filledSale();
      h.chain.slotStates.set(slotId, "finished");
      h.chain.requestStates.set(requestId, "finished");
      h.chain.payments.set(slotId, 500_000n);
      const next = await h.machine.prove(proving);
      await expectEnded(next, "finished");
      expect(next.payout).to.equal(500_000n);
      expect(next.history.map((s) => s.state).slice(-2)).to.deep.equal(["payout", "finished"]);
      expect(
        await h.registry.getSingleMetricAsString("holdfast_sales_earned_tokens_total"),
      ).to.match(new RegExp(` ${500_000 - 131_072}$`, "m"));
    });

    it("collects from a cancelled request's slot and ends cancelled", async function () {
      const proving = await filledSale();
      h.chain.slotStates.set(slotId, "cancelled");
      h.chain.requestStates.set(requestId, "cancelled");
      h.chain.payments.set(slotId, 140_000n);
      const next = await h.machine.prove(proving);
      await expectEnded(next, "cancelled");
      expect(next.payout).to.equal(140_000n);
    });

    it("collects what is left from a failed request's slot and ends failed", async function () {
      const proving = await filledSale();
      h.chain.slotStates.set(slotId, "failed");
      h.chain.requestStates.set(requestId, "failed");
      h.chain.payments.set(slotId, 1_000n);
      const next = await h.machine.prove(proving);
      await expectEnded(next, "failed");
      expect(next.payout).to.equal(1_000n);
    });

    it("reads the payment when the slot was paid before a crash", async function () {
      const payout = await filledSale("payout");
      h.chain.requestStates.set(requestId, "finished");
      h.chain.payments.set(slotId, 7n);
      h.chain.failNext.set("freeSlot", revert("Marketplace_AlreadyPaid"));
      const { record } = await h.machine.step(payout);
      await expectEnded(record, "finished");
      expect(record.payout).to.equal(7n);
    });

    it("never frees the slot of a running request (it would forfeit the collateral)", async function () {
      const payout = await filledSale("payout");
      expect((await h.machine.step(payout)).record.state).to.equal("proving");
      expect(h.chain.calls).to.deep.equal([]);
    });
  });

  describe("the slot's data when the sale ends", function () {
    /** Lets the release that ending a sale starts (without waiting for it) run. */
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    it("is deleted when the sale finishes, fails or errors", async function () {
      const proving = await filledSale();
      h.chain.slotStates.set(slotId, "finished");
      h.chain.requestStates.set(requestId, "finished");
      h.chain.payments.set(slotId, 500_000n);
      await expectEnded(await h.machine.prove(proving), "finished");
      await settle();
      expect(h.data.held.has(0)).to.equal(false);
      expect(h.data.deleted).to.deep.equal([0]);
      for (const state of ["failed", "errored"] as const) {
        h.data.held.add(0);
        await h.machine.move(proving, state);
        await settle();
        expect(h.data.held.has(0), state).to.equal(false);
      }
    });

    it("is kept while another running sale of this host uses the same slot", async function () {
      const proving = await filledSale();
      // A second request for the same dataset, whose slot 0 this host also sells.
      const otherRequest = h.chain.addRequest({ ...testRequest(), nonce: `0x${"22".repeat(32)}` });
      const other = await h.sales.save(
        SaleStore.next(
          SaleStore.create({
            slotId: slotIdOf(otherRequest, 0),
            requestId: otherRequest,
            slotIndex: 0,
            manifestCid: proving.manifestCid,
          }),
          { state: "proving" },
        ),
      );
      await h.machine.move(proving, "finished");
      await settle();
      expect(h.data.held.has(0), "kept for the running sale").to.equal(true);
      await h.machine.move(other, "finished");
      await settle();
      expect(h.data.held.has(0), "deleted with the last sale").to.equal(false);
    });

    it("is not touched by a sale that never fetched it", async function () {
      h.data.held.add(0); // stored for another reason, e.g. a fetch through the API
      const ignored = SaleStore.next(
        SaleStore.create({ slotId, requestId, slotIndex: 0, manifestCid: MANIFEST_CID }),
        { state: "ignored" },
      );
      await h.machine.releaseData(ignored);
      expect(h.data.held.has(0)).to.equal(true);
      expect(h.data.deleted).to.deep.equal([]);
    });
  });

  describe("reconcile after a restart", function () {
    it("a pre-fill sale whose slot the chain gives this host is filled", async function () {
      const filling = await saleIn("filling");
      h.chain.hosts.set(slotId, HOST);
      expect((await h.machine.reconcile(filling)).state).to.equal("filled");
    });

    it("a pre-fill sale of a cancelled request ends, releasing its reservation", async function () {
      const downloading = await saleIn("downloading");
      h.chain.requestStates.set(requestId, "cancelled");
      await expectEnded(await h.machine.reconcile(downloading), "cancelled");
    });

    it("a filled sale whose data is gone fetches it again", async function () {
      const proving = await filledSale();
      h.data.held.clear();
      expect((await h.machine.reconcile(proving)).state).to.equal("downloading");
    });

    it("a proving sale with its data resumes proving", async function () {
      const proving = await filledSale();
      expect((await h.machine.reconcile(proving)).state).to.equal("proving");
    });
  });
});
