/**
 * The sales state machine: one step per state, each reading the chain, doing its work and saving
 * the sale in its next state (synced) before the next state acts on chain. A sale's life:
 *
 *   matching -> reserving -> downloading -> initialProving -> filling -> filled -> proving -> payout
 *   -> finished | cancelled | failed, and ignored / errored from any pre-fill state.
 *
 * `step` runs one state; `prove` is one period of the proving loop; `reconcile` maps a persisted
 * sale onto what the chain says after a restart or an abort.
 */
import { toUtf8String } from "ethers";
import type { Logger } from "pino";
import type { RequestState, StorageRequest } from "../chain/marketplace-client.js";
import { parseCid } from "../blocks/cid.js";
import { isHoldfastError } from "../errors.js";
import type { Manifest } from "../manifest/manifest.js";
import { BLOCK_SIZE } from "../blocks/constants.js";
import { StorageProofError } from "../proof/errors.js";
import { dataSetRootFromMerkleRoot } from "../proof/public-inputs.js";
import type { ProvableSlot } from "../proof/slot-tree.js";
import { fieldFromHex } from "../slots/field.js";
import type { AvailabilityStore } from "./availability-store.js";
import type { SalesMetrics } from "./metrics.js";
import type { SalesChain, SlotData, SlotProver } from "./ports.js";
import { revertName } from "./ports.js";
import {
  FETCHED_STATES,
  PRE_FILL_STATES,
  type SaleRecord,
  type SaleState,
  isTerminal,
} from "./records.js";
import { SaleStore } from "./sale-store.js";

export interface SaleMachineDeps {
  chain: SalesChain;
  data: SlotData;
  prover: SlotProver;
  availabilities: AvailabilityStore;
  sales: SaleStore;
  log: Pick<Logger, "info" | "warn" | "error" | "debug">;
  metrics?: SalesMetrics;
  /** Download and fill attempts before a sale errors (default 3). */
  maxAttempts?: number;
  /** Milliseconds before a failed download is tried again (default 2000). */
  retryDelayMs?: number;
}

/** What a step did: the sale in its new state, and whether to try it again later. */
export interface StepResult {
  record: SaleRecord;
  /** The sale waits (reservation window, download retry): run it again after this long. */
  retryAfterMs?: number;
}

/** Proofs made for one period's required proof at most (the challenge can move while proving). */
const MAX_PROOF_ATTEMPTS = 3;

/** The request states in which a slot can still be sold, and what a sale ends as otherwise. */
const ENDED: Partial<Record<RequestState, { state: SaleState; reason: string }>> = {
  cancelled: {
    state: "cancelled",
    reason: "the request was cancelled (expired before it started)",
  },
  failed: { state: "failed", reason: "the request failed" },
  finished: { state: "ignored", reason: "the request has finished" },
};

export class SaleMachine {
  readonly #d: SaleMachineDeps;
  readonly #maxAttempts: number;
  readonly #retryDelayMs: number;

  constructor(deps: SaleMachineDeps) {
    this.#d = deps;
    this.#maxAttempts = deps.maxAttempts ?? 3;
    this.#retryDelayMs = deps.retryDelayMs ?? 2_000;
  }

  /** Runs the sale's current state once. Terminal and proving sales are returned unchanged. */
  async step(record: SaleRecord, signal?: AbortSignal): Promise<StepResult> {
    switch (record.state) {
      case "matching":
        return this.#matching(record);
      case "reserving":
        return this.#reserving(record, signal);
      case "downloading":
        return this.#downloading(record, signal);
      case "initialProving":
        return this.#initialProving(record, signal);
      case "filling":
        return this.#filling(record, signal);
      case "filled":
        return this.#filled(record);
      case "payout":
        return this.#payout(record, signal);
      default:
        return { record };
    }
  }

  /** Saves the sale in `state` with `changes`. */
  async move(
    record: SaleRecord,
    state: SaleState,
    changes: Partial<SaleRecord> = {},
  ): Promise<SaleRecord> {
    const next = await this.#d.sales.save(SaleStore.next(record, { ...changes, state }));
    if (isTerminal(state)) void this.releaseData(next);
    const level = state === "errored" || state === "failed" ? "warn" : "info";
    this.#d.log[level](
      {
        slotId: record.slotId,
        requestId: record.requestId,
        slotIndex: record.slotIndex,
        state,
        reason: changes.reason,
      },
      `sale ${record.state} -> ${state}`,
    );
    return next;
  }

  /** Ends a sale that hit an error nothing in its state handles: recorded, reservation released. */
  errored(record: SaleRecord, error: unknown): Promise<SaleRecord> {
    return this.move(record, "errored", { reason: describe(error) });
  }

  // ---- pre-fill ----

  /** Finds an availability for the slot's terms and reserves its space and collateral. */
  async #matching(record: SaleRecord): Promise<StepResult> {
    const { chain, availabilities, sales } = this.#d;
    const request = record.request ?? (await chain.getRequest(record.requestId));
    if (!request)
      return { record: await this.move(record, "ignored", { reason: "unknown request" }) };
    const ended = await this.#ended(record);
    if (ended) return { record: ended };
    const slotState = await chain.slotState(record.slotId);
    if (slotState !== "free" && slotState !== "repair")
      return { record: await this.move(record, "ignored", { reason: `the slot is ${slotState}` }) };
    const manifestCid = manifestCidOf(request);
    if (!manifestCid)
      return {
        record: await this.move(record, "ignored", { reason: "the request's cid is not a CID" }),
      };
    const [now, end] = await Promise.all([chain.now(), chain.requestEnd(record.requestId)]);
    if (end <= now)
      return { record: await this.move(record, "ignored", { reason: "the request has ended" }) };
    const terms = {
      slotSize: request.ask.slotSize,
      // A repaired slot is held for what is left of the request, a new one for all of it.
      duration: end - now,
      pricePerBytePerSecond: request.ask.pricePerBytePerSecond,
      collateralPerByte: request.ask.collateralPerByte,
    };
    const next = SaleStore.next(record, {
      state: "reserving",
      request,
      manifestCid,
      repair: slotState === "repair",
      reason: undefined,
      mismatches: undefined,
    });
    let reserved: SaleRecord | undefined;
    const result = await availabilities.reserve(record.slotId, terms, now, (availabilityId) => {
      reserved = { ...next, availabilityId };
      return [sales.putOp(reserved)];
    });
    if ("mismatches" in result) {
      return {
        record: await this.move(record, "ignored", {
          request,
          reason:
            result.mismatches.length === 0
              ? "no availability"
              : "no availability matches the slot's terms",
          mismatches: result.mismatches,
        }),
      };
    }
    sales.written(reserved!);
    this.#d.log.info(
      {
        slotId: record.slotId,
        availabilityId: result.availability.id,
        size: String(terms.slotSize),
      },
      "sale matching -> reserving",
    );
    return { record: reserved! };
  }

  /** Reserves the slot on chain; waits (back in matching) while outside the reservation window. */
  async #reserving(record: SaleRecord, signal?: AbortSignal): Promise<StepResult> {
    const { chain } = this.#d;
    const ended = await this.#ended(record);
    if (ended) return { record: ended };
    if ((await chain.getHost(record.slotId)) === chain.account)
      return { record: await this.move(record, "filled") };
    const index = BigInt(record.slotIndex);
    if (!(await chain.canReserveSlot(record.requestId, index, chain.account))) {
      const [now, eligibleAt] = await Promise.all([
        chain.now(),
        chain.reservationEligibleAt(record.requestId, index, chain.account),
      ]);
      if (now < eligibleAt) {
        const waited = await this.move(record, "matching", {
          reason: `outside the reservation window until ${eligibleAt}`,
        });
        // Chain time may run at another pace than ours: look again at least once a minute.
        const ms = Number(eligibleAt - now) * 1000;
        return { record: waited, retryAfterMs: Math.min(Math.max(ms, 1_000), 60_000) };
      }
      // Already reserved by this host (a crash after reserving), full, or closed: reserveSlot says which.
    }
    try {
      await chain.reserveSlot(record.requestId, index, signal);
    } catch (error) {
      const name = revertName(error);
      if (name === "SlotReservations_AlreadyReserved") {
        // ours from before a restart
      } else if (name === "SlotReservations_ReservationsFull") {
        return {
          record: await this.move(record, "ignored", {
            reason: "the slot's reservations are full",
          }),
        };
      } else if (name === "SlotReservations_SlotNotReservable") {
        return {
          record: await this.move(record, "ignored", { reason: "the slot is not reservable" }),
        };
      } else throw error;
    }
    return { record: await this.move(record, "downloading") };
  }

  /**
   * Fetches the slot over the network and checks it: a verifiable dataset with the request's
   * slot count and dataset root, and the slot's blocks giving the slot root of the manifest.
   */
  async #downloading(record: SaleRecord, signal?: AbortSignal): Promise<StepResult> {
    const { data } = this.#d;
    const filled = record.filledAt !== undefined;
    if (!filled) {
      const ended = await this.#ended(record);
      if (ended) return { record: ended };
    }
    const { manifestCid, request } = saleTerms(record);
    try {
      await data.fetch(manifestCid, record.slotIndex, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      const attempts = (record.attempts ?? 0) + 1;
      // A filled slot must get its data back: it keeps trying; an unsold one gives up.
      if (!filled && attempts >= this.#maxAttempts)
        return { record: await this.errored(record, error) };
      this.#d.log.warn(
        { slotId: record.slotId, attempts, err: error },
        "fetching the slot failed; trying again",
      );
      const waiting = await this.move(record, "downloading", { attempts, reason: describe(error) });
      return { record: waiting, retryAfterMs: this.#retryDelayMs };
    }
    const stored = await data.stored(manifestCid, record.slotIndex, signal);
    if (!stored)
      throw new Error(`slot ${record.slotIndex} of ${manifestCid} is not stored after fetching`);
    const problem = checkSlot(request, record.slotIndex, stored.manifest, stored.slot);
    if (problem) return { record: await this.move(record, "errored", { reason: problem }) };
    return {
      record: await this.move(record, filled ? "proving" : "initialProving", {
        attempts: 0,
        reason: undefined,
      }),
    };
  }

  /** Proves the slot for the current challenge: the proof fillSlot checks. */
  async #initialProving(record: SaleRecord, signal?: AbortSignal): Promise<StepResult> {
    const { chain } = this.#d;
    const ended = await this.#ended(record);
    if (ended) return { record: ended };
    const stored = await this.#d.data.stored(
      saleTerms(record).manifestCid,
      record.slotIndex,
      signal,
    );
    if (!stored) return { record: await this.move(record, "downloading") };
    const period = await chain.currentPeriod();
    const { proof } = await this.#prove(record, stored, "initial", signal);
    return { record: await this.move(record, "filling", { fillProof: { proof, period } }) };
  }

  /** Fills the slot with the proof, depositing the collateral. */
  async #filling(record: SaleRecord, signal?: AbortSignal): Promise<StepResult> {
    const { chain } = this.#d;
    const { request } = saleTerms(record);
    const again = async (reason: string) => {
      const attempts = (record.attempts ?? 0) + 1;
      if (attempts >= this.#maxAttempts)
        return {
          record: await this.move(record, "errored", { reason: `${reason}, ${attempts} times` }),
        };
      return {
        record: await this.move(record, "initialProving", {
          attempts,
          reason,
          fillProof: undefined,
        }),
      };
    };
    // A proof answers one period's challenge: one made in an earlier period is made again.
    if (!record.fillProof || record.fillProof.period !== (await chain.currentPeriod()))
      return again("the fill proof's period passed");
    const slotState = await chain.slotState(record.slotId);
    const full = request.ask.collateralPerByte * request.ask.slotSize;
    const collateral =
      slotState === "repair" ? full - (full * BigInt(chain.repairRewardPercentage)) / 100n : full;
    try {
      const filled = await chain.fillSlot(
        record.requestId,
        BigInt(record.slotIndex),
        record.fillProof.proof,
        collateral,
        signal,
      );
      return {
        record: await this.move(record, "filled", {
          collateral,
          filledAt: filled.timestamp,
          filledBlock: filled.blockNumber,
          fillProof: undefined,
          attempts: 0,
          reason: undefined,
        }),
      };
    } catch (error) {
      const name = revertName(error);
      if (name === "Marketplace_SlotNotFree") {
        if ((await chain.getHost(record.slotId)) === chain.account)
          return {
            record: await this.move(record, "filled", { collateral, fillProof: undefined }),
          };
        const ended = await this.#ended(record);
        if (ended) return { record: ended };
        return {
          record: await this.move(record, "ignored", { reason: "another host filled the slot" }),
        };
      }
      if (name === "Proofs_InvalidProof") return again("the chain refused the fill proof");
      if (name === "Marketplace_ReservationRequired") {
        return {
          record: await this.move(record, "reserving", {
            fillProof: undefined,
            reason: "the reservation was gone",
          }),
        };
      }
      throw error;
    }
  }

  /** Checks the slot is this host's, then hands it to the proving loop. */
  async #filled(record: SaleRecord): Promise<StepResult> {
    const { chain } = this.#d;
    if ((await chain.getHost(record.slotId)) !== chain.account) {
      const ended = await this.#ended(record);
      if (ended) return { record: ended };
      return {
        record: await this.move(record, "failed", { reason: "not the slot's host after filling" }),
      };
    }
    const changes: Partial<SaleRecord> = {};
    // Filled before a crash lost the fill's receipt: what the chain holds is what was deposited.
    if (record.collateral === undefined)
      changes.collateral =
        saleTerms(record).request.ask.collateralPerByte * saleTerms(record).request.ask.slotSize;
    return { record: await this.move(record, "proving", changes) };
  }

  // ---- proving ----

  /**
   * One look at a proving sale, meant once per period or more often: an ended request goes to
   * payout; a slot no longer this host's fails; a proof required for the current period (or one
   * that will be, once the downtime ends) is made and submitted before the period ends. A proof
   * that cannot be submitted in time is counted as missed and logged.
   */
  async prove(record: SaleRecord, signal?: AbortSignal): Promise<SaleRecord> {
    const { chain } = this.#d;
    const slotState = await chain.slotState(record.slotId);
    if (
      slotState === "finished" ||
      slotState === "cancelled" ||
      slotState === "failed" ||
      slotState === "paid"
    ) {
      return (await this.#payout(await this.move(record, "payout"), signal)).record;
    }
    if (slotState !== "filled" || (await chain.getHost(record.slotId)) !== chain.account) {
      return this.move(record, "failed", {
        reason: `the slot was taken from this host (it is ${slotState})`,
      });
    }
    const period = await chain.currentPeriod();
    if (record.lastCheckedPeriod === period) return record;
    if (record.lastCheckedPeriod !== undefined && period - record.lastCheckedPeriod > 1n) {
      // Whether those periods asked for proofs cannot be read any more; validators may mark them.
      this.#d.log.warn(
        {
          slotId: record.slotId,
          from: String(record.lastCheckedPeriod + 1n),
          to: String(period - 1n),
        },
        "periods passed without a look at the slot (node down or prover busy)",
      );
    }
    const required =
      (await chain.isProofRequired(record.slotId)) ||
      (await chain.willProofBeRequired(record.slotId));
    if (!required) return this.#note(record, { lastCheckedPeriod: period });

    const stored = await this.#d.data.stored(
      saleTerms(record).manifestCid,
      record.slotIndex,
      signal,
    );
    if (!stored) {
      this.#d.log.warn({ slotId: record.slotId }, "the slot's data is missing: fetching it again");
      this.#missed(record, period, "the slot's data is missing");
      return this.move(record, "downloading", {
        proofsMissed: record.proofsMissed + 1,
        lastCheckedPeriod: period,
      });
    }
    // The challenge moves within a period when the slot's proof pointer wraps (every 256 blocks),
    // and a proof made against the old one is refused. A challenge read at the latest block is
    // already stale when that block is the last before a wrap, since the transaction lands in a
    // later block. So the challenge is read again before sending and after a refusal, and the proof
    // is made again against a new one while the period lasts.
    for (let attempt = 1; ; attempt++) {
      let challenge: string | undefined;
      try {
        const made = await this.#prove(record, stored, "period", signal);
        ({ challenge } = made);
        const [now, challengeNow] = await Promise.all([
          chain.currentPeriod(),
          chain.getChallenge(record.slotId),
        ]);
        if (now !== period) {
          this.#missed(record, period, `the proof was ready only in period ${now}`);
          return this.#note(record, {
            proofsMissed: record.proofsMissed + 1,
            lastCheckedPeriod: period,
          });
        }
        if (challengeNow !== challenge && attempt < MAX_PROOF_ATTEMPTS) {
          this.#d.log.info(
            { slotId: record.slotId, period: String(period), attempt },
            "the challenge moved while proving: proving again",
          );
          continue;
        }
        await chain.submitProof(record.slotId, made.proof, signal);
        this.#d.metrics?.proofsSubmitted.inc();
        this.#d.log.info({ slotId: record.slotId, period: String(period) }, "proof submitted");
        return this.#note(record, {
          proofsSubmitted: record.proofsSubmitted + 1,
          lastProofPeriod: period,
          lastCheckedPeriod: period,
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        const name = revertName(error);
        if (name === "Proofs_ProofAlreadySubmitted")
          return this.#note(record, { lastProofPeriod: period, lastCheckedPeriod: period });
        if (name === "Proofs_InvalidProof") {
          // Refused: the pointer may have wrapped between the check and the block that took the
          // transaction. Proving again helps only against a new challenge.
          const [now, challengeNow] = await Promise.all([
            chain.currentPeriod(),
            chain.getChallenge(record.slotId),
          ]);
          this.#d.log.warn(
            {
              slotId: record.slotId,
              period: String(period),
              periodNow: String(now),
              challenge,
              challengeNow,
              attempt,
            },
            "the chain refused the proof as invalid",
          );
          if (now === period && challengeNow !== challenge && attempt < MAX_PROOF_ATTEMPTS)
            continue;
        }
        this.#missed(record, period, describe(error));
        return this.#note(record, {
          proofsMissed: record.proofsMissed + 1,
          lastCheckedPeriod: period,
        });
      }
    }
  }

  // ---- payout ----

  /** Frees the slot of an ended request, collecting payment and collateral (SlotPaid). */
  async #payout(record: SaleRecord, signal?: AbortSignal): Promise<StepResult> {
    const { chain } = this.#d;
    const requestState = await chain.requestState(record.requestId);
    // Freeing a slot of a running request would forfeit its collateral: only ended ones are freed.
    if (requestState === "new" || requestState === "started")
      return { record: await this.move(record, "proving") };
    const final: SaleState =
      requestState === "finished"
        ? "finished"
        : requestState === "cancelled"
          ? "cancelled"
          : "failed";
    let paid: bigint | undefined;
    try {
      ({ paid } = await chain.freeSlot(record.slotId, signal));
    } catch (error) {
      const name = revertName(error);
      if (name === "Marketplace_AlreadyPaid") {
        paid = await chain.slotPayment(record.slotId, record.filledBlock ?? 0);
      } else if (name === "Marketplace_InvalidSlotHost") {
        return {
          record: await this.move(record, "failed", {
            reason: "removed from the slot before the request ended: nothing to collect",
          }),
        };
      } else throw error;
    }
    if (paid !== undefined && record.payout === undefined) {
      const earned = paid - (record.collateral ?? 0n);
      if (earned > 0n) this.#d.metrics?.earned.inc(Number(earned));
    }
    return {
      record: await this.move(record, final, {
        payout: paid ?? record.payout,
        reason: final === "finished" ? undefined : `the request ${requestState}`,
      }),
    };
  }

  // ---- restart ----

  /**
   * Maps a persisted, non-terminal sale onto the chain's state: a pre-fill sale whose slot this
   * host already holds is filled; one whose request ended ends; a filled sale whose data is gone
   * fetches it again. Returns the sale to resume.
   */
  async reconcile(record: SaleRecord): Promise<SaleRecord> {
    const { chain, data } = this.#d;
    if (isTerminal(record.state)) return record;
    const holds = record.filledAt !== undefined || !PRE_FILL_STATES.has(record.state);
    if (!holds) {
      if (record.state !== "matching" && (await chain.getHost(record.slotId)) === chain.account)
        return this.move(record, "filled", { fillProof: undefined });
      return (await this.#ended(record)) ?? record;
    }
    if (record.state === "filled" || record.state === "proving") {
      const stored = await data.stored(saleTerms(record).manifestCid, record.slotIndex);
      if (!stored)
        return this.move(record, "downloading", { reason: "the slot's data was missing at start" });
    }
    return record;
  }

  /**
   * Deletes the slot data of an ended sale unless a running sale of this host uses the same slot
   * (another request for the same dataset). Never throws: a failure is logged, and the next start
   * tries again (Sales runs this for every ended sale then).
   */
  async releaseData(record: SaleRecord): Promise<void> {
    const { manifestCid, slotIndex } = record;
    if (!manifestCid || !isTerminal(record.state) || !this.#d.data.release) return;
    // Only a sale that fetched the slot owns its data: an ignored one never did, and the slot may
    // be stored for another reason (a fetch through the API).
    if (!record.history.some((h) => FETCHED_STATES.has(h.state))) return;
    const unused = () =>
      !this.#d.sales
        .list()
        .some(
          (r) => !isTerminal(r.state) && r.manifestCid === manifestCid && r.slotIndex === slotIndex,
        );
    try {
      await this.#d.data.release(manifestCid, slotIndex, unused);
    } catch (error) {
      this.#d.log.warn(
        { err: error, slotId: record.slotId, manifestCid, slotIndex },
        "deleting the data of an ended sale failed",
      );
    }
  }

  // ---- helpers ----

  /** Ends a sale whose request can no longer take it (cancelled, failed, finished). */
  async #ended(record: SaleRecord): Promise<SaleRecord | undefined> {
    const ended = ENDED[await this.#d.chain.requestState(record.requestId)];
    return ended ? this.move(record, ended.state, { reason: ended.reason }) : undefined;
  }

  async #prove(
    record: SaleRecord,
    stored: { manifest: Manifest; slot: ProvableSlot },
    kind: "initial" | "period",
    signal?: AbortSignal,
  ) {
    const { chain, prover, metrics } = this.#d;
    const challenge = await chain.getChallenge(record.slotId);
    const started = performance.now();
    const proof = await prover.prove(
      {
        challenge,
        merkleRoot: saleTerms(record).request.content.merkleRoot,
        slotIndex: record.slotIndex,
        slotRoots: slotRootsOf(stored.manifest),
        slot: stored.slot,
      },
      { urgent: kind === "period", ...(signal ? { signal } : {}) },
    );
    metrics?.provingSeconds.observe({ kind }, (performance.now() - started) / 1000);
    return { proof, challenge };
  }

  async #note(record: SaleRecord, changes: Partial<SaleRecord>): Promise<SaleRecord> {
    return this.#d.sales.save(SaleStore.next(record, changes));
  }

  #missed(record: SaleRecord, period: bigint, reason: string): void {
    this.#d.metrics?.proofsMissed.inc();
    this.#d.log.error(
      { slotId: record.slotId, period: String(period), reason },
      "a required proof was missed",
    );
  }
}

/** The request and manifest CID a sale past matching carries. */
function saleTerms(record: SaleRecord): { request: StorageRequest; manifestCid: string } {
  if (!record.request || !record.manifestCid)
    throw new Error(`internal: sale ${record.slotId} in ${record.state} has no request`);
  return { request: record.request, manifestCid: record.manifestCid };
}

/** The manifest CID in a request's content.cid (UTF-8 bytes), or undefined if it is not one. */
export function manifestCidOf(request: StorageRequest): string | undefined {
  try {
    return parseCid(toUtf8String(request.content.cid)).toString();
  } catch {
    return undefined;
  }
}

function slotRootsOf(manifest: Manifest): bigint[] {
  return (manifest.verifiable?.slotRoots ?? []).map((hex) => fieldFromHex(hex) ?? -1n);
}

/**
 * Why a fetched slot cannot be sold for the request, or undefined when it can: the dataset must be
 * verifiable, with the request's number of slots, its dataset root, a slot no larger than the
 * request's slot size, and the slot's blocks must give the manifest's root for the slot.
 */
export function checkSlot(
  request: StorageRequest,
  slotIndex: number,
  manifest: Manifest,
  slot: ProvableSlot,
): string | undefined {
  const verifiable = manifest.verifiable;
  if (!verifiable) return "the request's dataset is not verifiable (no slot roots)";
  if (BigInt(verifiable.slotRoots.length) !== request.ask.slots)
    return `the dataset has ${verifiable.slotRoots.length} slots, the request ${request.ask.slots}`;
  let requestRoot: bigint;
  try {
    requestRoot = dataSetRootFromMerkleRoot(request.content.merkleRoot);
  } catch {
    return "the request's merkle root is not a field element";
  }
  if (fieldFromHex(verifiable.datasetRoot) !== requestRoot)
    return "the dataset root of the manifest is not the request's merkle root";
  // The slot's own blocks (its padding to a power of two is not stored) are what the host keeps.
  const slotBytes =
    BigInt(Math.ceil(manifest.blocksCount / verifiable.slotRoots.length)) * BigInt(BLOCK_SIZE);
  if (slotBytes > request.ask.slotSize)
    return `the slot holds ${slotBytes} bytes, more than the request's slot size ${request.ask.slotSize}`;
  if (fieldFromHex(verifiable.slotRoots[slotIndex] ?? "") !== slot.root)
    return `the fetched slot's root is not the manifest's root of slot ${slotIndex}`;
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof StorageProofError || isHoldfastError(error))
    return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
