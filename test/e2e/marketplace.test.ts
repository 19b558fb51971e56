/**
 * End to end on a local chain with real proofs (dev circuit): a client, three hosts and a validator,
 * each a `holdfast start` process on a Hardhat JSON-RPC node. One network serves every scenario, each
 * with its own request: filled, proven and finished with exact payouts (and a host restarted while
 * proving, which misses nothing); a host killed, slashed, removed and its slot repaired by another;
 * a request whose slots are not all filled by its expiry, cancelled and refunded.
 * Money is checked against the marketplace's rules (contracts/marketplace/Payouts.sol).
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { Devnet } from "../../scripts/devnet/devnet.js";
import {
  type RequestView,
  type SlotTenure,
  hostAvailability,
  offerStorage,
  requestStorage,
  runPeriod,
  sleep,
} from "../../scripts/devnet/market.js";
import type { DevnetNode } from "../../scripts/devnet/nodes.js";

const PERIOD = 60;
const PRICE = 1000n;
const COLLATERAL_PER_BYTE = 100_000n;
const FILE_SIZE = 128 * 1024;

/** The request's terms; `periods` of duration. */
function terms(periods: number, expiry: number, nodes = 2, tolerance = 1) {
  return {
    duration: periods * PERIOD,
    pricePerBytePerSecond: PRICE,
    collateralPerByte: COLLATERAL_PER_BYTE,
    proofProbability: 1n,
    expiry,
    nodes,
    tolerance,
  };
}

describe("marketplace end to end: node processes, real proofs", function () {
  this.timeout(1_800_000);

  let devnet: Devnet;
  /** The slot size of the test's requests, as the first request shows it. */
  let slotSize: bigint;
  const stopped = new Set<string>();
  const running = (host: string) => !stopped.has(host.toLowerCase());

  /** Token balances of every account now. */
  async function balances(): Promise<Map<string, bigint>> {
    const map = new Map<string, bigint>();
    for (const node of devnet.nodes) {
      if (node.account) map.set(node.name, await devnet.tokenBalance(node.account.address));
    }
    return map;
  }

  async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await devnet.observer.poll();
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(500);
    }
  }

  async function started(view: RequestView) {
    await devnet.observer.waitFor(
      "RequestFulfilled",
      (args) => String(args.requestId) === view.requestId,
      Number(view.request.expiry) * 1000,
      "every slot to be filled",
    );
  }

  /** Runs periods until the request's end; returns the periods' reports. */
  async function proveUntilEnd(view: RequestView, during?: (period: number) => Promise<void>) {
    const end = await devnet.market.requestEnd(view.requestId);
    const reports = [];
    for (let i = 0; (await devnet.chain.now()) < end; i++) {
      await during?.(i);
      reports.push(await runPeriod(view, running, { waitForRepairs: true }));
    }
    return reports;
  }

  /** Waits until every host still holding a slot was paid and the client withdrew. */
  async function settled(view: RequestView) {
    const holders = view.holders().filter((t): t is SlotTenure => t !== undefined);
    await waitFor(
      "the hosts' payouts and the client's withdrawal",
      () =>
        view.events("SlotPaid").length >= holders.length &&
        view.events("FundsWithdrawn").length === 1,
      180_000,
    );
    return holders;
  }

  const paidTo = (view: RequestView, tenure: SlotTenure) =>
    view
      .events("SlotPaid")
      .filter((e) => String(e.args.slotId) === tenure.slotId && e.args.host === tenure.host)
      .map((e) => e.args.amount as bigint);

  const payoutLabel = (tenure: SlotTenure, end: bigint) =>
    `payout of slot ${tenure.slotIndex} (${devnet.nameOf(tenure.host)}, filled at ${tenure.filledAt}${tenure.repair ? " (repair)" : ""}, end ${end}, missed ${tenure.missed})`;

  const refundOf = (view: RequestView) =>
    view.events("FundsWithdrawn").map((e) => e.args.amount as bigint);

  const maxPrice = (view: RequestView) =>
    BigInt(view.slots) * view.request.ask.duration * view.pricePerSlotPerSecond;

  before(async function () {
    // HOLDFAST_KEEP_DEVNET=1 keeps the logs and data folder (printed) for a look after a failure.
    devnet = await Devnet.start({
      hosts: 3,
      validator: true,
      keep: !!process.env.HOLDFAST_KEEP_DEVNET,
    });
    if (process.env.HOLDFAST_KEEP_DEVNET) console.log(`devnet folder: ${devnet.dir}`);
    await offerStorage(devnet.hosts, hostAvailability(20 * PERIOD));
  });

  after(async function () {
    await devnet?.stop();
  });

  describe("a request filled, proven and finished", function () {
    let view: RequestView;
    let initial: Map<string, bigint>;

    it("is filled by the hosts", async function () {
      initial = await balances();
      const { id } = await devnet.client.api.upload(randomBytes(FILE_SIZE));
      ({ view } = await requestStorage(devnet, id, terms(6, 300)));
      await started(view);
      slotSize = view.request.ask.slotSize;
      const holders = view.holders();
      expect(holders.every((t) => t !== undefined && !t.repair)).to.equal(true);
      for (const tenure of holders) {
        expect(devnet.nodeOf(tenure!.host)?.options.role).to.equal("host");
        expect(await devnet.market.slotState(tenure!.slotId)).to.equal("filled");
      }
    });

    it("gets a proof of every slot in every period, also from a host restarted mid-proving", async function () {
      const restarted = devnet.nodeOf(view.holders()[0]!.host)!;
      const startsBefore = restarted.starts;
      const reports = await proveUntilEnd(view, async (i) => {
        if (i !== 1) return;
        // The new period asks for proofs: the host starts proving; kill it while it does, and
        // start it again on the same data.
        await sleep(1_500);
        await restarted.kill();
        await restarted.start();
      });
      expect(restarted.starts).to.equal(startsBefore + 1);
      // runPeriod leaves out the period cut short by the request's end (no proof is due there).
      const proving = reports.filter((r) => r.slots.length > 0);
      expect(proving.length).to.be.greaterThanOrEqual(4);
      for (const report of proving) {
        for (const slot of report.slots) {
          expect(slot.outcome, `slot ${slot.slotIndex} in period ${report.period}`).to.equal(
            "proved",
          );
        }
      }
      expect(view.events("ProofMarkedMissing")).to.deep.equal([]);
    });

    it("finishes, and each host and the client get exactly their due", async function () {
      const holders = await settled(view);
      expect(await devnet.market.requestState(view.requestId)).to.equal("finished");
      const end = await devnet.market.requestEnd(view.requestId);
      const after = await balances();
      let paidOut = 0n;
      const change = new Map<string, bigint>();
      for (const tenure of holders) {
        const due = view.hostPayout(tenure, end);
        expect(paidTo(view, tenure), payoutLabel(tenure, end)).to.deep.equal([due]);
        paidOut += due;
        const name = devnet.nameOf(tenure.host);
        change.set(name, (change.get(name) ?? 0n) + due - view.deposit(tenure));
      }
      for (const host of devnet.hosts) {
        expect(after.get(host.name)! - initial.get(host.name)!, host.name).to.equal(
          change.get(host.name) ?? 0n,
        );
      }
      // The escrow held the price and the deposits; what the hosts did not get is the client's.
      const deposits = holders.reduce((sum, t) => sum + view.deposit(t), 0n);
      const refund = maxPrice(view) + deposits - paidOut;
      expect(refundOf(view)).to.deep.equal([refund]);
      expect(after.get("client")! - initial.get("client")!).to.equal(refund - maxPrice(view));
    });
  });

  /** Disables every availability of `hosts`; then offers one slot's worth on `sellers`. */
  async function oneSlotEach(hosts: readonly DevnetNode[], sellers: readonly DevnetNode[]) {
    for (const host of hosts) {
      const list = (await host.api.availabilities()) as { id: string }[];
      for (const { id } of list) await host.api.updateAvailability(id, { enabled: false });
    }
    const collateral = (slotSize * COLLATERAL_PER_BYTE * 3n) / 2n;
    for (const host of sellers) {
      await host.api.createAvailability({
        ...hostAvailability(20 * PERIOD),
        totalCollateral: collateral,
      });
    }
  }

  describe("a host killed mid-request", function () {
    let view: RequestView;
    let victim: DevnetNode;
    let victimTenure: SlotTenure;
    let initial: Map<string, bigint>;
    let rewardsBefore: bigint;

    /** The validator's rewards so far: withdrawn, and still in the marketplace. */
    async function validatorRewards(): Promise<bigint> {
      const validator = devnet.validator!.account!.address;
      const withdrawn = devnet.observer
        .find("ValidatorRewardWithdrawn", (a) => a.validator === validator)
        .reduce((sum, e) => sum + (e.args.amount as bigint), 0n);
      return withdrawn + (await devnet.market.validatorReward(validator));
    }

    // One slot per host at a time, so that each slot has its own host.
    before(() => oneSlotEach(devnet.hosts, devnet.hosts));

    it("is slashed by the validator until removed; another host repairs its slot", async function () {
      initial = await balances();
      rewardsBefore = await validatorRewards();
      const { id } = await devnet.client.api.upload(randomBytes(FILE_SIZE));
      ({ view } = await requestStorage(devnet, id, terms(9, 300)));
      await started(view);
      victimTenure = view.holders()[0]!;
      victim = devnet.nodeOf(victimTenure.host)!;
      await proveUntilEnd(view, async (i) => {
        if (i === 1) {
          await victim.kill();
          stopped.add(victimTenure.host.toLowerCase());
        }
      });
      const marks = view
        .events("ProofMarkedMissing")
        .filter((e) => String(e.args.slotId) === victimTenure.slotId);
      expect(marks.length).to.equal(devnet.deployment.config.collateral.maxNumberOfSlashes);
      expect(marks.every((e) => e.from === devnet.validator!.account!.address)).to.equal(true);
      const tenures = view.tenures().filter((t) => t.slotIndex === victimTenure.slotIndex);
      expect(tenures.length).to.equal(2);
      expect(tenures[0]!.freedAt !== undefined, "the killed host was removed").to.equal(true);
      expect(tenures[1]!.repair).to.equal(true);
      expect(tenures[1]!.host).to.not.equal(victimTenure.host);
    });

    it("finishes; the repairing host gets its reward, the validator its share of the slashes", async function () {
      const holders = await settled(view);
      expect(await devnet.market.requestState(view.requestId)).to.equal("finished");
      const end = await devnet.market.requestEnd(view.requestId);
      const config = devnet.deployment.config.collateral;
      const slash = (view.collateralPerSlot * BigInt(config.slashPercentage)) / 100n;
      const reward = (slash * BigInt(config.validatorRewardPercentage)) / 100n;
      // One reward per mark of this request: the killed host's (counted above) and any that a
      // running host earned by missing a proof on a loaded machine (its payout below counts it).
      const marks = view.events("ProofMarkedMissing");
      expect(marks.every((e) => e.from === devnet.validator!.account!.address)).to.equal(true);
      const rewards = BigInt(marks.length) * reward;
      // The validator has the rewards, withdrawn or still in the marketplace.
      const marked = marks.map(
        (e) => `slot ${String(e.args.slotId).slice(0, 10)} ${e.args.period}`,
      );
      expect((await validatorRewards()) - rewardsBefore, marked.join(", ")).to.equal(rewards);

      const after = await balances();
      let paidOut = 0n;
      for (const tenure of holders) {
        const due = view.hostPayout(tenure, end);
        expect(paidTo(view, tenure), payoutLabel(tenure, end)).to.deep.equal([due]);
        paidOut += due;
      }
      const repair = holders.find((t) => t.repair)!;
      const repairer = devnet.nameOf(repair.host);
      expect(after.get(repairer)! - initial.get(repairer)!).to.equal(
        view.hostPayout(repair, end) - view.deposit(repair),
      );
      // The removed host lost its whole deposit.
      expect(after.get(victim.name)! - initial.get(victim.name)!).to.equal(-view.collateralPerSlot);
      const deposits = view.tenures().reduce((sum, t) => sum + view.deposit(t), 0n);
      const refund = maxPrice(view) + deposits - paidOut - rewards;
      expect(refundOf(view)).to.deep.equal([refund]);
    });

    after(async function () {
      if (victim && !victim.running) await victim.start();
      if (victimTenure) stopped.delete(victimTenure.host.toLowerCase());
    });
  });

  describe("a request not filled by its expiry", function () {
    it("is cancelled; the host that filled a slot is paid to the expiry, the client refunded", async function () {
      // Only one host sells, for one slot: the request's other slot stays empty.
      const seller = devnet.hosts[0]!;
      await oneSlotEach(devnet.hosts, [seller]);
      const initial = await balances();
      const { id } = await devnet.client.api.upload(randomBytes(FILE_SIZE));
      const { view } = await requestStorage(devnet, id, terms(6, 150));
      await waitFor("a slot to be filled", () => view.tenures().length > 0, 150_000);
      const expiry = await devnet.market.requestExpiry(view.requestId);
      if ((await devnet.chain.now()) < expiry) await devnet.chain.mineAt(expiry);
      await waitFor(
        "the host's payout and the client's refund",
        () => view.events("SlotPaid").length === 1 && view.events("FundsWithdrawn").length === 1,
        180_000,
      );
      expect(await devnet.market.requestState(view.requestId)).to.equal("cancelled");
      const [tenure] = view.tenures();
      expect(view.tenures().length).to.equal(1);
      expect(devnet.nameOf(tenure!.host)).to.equal(seller.name);
      const due = (expiry - tenure!.filledAt) * view.pricePerSlotPerSecond + view.collateralPerSlot;
      expect(paidTo(view, tenure!)).to.deep.equal([due]);
      const refund = maxPrice(view) + view.collateralPerSlot - due;
      expect(refundOf(view)).to.deep.equal([refund]);
      const after = await balances();
      expect(after.get(seller.name)! - initial.get(seller.name)!).to.equal(
        due - view.collateralPerSlot,
      );
      expect(after.get("client")! - initial.get("client")!).to.equal(refund - maxPrice(view));
    });
  });
});
