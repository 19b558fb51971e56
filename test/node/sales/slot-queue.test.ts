import { expect } from "chai";
import {
  compareSlotItems,
  SlotQueue,
  type SlotQueueItem,
} from "../../../node/src/sales/slot-queue.js";

const item = (overrides: Partial<SlotQueueItem>): SlotQueueItem => ({
  requestId: "r",
  slotIndex: 0,
  slotSize: 100n,
  duration: 100n,
  pricePerBytePerSecond: 1n,
  collateralPerByte: 1n,
  expiry: 1000n,
  seen: false,
  ...overrides,
});

describe("slot queue", function () {
  describe("ordering", function () {
    it("ranks untried slots first, then payout, collateral, expiry and size, in that order", function () {
      const ordered = [
        item({ requestId: "pays-most", pricePerBytePerSecond: 3n }),
        item({ requestId: "less-collateral", pricePerBytePerSecond: 2n, collateralPerByte: 1n }),
        item({
          requestId: "more-collateral-later-expiry",
          pricePerBytePerSecond: 2n,
          collateralPerByte: 2n,
          expiry: 2000n,
        }),
        item({
          requestId: "more-collateral-smaller",
          pricePerBytePerSecond: 2n,
          collateralPerByte: 4n,
          slotSize: 50n,
          duration: 200n,
        }),
        item({
          requestId: "more-collateral-bigger",
          pricePerBytePerSecond: 2n,
          collateralPerByte: 2n,
          slotSize: 200n,
          duration: 50n,
        }),
        item({ requestId: "seen-pays-most", pricePerBytePerSecond: 9n, seen: true }),
      ];
      // Payout of every item but the first two and the seen one is 2 * 100 * 100 = 20,000.
      const shuffled = [...ordered].reverse();
      expect(shuffled.sort(compareSlotItems).map((i) => i.requestId)).to.deep.equal(
        ordered.map((i) => i.requestId),
      );
    });

    it("is a total order: ties are broken by request id and slot index", function () {
      const a = item({ requestId: "a", slotIndex: 1 });
      const b = item({ requestId: "a", slotIndex: 2 });
      expect(compareSlotItems(a, b)).to.be.lessThan(0);
      expect(compareSlotItems(b, a)).to.be.greaterThan(0);
      expect(compareSlotItems(a, { ...a })).to.equal(0);
    });
  });

  describe("working", function () {
    it("never runs more than `workers` items at once, and works them best first", async function () {
      let running = 0;
      let peak = 0;
      const order: string[] = [];
      const queue = new SlotQueue({
        workers: 2,
        process: async (it) => {
          running++;
          peak = Math.max(peak, running);
          order.push(`${it.requestId}`);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        },
      });
      queue.pause();
      for (let p = 1n; p <= 6n; p++)
        queue.push(item({ requestId: `p${p}`, pricePerBytePerSecond: p }));
      queue.resume();
      await queue.whenIdle();
      expect(peak).to.equal(2);
      expect(order).to.deep.equal(["p6", "p5", "p4", "p3", "p2", "p1"]);
    });

    it("adds every slot of a request once, to be worked in a random order", function () {
      const queue = new SlotQueue({ process: async () => {} });
      queue.pause();
      queue.pushRequest(item({ requestId: "r" }), 64);
      queue.pushRequest(item({ requestId: "r" }), 64);
      expect(queue.size).to.equal(64);
      const indices = queue.snapshot().map((i) => i.slotIndex);
      expect([...indices].sort((a, b) => a - b)).to.deep.equal(
        Array.from({ length: 64 }, (_, i) => i),
      );
    });

    it("drops the lowest-ranked item beyond maxSize", function () {
      const queue = new SlotQueue({ maxSize: 2, process: async () => {} });
      queue.pause();
      queue.push(item({ requestId: "mid", pricePerBytePerSecond: 2n }));
      queue.push(item({ requestId: "low", pricePerBytePerSecond: 1n }));
      queue.push(item({ requestId: "high", pricePerBytePerSecond: 3n }));
      expect(queue.snapshot().map((i) => i.requestId)).to.deep.equal(["high", "mid"]);
    });

    it("removing a request drops its queued slots and aborts its running ones", async function () {
      const aborted: number[] = [];
      const queue = new SlotQueue({
        workers: 1,
        process: (it, signal) =>
          new Promise<void>((resolve) => {
            signal.addEventListener("abort", () => {
              aborted.push(it.slotIndex);
              resolve();
            });
          }),
      });
      queue.push(item({ requestId: "gone", slotIndex: 0 }));
      queue.push(item({ requestId: "gone", slotIndex: 1 }));
      expect(queue.running).to.equal(1);
      queue.removeRequest("gone");
      await queue.whenIdle();
      expect(aborted).to.deep.equal([0]);
      expect(queue.size).to.equal(0);
    });

    it("dropping a filled request's or slot's queued items leaves running ones alone", async function () {
      const aborted: string[] = [];
      let finish: () => void = () => {};
      const queue = new SlotQueue({
        workers: 1,
        process: (it, signal) =>
          new Promise<void>((resolve) => {
            signal.addEventListener("abort", () => aborted.push(`${it.requestId}/${it.slotIndex}`));
            finish = resolve;
          }),
      });
      queue.push(item({ requestId: "a", slotIndex: 0, pricePerBytePerSecond: 9n }));
      queue.push(item({ requestId: "a", slotIndex: 1 }));
      queue.push(item({ requestId: "a", slotIndex: 2 }));
      queue.push(item({ requestId: "b", slotIndex: 0 }));
      queue.push(item({ requestId: "b", slotIndex: 1 }));
      expect(queue.running).to.equal(1); // a/0, the best paid
      queue.dropQueued("b", 1);
      expect(
        queue
          .snapshot()
          .map((i) => `${i.requestId}/${i.slotIndex}`)
          .sort(),
      ).to.deep.equal(["a/1", "a/2", "b/0"]);
      queue.dropQueued("a");
      expect(queue.snapshot().map((i) => `${i.requestId}/${i.slotIndex}`)).to.deep.equal(["b/0"]);
      expect(queue.running).to.equal(1);
      expect(aborted).to.deep.equal([]);
      queue.pause();
      finish();
      await queue.whenIdle();
    });

    it("reports a failing worker's error and goes on with the next item", async function () {
      const errors: string[] = [];
      const done: string[] = [];
      const queue = new SlotQueue({
        workers: 1,
        process: async (it) => {
          if (it.requestId === "bad") throw new Error("boom");
          done.push(it.requestId);
        },
        onError: (it, error) => errors.push(`${it.requestId}: ${(error as Error).message}`),
      });
      queue.pause();
      queue.push(item({ requestId: "bad", pricePerBytePerSecond: 2n }));
      queue.push(item({ requestId: "good" }));
      queue.resume();
      await queue.whenIdle();
      expect(errors).to.deep.equal(["bad: boom"]);
      expect(done).to.deep.equal(["good"]);
    });

    it("rejects nonsensical sizes", function () {
      expect(() => new SlotQueue({ workers: 0, process: async () => {} })).to.throw(RangeError);
      expect(() => new SlotQueue({ maxSize: 0, process: async () => {} })).to.throw(RangeError);
    });
  });
});
