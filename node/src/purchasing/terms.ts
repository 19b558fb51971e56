/**
 * The terms a client asks storage under (the body of POST /storage/request/{cid}), checked here
 * against the same rules the Marketplace's requestStorage enforces (contracts/marketplace/
 * Marketplace.sol), so a client learns what is wrong before it pays for gas. `nodes` and
 * `tolerance` are Codex's: the dataset is erasure coded into nodes = K + M slots of which any
 * tolerance = M may be lost (ecK = nodes - tolerance, ecM = tolerance, maxSlotLoss = tolerance).
 */
import { HoldfastError } from "../errors.js";
import { MAX_SHARDS } from "../erasure/reed-solomon.js";

export interface StorageTerms {
  /** Seconds the data is stored for, from the request. */
  duration: bigint;
  /** Tokens per byte of slot per second, paid to each slot's host. */
  pricePerBytePerSecond: bigint;
  /** A proof is required on average once every this many periods. */
  proofProbability: bigint;
  /** Tokens per byte of slot a host deposits as collateral. */
  collateralPerByte: bigint;
  /** Seconds after the request by which every slot must be filled, else it is cancelled. */
  expiry: bigint;
  /** Slots: K + M. */
  nodes: number;
  /** Slots that may be lost: M (parity), the request's maxSlotLoss. */
  tolerance: number;
}

/** Codex's defaults for the optional fields (codex-storage/nim-codex, codex/rest/api.nim). */
export const DEFAULT_NODES = 3;
export const DEFAULT_TOLERANCE = 1;

const FIELDS = [
  "duration",
  "pricePerBytePerSecond",
  "proofProbability",
  "collateralPerByte",
  "expiry",
  "nodes",
  "tolerance",
] as const;

const UINT32_MAX = 2n ** 32n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const UINT128_MAX = 2n ** 128n - 1n;

function invalid(message: string): HoldfastError {
  return new HoldfastError("ERR_INVALID_ARGUMENT", message);
}

/** A positive integer given as a JSON number or a decimal string (for values beyond 2^53). */
function positiveInteger(name: string, value: unknown): bigint {
  let parsed: bigint | undefined;
  if (typeof value === "number" && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === "string" && /^[0-9]{1,78}$/.test(value)) parsed = BigInt(value);
  if (parsed === undefined) {
    throw invalid(
      `${name} must be a positive integer, as a JSON number or a decimal string; got ${JSON.stringify(value)}`,
    );
  }
  if (parsed < 1n) throw invalid(`${name} must be at least 1, got ${parsed}`);
  return parsed;
}

/**
 * Checks a request body; throws ERR_INVALID_ARGUMENT naming the first field that breaks a rule.
 * `durationLimit` is the marketplace's requestDurationLimit.
 */
export function parseTerms(body: unknown, durationLimit: bigint): StorageTerms {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("the request body must be a JSON object with the storage terms");
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !(FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw invalid(`unknown field ${unknown[0]}; the terms are ${FIELDS.join(", ")}`);
  }
  for (const name of [
    "duration",
    "pricePerBytePerSecond",
    "proofProbability",
    "collateralPerByte",
    "expiry",
  ]) {
    if (fields[name] === undefined) throw invalid(`${name} is required`);
  }
  const duration = positiveInteger("duration", fields.duration);
  if (duration > durationLimit) {
    throw invalid(
      `duration ${duration} s exceeds the marketplace's limit of ${durationLimit} s (Marketplace_DurationExceedsLimit)`,
    );
  }
  const pricePerBytePerSecond = positiveInteger(
    "pricePerBytePerSecond",
    fields.pricePerBytePerSecond,
  );
  const proofProbability = positiveInteger("proofProbability", fields.proofProbability);
  if (proofProbability > UINT32_MAX) {
    throw invalid(
      `proofProbability must be below 2^32, got ${proofProbability} (Marketplace_ProofProbabilityTooLarge)`,
    );
  }
  const collateralPerByte = positiveInteger("collateralPerByte", fields.collateralPerByte);
  const expiry = positiveInteger("expiry", fields.expiry);
  // The contract takes expiry == duration; like Codex we insist on a request that can run after it fills.
  if (expiry >= duration) {
    throw invalid(
      `expiry (${expiry} s) must be shorter than duration (${duration} s): the slots must be filled before the storage ends`,
    );
  }
  const nodes = Number(positiveInteger("nodes", fields.nodes ?? DEFAULT_NODES));
  if (nodes > MAX_SHARDS) throw invalid(`nodes must be at most ${MAX_SHARDS}, got ${nodes}`);
  const tolerance = Number(positiveInteger("tolerance", fields.tolerance ?? DEFAULT_TOLERANCE));
  if (tolerance >= nodes) {
    throw invalid(
      `tolerance (${tolerance}) must be below nodes (${nodes}): at least one slot must hold data`,
    );
  }
  return {
    duration,
    pricePerBytePerSecond,
    proofProbability,
    collateralPerByte,
    expiry,
    nodes,
    tolerance,
  };
}

/** What a request with these terms and slot size escrows and asks of each host. */
export interface RequestAmounts {
  pricePerSlotPerSecond: bigint;
  collateralPerSlot: bigint;
  /** slots * duration * pricePerSlotPerSecond: what the client pays into the marketplace. */
  maxPrice: bigint;
}

/** The contract's Requests.amounts, refusing what it would (Marketplace_AmountTooLarge). */
export function requestAmounts(terms: StorageTerms, slotSize: bigint): RequestAmounts {
  if (slotSize > UINT64_MAX) throw invalid(`the slot size ${slotSize} does not fit 64 bits`);
  const pricePerSlotPerSecond = terms.pricePerBytePerSecond * slotSize;
  const collateralPerSlot = terms.collateralPerByte * slotSize;
  const slots = BigInt(terms.nodes);
  const maxPrice = slots * terms.duration * pricePerSlotPerSecond;
  const totalCollateral = slots * collateralPerSlot;
  if (maxPrice >= UINT128_MAX || totalCollateral >= UINT128_MAX - maxPrice) {
    throw invalid(
      `the price (${maxPrice}) and collateral (${totalCollateral}) of ${terms.nodes} slots of ${slotSize} bytes do not fit 128 bits (Marketplace_AmountTooLarge)`,
    );
  }
  return { pricePerSlotPerSecond, collateralPerSlot, maxPrice };
}
