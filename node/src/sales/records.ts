/**
 * What the host persists about its sales, in the node's LevelDB: one record per slot it worked on
 * ("sales/slot/<slotId>"), the reservation of availability space and collateral a running sale
 * holds ("sales/reservation/<slotId>") and the availabilities ("availability/<id>"). Values are
 * JSON with bigints tagged as { "$n": "<decimal>" }, so amounts keep every digit.
 */
import type { StorageRequest } from "../chain/marketplace-client.js";
import type { Groth16ProofArg } from "../proof/groth16-encoding.js";
import type { Availability, MismatchReason } from "./availability.js";

export const SALE_STATES = [
  "matching",
  "reserving",
  "downloading",
  "initialProving",
  "filling",
  "filled",
  "proving",
  "payout",
  "finished",
  "ignored",
  "cancelled",
  "failed",
  "errored",
] as const;
export type SaleState = (typeof SALE_STATES)[number];

/** States a sale never leaves; its reservation is released when it enters one. */
export const TERMINAL_STATES: ReadonlySet<SaleState> = new Set([
  "finished",
  "ignored",
  "cancelled",
  "failed",
  "errored",
]);

export const isTerminal = (state: SaleState) => TERMINAL_STATES.has(state);

/** States in which a sale has fetched, or is fetching, its slot's data. */
export const FETCHED_STATES: ReadonlySet<SaleState> = new Set([
  "downloading",
  "initialProving",
  "filling",
  "filled",
  "proving",
  "payout",
]);

/** States before the slot is ours on chain: a sale in one of these holds no collateral there. */
export const PRE_FILL_STATES: ReadonlySet<SaleState> = new Set([
  "matching",
  "reserving",
  "downloading",
  "initialProving",
  "filling",
]);

export interface SaleRecord {
  slotId: string;
  requestId: string;
  slotIndex: number;
  state: SaleState;
  /** Wall-clock milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Every state the sale entered, with when (wall-clock ms); bounded. */
  history: { state: SaleState; at: number }[];
  /** The request as the chain holds it, read when the sale started. */
  request?: StorageRequest;
  /** The dataset's manifest CID (the request's content.cid). */
  manifestCid?: string;
  availabilityId?: string;
  /** True when the slot was in Repair when the sale took it. */
  repair?: boolean;
  /** Why the sale ended where it did (ignored, cancelled, failed, errored) or is waiting. */
  reason?: string;
  /** Per availability, why it could not take the slot (ignored sales). */
  mismatches?: { availabilityId: string; reasons: MismatchReason[] }[];
  /** The proof made for filling and the period it answers (initialProving -> filling). */
  fillProof?: { proof: Groth16ProofArg; period: bigint };
  /** Failed fill or download attempts; bounded before the sale errors. */
  attempts?: number;
  /** Collateral deposited by fillSlot. */
  collateral?: bigint;
  /** Chain time (seconds) and block of the fill. */
  filledAt?: bigint;
  filledBlock?: number;
  proofsSubmitted: number;
  proofsMissed: number;
  /** Last period a proof was submitted for. */
  lastProofPeriod?: bigint;
  /** Last period the proving loop decided about (proof required or not). */
  lastCheckedPeriod?: bigint;
  /** What SlotPaid paid this host. */
  payout?: bigint;
}

/** What a running sale holds of an availability, released whatever way the sale ends. */
export interface Reservation {
  slotId: string;
  availabilityId: string;
  size: bigint;
  collateral: bigint;
  createdAt: number;
}

/** An availability as stored: free amounts are derived from the reservations, not stored. */
export type StoredAvailability = Omit<Availability, "freeSize" | "freeCollateral"> & {
  createdAt: number;
};

export const SALE_PREFIX = "sales/slot/";
export const RESERVATION_PREFIX = "sales/reservation/";
export const AVAILABILITY_PREFIX = "availability/";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** JSON with bigints tagged, so they come back as bigints. */
export function encodeRecord(value: unknown): Uint8Array {
  return encoder.encode(
    JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? { $n: v.toString() } : v)),
  );
}

export function decodeRecord<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes), (_key, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === "$n") return BigInt((v as { $n: string }).$n);
    }
    return v;
  }) as T;
}
