/**
 * The validator's records in the node's database, under "validator/": the slots it watches and its
 * lifetime totals. Written synchronously, before the event cursor moves past the events that
 * produced them, so a restart resumes with the same set.
 */
import { type BatchOp, type KeyValueStore, jsonValue, parseJsonValue } from "../store/database.js";

export interface WatchedSlot {
  slotId: string;
  requestId: string;
  slotIndex: bigint;
}

export interface ValidatorTotals {
  proofsMarkedMissing: number;
  /** In the token's smallest unit. */
  rewardsWithdrawn: bigint;
}

const SLOTS = "validator/slots/";
const TOTALS = "validator/totals";

export class ValidatorStore {
  constructor(private readonly db: KeyValueStore) {}

  async slots(): Promise<WatchedSlot[]> {
    const slots: WatchedSlot[] = [];
    for await (const [key, value] of this.db.entries(SLOTS)) {
      const record = parseJsonValue<{ requestId: string; slotIndex: string }>(value);
      slots.push({
        slotId: key.slice(SLOTS.length),
        requestId: record.requestId,
        slotIndex: BigInt(record.slotIndex),
      });
    }
    return slots;
  }

  /** Adds and removes watched slots in one synchronous batch. */
  async update(added: readonly WatchedSlot[], removed: readonly string[]): Promise<void> {
    const ops: BatchOp[] = [
      ...added.map((s): BatchOp => ({
        type: "put",
        key: SLOTS + s.slotId,
        value: jsonValue({ requestId: s.requestId, slotIndex: String(s.slotIndex) }),
      })),
      ...removed.map((slotId): BatchOp => ({ type: "del", key: SLOTS + slotId })),
    ];
    await this.db.write(ops, { sync: true });
  }

  async totals(): Promise<ValidatorTotals> {
    const bytes = await this.db.get(TOTALS);
    if (!bytes) return { proofsMarkedMissing: 0, rewardsWithdrawn: 0n };
    const saved = parseJsonValue<{ proofsMarkedMissing: number; rewardsWithdrawn: string }>(bytes);
    return {
      proofsMarkedMissing: saved.proofsMarkedMissing,
      rewardsWithdrawn: BigInt(saved.rewardsWithdrawn),
    };
  }

  async saveTotals(totals: ValidatorTotals): Promise<void> {
    await this.db.write(
      [
        {
          type: "put",
          key: TOTALS,
          value: jsonValue({
            proofsMarkedMissing: totals.proofsMarkedMissing,
            rewardsWithdrawn: String(totals.rewardsWithdrawn),
          }),
        },
      ],
      { sync: true },
    );
  }
}
