/**
 * What a host offers: space, for how long, at what minimum price, backed by how much collateral.
 * Sizes are bytes, durations seconds, prices and collateral token units (wei-like), all bigint
 * because on-chain amounts exceed 2^53.
 */
export interface Availability {
  id: string;
  totalSize: bigint;
  /** totalSize minus what reservations of running sales hold. */
  freeSize: bigint;
  /** Longest storage duration accepted, seconds. */
  duration: bigint;
  minPricePerBytePerSecond: bigint;
  totalCollateral: bigint;
  /** totalCollateral minus what running sales have locked. */
  freeCollateral: bigint;
  /** Unix seconds after which no storage may still be owed; 0 means no limit. */
  until: bigint;
  enabled: boolean;
}

/** The terms of one slot of a storage request, as the host sees them. */
export interface SlotTerms {
  slotSize: bigint;
  duration: bigint;
  pricePerBytePerSecond: bigint;
  collateralPerByte: bigint;
}

export type MismatchReason =
  | "disabled"
  | "not-enough-space"
  | "duration-too-long"
  | "price-too-low"
  | "not-enough-collateral"
  | "ends-after-until";

/**
 * Why `availability` cannot take a slot with these terms starting at `now` (unix seconds); an empty
 * list means it can. Every reason is reported, not just the first, so an operator sees at once what
 * to change.
 */
export function mismatches(
  availability: Availability,
  terms: SlotTerms,
  now: bigint,
): MismatchReason[] {
  const reasons: MismatchReason[] = [];
  if (!availability.enabled) reasons.push("disabled");
  if (availability.freeSize < terms.slotSize) reasons.push("not-enough-space");
  if (terms.duration > availability.duration) reasons.push("duration-too-long");
  if (terms.pricePerBytePerSecond < availability.minPricePerBytePerSecond)
    reasons.push("price-too-low");
  if (terms.collateralPerByte * terms.slotSize > availability.freeCollateral)
    reasons.push("not-enough-collateral");
  if (availability.until !== 0n && now + terms.duration > availability.until)
    reasons.push("ends-after-until");
  return reasons;
}

/** The first availability that can take the slot, preferring the one with the least free space left over. */
export function findAvailability(
  availabilities: readonly Availability[],
  terms: SlotTerms,
  now: bigint,
): Availability | undefined {
  let best: Availability | undefined;
  for (const candidate of availabilities) {
    if (mismatches(candidate, terms, now).length > 0) continue;
    if (!best || candidate.freeSize < best.freeSize) best = candidate;
  }
  return best;
}
