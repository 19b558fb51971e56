/**
 * The host's availabilities and the reservations running sales hold against them, persisted in the
 * node's LevelDB. Free space and collateral are derived (total minus what reservations hold), never
 * stored, so a reservation released is space freed: nothing else to keep in step. Changes that must
 * not interleave (matching a slot and reserving for it, shrinking an availability) run one at a time.
 */
import { randomUUID } from "node:crypto";
import { HoldfastError } from "../errors.js";
import type { BatchOp, KeyValueStore } from "../store/database.js";
import {
  type Availability,
  type MismatchReason,
  type SlotTerms,
  findAvailability,
  mismatches,
} from "./availability.js";
import {
  AVAILABILITY_PREFIX,
  RESERVATION_PREFIX,
  type Reservation,
  type StoredAvailability,
  decodeRecord,
  encodeRecord,
} from "./records.js";

/** What a caller may set on an availability (all of it when creating, any part when updating). */
export interface AvailabilityInput {
  totalSize: bigint;
  duration: bigint;
  minPricePerBytePerSecond: bigint;
  totalCollateral: bigint;
  until: bigint;
  enabled: boolean;
}

const UINT64_MAX = 2n ** 64n - 1n;
const UINT256_MAX = 2n ** 256n - 1n;

/** The limits of each field; a value outside is refused with ERR_INVALID_ARGUMENT. */
const LIMITS: Record<Exclude<keyof AvailabilityInput, "enabled">, [bigint, bigint]> = {
  totalSize: [1n, UINT64_MAX],
  duration: [1n, UINT64_MAX],
  minPricePerBytePerSecond: [0n, UINT256_MAX],
  totalCollateral: [0n, UINT256_MAX],
  until: [0n, UINT64_MAX],
};

export function checkAvailabilityInput(input: Partial<AvailabilityInput>): void {
  for (const [field, [min, max]] of Object.entries(LIMITS)) {
    const value = input[field as keyof typeof LIMITS];
    if (value === undefined) continue;
    if (typeof value !== "bigint" || value < min || value > max) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `${field} must be an integer from ${min} to ${max}, got ${String(value)}`,
      );
    }
  }
  if (input.enabled !== undefined && typeof input.enabled !== "boolean")
    throw new HoldfastError("ERR_INVALID_ARGUMENT", "enabled must be true or false");
}

export class AvailabilityStore {
  readonly #db: KeyValueStore;
  readonly #availabilities = new Map<string, StoredAvailability>();
  readonly #reservations = new Map<string, Reservation>();
  #lock: Promise<unknown> = Promise.resolve();

  private constructor(db: KeyValueStore) {
    this.#db = db;
  }

  static async open(db: KeyValueStore): Promise<AvailabilityStore> {
    const store = new AvailabilityStore(db);
    for await (const [, value] of db.entries(AVAILABILITY_PREFIX)) {
      const availability = decodeRecord<StoredAvailability>(value);
      store.#availabilities.set(availability.id, availability);
    }
    for await (const [, value] of db.entries(RESERVATION_PREFIX)) {
      const reservation = decodeRecord<Reservation>(value);
      store.#reservations.set(reservation.slotId, reservation);
    }
    return store;
  }

  /** Every availability with its free amounts, oldest first. */
  list(): Availability[] {
    return [...this.#availabilities.values()]
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((a) => this.#withFree(a));
  }

  get(id: string): Availability {
    const stored = this.#availabilities.get(id);
    if (!stored) throw new HoldfastError("ERR_NOT_FOUND", `no availability ${id}`);
    return this.#withFree(stored);
  }

  reservations(): Reservation[] {
    return [...this.#reservations.values()];
  }

  reservation(slotId: string): Reservation | undefined {
    return this.#reservations.get(slotId);
  }

  async create(input: AvailabilityInput): Promise<Availability> {
    checkAvailabilityInput(input);
    const stored: StoredAvailability = { id: randomUUID(), ...input, createdAt: Date.now() };
    return this.#serially(async () => {
      await this.#db.write([this.#putOp(stored)], { sync: true });
      this.#availabilities.set(stored.id, stored);
      return this.#withFree(stored);
    });
  }

  /**
   * Changes some fields. Shrinking the total size or collateral below what running sales have
   * reserved is refused (ERR_INVALID_ARGUMENT): their space and collateral are already promised.
   */
  async update(id: string, patch: Partial<AvailabilityInput>): Promise<Availability> {
    checkAvailabilityInput(patch);
    return this.#serially(async () => {
      const current = this.#availabilities.get(id);
      if (!current) throw new HoldfastError("ERR_NOT_FOUND", `no availability ${id}`);
      const next: StoredAvailability = { ...current, ...definedFields(patch) };
      const held = this.#held(id);
      if (next.totalSize < held.size) {
        throw new HoldfastError(
          "ERR_INVALID_ARGUMENT",
          `totalSize ${next.totalSize} is below the ${held.size} bytes reserved by running sales`,
        );
      }
      if (next.totalCollateral < held.collateral) {
        throw new HoldfastError(
          "ERR_INVALID_ARGUMENT",
          `totalCollateral ${next.totalCollateral} is below the ${held.collateral} reserved by running sales`,
        );
      }
      await this.#db.write([this.#putOp(next)], { sync: true });
      this.#availabilities.set(id, next);
      return this.#withFree(next);
    });
  }

  /**
   * Finds the availability that best takes a slot with `terms` and reserves the slot's size and
   * collateral there, writing `with` (the sale's record) in the same batch: a sale and its
   * reservation exist together or not at all. Returns the reasons of every availability when none
   * can take it.
   */
  async reserve(
    slotId: string,
    terms: SlotTerms,
    now: bigint,
    withOps: (availabilityId: string) => BatchOp[],
  ): Promise<
    | { availability: Availability; reservation: Reservation }
    | { mismatches: { availabilityId: string; reasons: MismatchReason[] }[] }
  > {
    return this.#serially(async () => {
      const candidates = this.list();
      const best = findAvailability(candidates, terms, now);
      if (!best) {
        return {
          mismatches: candidates.map((a) => ({
            availabilityId: a.id,
            reasons: mismatches(a, terms, now),
          })),
        };
      }
      const reservation: Reservation = {
        slotId,
        availabilityId: best.id,
        size: terms.slotSize,
        collateral: terms.collateralPerByte * terms.slotSize,
        createdAt: Date.now(),
      };
      await this.#db.write(
        [
          { type: "put", key: RESERVATION_PREFIX + slotId, value: encodeRecord(reservation) },
          ...withOps(best.id),
        ],
        { sync: true },
      );
      this.#reservations.set(slotId, reservation);
      return { availability: this.get(best.id), reservation };
    });
  }

  /** The batch operation that releases the slot's reservation; call `released` once written. */
  releaseOp(slotId: string): BatchOp[] {
    return this.#reservations.has(slotId)
      ? [{ type: "del", key: RESERVATION_PREFIX + slotId }]
      : [];
  }

  released(slotId: string): void {
    this.#reservations.delete(slotId);
  }

  /** Releases a reservation on its own (one whose sale ended without it being released). */
  async release(slotId: string): Promise<void> {
    const ops = this.releaseOp(slotId);
    if (ops.length === 0) return;
    await this.#db.write(ops, { sync: true });
    this.released(slotId);
  }

  /** Size and collateral held by the reservations on `availabilityId`. */
  #held(availabilityId: string): { size: bigint; collateral: bigint } {
    let size = 0n;
    let collateral = 0n;
    for (const r of this.#reservations.values()) {
      if (r.availabilityId !== availabilityId) continue;
      size += r.size;
      collateral += r.collateral;
    }
    return { size, collateral };
  }

  #withFree(stored: StoredAvailability): Availability {
    const held = this.#held(stored.id);
    const { createdAt: _createdAt, ...availability } = stored;
    return {
      ...availability,
      freeSize: stored.totalSize - held.size,
      freeCollateral: stored.totalCollateral - held.collateral,
    };
  }

  #putOp(stored: StoredAvailability): BatchOp {
    return { type: "put", key: AVAILABILITY_PREFIX + stored.id, value: encodeRecord(stored) };
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => {});
    return run;
  }
}

function definedFields<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
