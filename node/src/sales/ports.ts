/**
 * What the sales state machine needs from the outside, as small interfaces: the chain, the slot's
 * data and a prover. The node implements them over the MarketplaceClient, the peer-to-peer slot
 * store and the circuit's prover (chain-port.ts, slot-data.ts, slot-prover.ts); unit tests of the
 * state logic give fakes.
 */
import type { RequestState, SlotState, StorageRequest } from "../chain/marketplace-client.js";
import { TransactionError } from "../chain/transaction-manager.js";
import type { Manifest } from "../manifest/manifest.js";
import type { Groth16ProofArg } from "../proof/groth16-encoding.js";
import type { ProvableSlot } from "../proof/slot-tree.js";

export interface SalesChain {
  /** The host's account. */
  readonly account: string;
  /** The marketplace's proof period, seconds. */
  readonly period: bigint;
  readonly repairRewardPercentage: number;
  now(): Promise<bigint>;
  getRequest(requestId: string): Promise<StorageRequest | undefined>;
  requestState(requestId: string): Promise<RequestState>;
  requestEnd(requestId: string): Promise<bigint>;
  slotState(slotId: string): Promise<SlotState>;
  getHost(slotId: string): Promise<string | undefined>;
  currentPeriod(): Promise<bigint>;
  getChallenge(slotId: string): Promise<string>;
  isProofRequired(slotId: string): Promise<boolean>;
  willProofBeRequired(slotId: string): Promise<boolean>;
  canReserveSlot(requestId: string, slotIndex: bigint, host: string): Promise<boolean>;
  reservationEligibleAt(requestId: string, slotIndex: bigint, host: string): Promise<bigint>;
  reserveSlot(requestId: string, slotIndex: bigint, signal?: AbortSignal): Promise<void>;
  /** Fills the slot, depositing `collateral`; returns the fill's block and chain time. */
  fillSlot(
    requestId: string,
    slotIndex: bigint,
    proof: Groth16ProofArg,
    collateral: bigint,
    signal?: AbortSignal,
  ): Promise<{ blockNumber: number; timestamp: bigint }>;
  submitProof(slotId: string, proof: Groth16ProofArg, signal?: AbortSignal): Promise<void>;
  /** Frees the slot; returns what SlotPaid paid (undefined when the host was removed, not paid). */
  freeSlot(slotId: string, signal?: AbortSignal): Promise<{ paid: bigint | undefined }>;
  /** What SlotPaid paid for the slot, looking from `fromBlock`; undefined when not paid. */
  slotPayment(slotId: string, fromBlock: number): Promise<bigint | undefined>;
}

/** The slot's data on this node. */
export interface SlotData {
  /** Fetches the slot into the node's slot store (a no-op when it is there). */
  fetch(manifestCid: string, slotIndex: number, signal?: AbortSignal): Promise<void>;
  /** The stored slot with its dataset's manifest; undefined when the node does not hold it. */
  stored(
    manifestCid: string,
    slotIndex: number,
    signal?: AbortSignal,
  ): Promise<{ manifest: Manifest; slot: ProvableSlot } | undefined>;
  /**
   * A sale of the slot ended. Once earlier fetches of the slot are done, and if `unused()` still
   * holds then (no running sale of this host needs the slot), drops what is cached for it and
   * deletes its stored data, whose bytes go back to the storage quota.
   */
  release?(manifestCid: string, slotIndex: number, unused: () => boolean): Promise<void>;
}

export interface SlotProofRequest {
  /** getChallenge of the slot, now. */
  challenge: string;
  /** The request's content.merkleRoot. */
  merkleRoot: string;
  slotIndex: number;
  slotRoots: readonly bigint[];
  slot: ProvableSlot;
}

export interface SlotProver {
  /**
   * A proof for the request. `urgent` proofs (a period's proof, due before the period ends) go
   * before initial proofs waiting for the one prover.
   */
  prove(
    request: SlotProofRequest,
    options: { urgent: boolean; signal?: AbortSignal },
  ): Promise<Groth16ProofArg>;
  close(): Promise<void>;
}

/** The contract error a reverted transaction carries ("Marketplace_SlotNotFree"), if any. */
export function revertName(error: unknown): string | undefined {
  if (!(error instanceof TransactionError) || error.code !== "REVERTED") return undefined;
  return /^([A-Za-z0-9_]+)\(/.exec(error.reason)?.[1];
}
