/**
 * A purchase: one storage request this node made as a client, with what the chain has said about
 * it since. Records live in the node's database under "purchases/<requestId>" and are written
 * synchronously before the node acts on-chain, so a crash never loses track of escrowed tokens.
 */
import type { StorageRequest } from "../chain/marketplace-client.js";
import { type KeyValueStore, jsonValue, parseJsonValue } from "../store/database.js";
import type { StorageTerms } from "./terms.js";

/**
 * pending: recorded, requestStorage not confirmed yet; submitted: on chain, waiting for hosts;
 * started: every slot filled; finished: ran to its end; cancelled: not filled before its expiry;
 * failed: lost more than `tolerance` slots; errored: never reached the chain (see `error`).
 */
export const PURCHASE_STATES = [
  "pending",
  "submitted",
  "started",
  "finished",
  "cancelled",
  "failed",
  "errored",
] as const;
export type PurchaseState = (typeof PURCHASE_STATES)[number];

/** States after which the request takes no hosts any more and the client collects its refund. */
export const ENDED_STATES: readonly PurchaseState[] = ["finished", "cancelled", "failed"];

export interface PurchaseRecord {
  /** The request's id on chain (keccak256 of the request), known before it is sent. */
  id: string;
  state: PurchaseState;
  /** The dataset id the client asked storage for. */
  cid: string;
  /** The verifiable manifest hosts fetch and prove: the request's content.cid. */
  manifestCid: string;
  terms: {
    duration: string;
    pricePerBytePerSecond: string;
    proofProbability: string;
    collateralPerByte: string;
    expiry: string;
    nodes: number;
    tolerance: number;
  };
  request: {
    client: string;
    ask: {
      proofProbability: string;
      pricePerBytePerSecond: string;
      collateralPerByte: string;
      slots: string;
      slotSize: string;
      duration: string;
      maxSlotLoss: string;
    };
    content: { cid: string; merkleRoot: string };
    expiry: string;
    nonce: string;
  };
  /** Tokens escrowed by requestStorage: slots * duration * pricePerBytePerSecond * slotSize. */
  price: string;
  /** The requestStorage transaction. */
  txHash?: string;
  /** Chain timestamps (unix seconds) of the request, its expiry and its end. */
  requestedAt?: number;
  expiresAt?: number;
  endsAt?: number;
  /** Indices of the slots a host holds now. */
  filledSlots: number[];
  /** Proofs the hosts of this request were marked missing for. */
  missedProofs: number;
  /** The client's withdrawals (FundsWithdrawn), by transaction. */
  withdrawals: { txHash: string; amount: string }[];
  /** True once the marketplace owes the client nothing more. */
  withdrawn: boolean;
  /** What the hosts collected from the request (SlotPaid: payment plus remaining collateral). */
  slotPayouts: { slotIndex: number; host: string; amount: string; txHash: string }[];
  /** Why the purchase errored, or the last failure the node is still retrying. */
  error?: string;
  createdAt: string;
  updatedAt: string;
  history: { state: PurchaseState; at: string }[];
  /** The last chain event applied (block, log index): a replayed range is not applied twice. */
  lastEvent?: [number, number];
}

const PREFIX = "purchases/";

export class PurchaseStore {
  constructor(private readonly db: KeyValueStore) {}

  async all(): Promise<PurchaseRecord[]> {
    const records: PurchaseRecord[] = [];
    for await (const [, value] of this.db.entries(PREFIX))
      records.push(parseJsonValue<PurchaseRecord>(value));
    return records;
  }

  /** Writes the record to disk before returning. */
  async save(record: PurchaseRecord): Promise<void> {
    record.updatedAt = new Date().toISOString();
    await this.db.write([{ type: "put", key: PREFIX + record.id, value: jsonValue(record) }], {
      sync: true,
    });
  }
}

/** A purchase about to be sent: pending, with nothing filled, paid or withdrawn yet. */
export function pendingPurchase(
  fields: Pick<PurchaseRecord, "id" | "cid" | "manifestCid" | "terms" | "request" | "price">,
  now = new Date().toISOString(),
): PurchaseRecord {
  return {
    ...fields,
    state: "pending",
    filledSlots: [],
    missedProofs: 0,
    withdrawals: [],
    withdrawn: false,
    slotPayouts: [],
    createdAt: now,
    updatedAt: now,
    history: [{ state: "pending", at: now }],
  };
}

export function termsJson(terms: StorageTerms): PurchaseRecord["terms"] {
  return {
    duration: terms.duration.toString(),
    pricePerBytePerSecond: terms.pricePerBytePerSecond.toString(),
    proofProbability: terms.proofProbability.toString(),
    collateralPerByte: terms.collateralPerByte.toString(),
    expiry: terms.expiry.toString(),
    nodes: terms.nodes,
    tolerance: terms.tolerance,
  };
}

export function requestJson(request: StorageRequest): PurchaseRecord["request"] {
  const { ask } = request;
  return {
    client: request.client,
    ask: {
      proofProbability: ask.proofProbability.toString(),
      pricePerBytePerSecond: ask.pricePerBytePerSecond.toString(),
      collateralPerByte: ask.collateralPerByte.toString(),
      slots: ask.slots.toString(),
      slotSize: ask.slotSize.toString(),
      duration: ask.duration.toString(),
      maxSlotLoss: ask.maxSlotLoss.toString(),
    },
    content: { ...request.content },
    expiry: request.expiry.toString(),
    nonce: request.nonce,
  };
}

/** Tokens the client got back so far. */
export function refunded(record: PurchaseRecord): bigint {
  return record.withdrawals.reduce((sum, w) => sum + BigInt(w.amount), 0n);
}

/** The record as the API shows it: without bookkeeping, with the refund summed. */
export function purchaseView(record: PurchaseRecord) {
  const { lastEvent: _lastEvent, ...shown } = record;
  return {
    ...shown,
    requestId: record.id,
    refunded: refunded(record).toString(),
    hostPayouts: record.slotPayouts.reduce((sum, p) => sum + BigInt(p.amount), 0n).toString(),
  };
}
export type PurchaseView = ReturnType<typeof purchaseView>;
