import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { isHoldfastError } from "../../../node/src/errors.js";
import { AvailabilityStore } from "../../../node/src/sales/availability-store.js";
import type { BatchOp } from "../../../node/src/store/database.js";
import { LevelStore } from "../../../node/src/store/database.js";

const INPUT = {
  totalSize: 1_000n,
  duration: 3_600n,
  minPricePerBytePerSecond: 2n,
  totalCollateral: 5_000n,
  until: 0n,
  enabled: true,
};
const TERMS = { slotSize: 400n, duration: 100n, pricePerBytePerSecond: 2n, collateralPerByte: 5n };
const none = (): BatchOp[] => [];

describe("availability store", function () {
  let dir: string;
  let db: LevelStore;
  let store: AvailabilityStore;

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-availability-"));
    db = await LevelStore.open(dir);
    store = await AvailabilityStore.open(db);
  });

  afterEach(async function () {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function reopen() {
    await db.close();
    db = await LevelStore.open(dir);
    store = await AvailabilityStore.open(db);
  }

  async function refused(work: Promise<unknown>, code: string, message: RegExp) {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHoldfastError(error), String(error)).to.equal(true);
    expect((error as { code: string }).code).to.equal(code);
    expect((error as Error).message).to.match(message);
  }

  it("keeps availabilities and reservations across a restart, deriving what is free", async function () {
    const a = await store.create(INPUT);
    expect(a).to.include({ freeSize: 1_000n, freeCollateral: 5_000n });
    const reserved = await store.reserve("slot-1", TERMS, 0n, none);
    expect(reserved).to.have.property("reservation");
    await reopen();
    expect(store.list()).to.have.length(1);
    expect(store.get(a.id)).to.include({ freeSize: 600n, freeCollateral: 3_000n, enabled: true });
    await store.release("slot-1");
    expect(store.get(a.id)).to.include({ freeSize: 1_000n, freeCollateral: 5_000n });
    await reopen();
    expect(store.reservations()).to.deep.equal([]);
  });

  it("refuses values out of range, changing nothing", async function () {
    const cases: [Partial<typeof INPUT>, RegExp][] = [
      [{ totalSize: 0n }, /totalSize must be an integer from 1/],
      [{ duration: 0n }, /duration/],
      [{ totalSize: 2n ** 64n }, /totalSize/],
      [{ minPricePerBytePerSecond: -1n }, /minPricePerBytePerSecond/],
      [{ totalCollateral: 2n ** 256n }, /totalCollateral/],
      [{ until: -5n }, /until/],
    ];
    for (const [change, message] of cases) {
      await refused(store.create({ ...INPUT, ...change }), "ERR_INVALID_ARGUMENT", message);
    }
    expect(store.list()).to.deep.equal([]);
    const a = await store.create(INPUT);
    await refused(store.update(a.id, { totalSize: 0n }), "ERR_INVALID_ARGUMENT", /totalSize/);
    await refused(
      store.update("nope", { enabled: false }),
      "ERR_NOT_FOUND",
      /no availability nope/,
    );
    expect(store.get(a.id).totalSize).to.equal(1_000n);
  });

  it("changes any field, but never below what running sales reserved", async function () {
    const a = await store.create(INPUT);
    await store.reserve("slot-1", TERMS, 0n, none);
    await refused(
      store.update(a.id, { totalSize: 399n }),
      "ERR_INVALID_ARGUMENT",
      /totalSize 399 is below the 400 bytes reserved by running sales/,
    );
    await refused(
      store.update(a.id, { totalCollateral: 1_999n }),
      "ERR_INVALID_ARGUMENT",
      /totalCollateral 1999 is below the 2000 reserved/,
    );
    const updated = await store.update(a.id, { totalSize: 400n, enabled: false, until: 99n });
    expect(updated).to.include({ totalSize: 400n, freeSize: 0n, enabled: false, until: 99n });
    expect(updated.duration).to.equal(INPUT.duration);
  });

  it("reserves on the availability leaving the least space unused, with the sale's record in the same batch", async function () {
    const big = await store.create({ ...INPUT, totalSize: 5_000n });
    const small = await store.create(INPUT);
    const result = await store.reserve("slot-1", TERMS, 0n, () => [
      { type: "put", key: "sales/slot/slot-1", value: new Uint8Array([1]) },
    ]);
    expect(result).to.have.nested.property("availability.id", small.id);
    expect(await db.get("sales/slot/slot-1")).to.deep.equal(new Uint8Array([1]));
    expect(store.get(big.id).freeSize).to.equal(5_000n);
  });

  it("never promises the same space twice to sales reserving at once", async function () {
    const a = await store.create({ ...INPUT, totalSize: 700n });
    const results = await Promise.all([
      store.reserve("slot-1", TERMS, 0n, none),
      store.reserve("slot-2", TERMS, 0n, none),
    ]);
    expect(results.filter((r) => "reservation" in r)).to.have.length(1);
    const refusedOne = results.find((r) => "mismatches" in r) as {
      mismatches: { availabilityId: string; reasons: string[] }[];
    };
    expect(refusedOne.mismatches).to.deep.equal([
      { availabilityId: a.id, reasons: ["not-enough-space"] },
    ]);
    expect(store.get(a.id).freeSize).to.equal(300n);
  });
});
