/**
 * The host's sale records, one per slot, persisted before every on-chain action so that a crash
 * never loses track of money: a record is written (synced) in its new state first, then the state's
 * work is done. Entering a terminal state, or going back to matching to wait, releases the sale's
 * reservation in the same batch.
 */
import type { KeyValueStore } from "../store/database.js";
import type { AvailabilityStore } from "./availability-store.js";
import { SALE_PREFIX, type SaleRecord, decodeRecord, encodeRecord, isTerminal } from "./records.js";

/** History entries kept per sale: enough for every state of a normal life and a few retries. */
const MAX_HISTORY = 32;

export class SaleStore {
  readonly #db: KeyValueStore;
  readonly #availabilities: AvailabilityStore;
  readonly #records = new Map<string, SaleRecord>();

  private constructor(db: KeyValueStore, availabilities: AvailabilityStore) {
    this.#db = db;
    this.#availabilities = availabilities;
  }

  static async open(db: KeyValueStore, availabilities: AvailabilityStore): Promise<SaleStore> {
    const store = new SaleStore(db, availabilities);
    for await (const [, value] of db.entries(SALE_PREFIX)) {
      const record = decodeRecord<SaleRecord>(value);
      store.#records.set(record.slotId, record);
    }
    return store;
  }

  get(slotId: string): SaleRecord | undefined {
    return this.#records.get(slotId);
  }

  list(): SaleRecord[] {
    return [...this.#records.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** A new record in `state`, not yet saved. */
  static create(
    fields: Pick<SaleRecord, "slotId" | "requestId" | "slotIndex"> & Partial<SaleRecord>,
  ): SaleRecord {
    const now = Date.now();
    return {
      state: "matching",
      createdAt: now,
      updatedAt: now,
      history: [{ state: fields.state ?? "matching", at: now }],
      proofsSubmitted: 0,
      proofsMissed: 0,
      ...fields,
    };
  }

  /** The record with `changes` applied, a history entry when the state changed. */
  static next(record: SaleRecord, changes: Partial<SaleRecord>): SaleRecord {
    const now = Date.now();
    const next: SaleRecord = { ...record, ...changes, updatedAt: now };
    if (changes.state !== undefined && changes.state !== record.state) {
      next.history = [...record.history, { state: changes.state, at: now }].slice(-MAX_HISTORY);
    }
    return next;
  }

  /** The batch operation that stores `record` (for writes shared with the availability store). */
  putOp(record: SaleRecord) {
    return { type: "put" as const, key: SALE_PREFIX + record.slotId, value: encodeRecord(record) };
  }

  /** Notes a record written by another store's batch (AvailabilityStore.reserve). */
  written(record: SaleRecord): void {
    this.#records.set(record.slotId, record);
  }

  /**
   * Stores `record`, synced to disk. A terminal record, or one back in matching (waiting to try
   * again), gives up its reservation in the same batch.
   */
  async save(record: SaleRecord): Promise<SaleRecord> {
    const releases = isTerminal(record.state) || record.state === "matching";
    const ops = [
      this.putOp(record),
      ...(releases ? this.#availabilities.releaseOp(record.slotId) : []),
    ];
    await this.#db.write(ops, { sync: true });
    if (releases) this.#availabilities.released(record.slotId);
    this.written(record);
    return record;
  }
}
