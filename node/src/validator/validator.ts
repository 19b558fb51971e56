/**
 * The validator role: watches the filled slots of its group, and after each period marks every
 * proof that was required and not submitted, for a share of the host's slash; collects that share.
 *
 * Each tick (every --eth-poll-interval ms, one at a time):
 * 1. reads new SlotFilled / SlotFreed / RequestFailed / RequestCancelled events through a LogPoller
 *    (persisted cursor, ranges split when a provider refuses a wide one) and updates the watched set;
 * 2. when the chain's time is inside the marking window of the last ended period p, [end of p,
 *    end of p + timeout), tries markProofAsMissing(slot, p) for every watched slot not yet settled
 *    for p. The TransactionManager estimates gas before it signs, against the block the transaction
 *    would go in: when the contract would revert, nothing is sent and the revert names why
 *    (Proofs_ProofNotMissing, Proofs_ProofNotRequired, ...). So checking costs one eth_estimateGas
 *    per slot per period and no gas, and only transactions that succeed at that block are sent.
 *    Slots of one request are marked one after the other (a mark can fail the request), requests
 *    concurrently;
 * 3. once per period, or after marking, withdraws the validator reward when there is one.
 *
 * Only a proof whose challenge pointer is in downtime can turn from "not required" to "required"
 * later in the window (the pointer leaves downtime block by block, see Proofs.sol); those slots are
 * re-checked on the next ticks, every other outcome settles the slot for the period. The contract
 * refuses a second mark of a period, so a restart or a second validator can never mark twice: they
 * find Proofs_ProofAlreadyMarkedMissing in the estimate. A transaction that still reverts after
 * its estimate passed lost a race (another validator's mark landed first) and is logged.
 */
import type { Logger } from "pino";
import { type MarketplaceClient, slotIdOf } from "../chain/marketplace-client.js";
import type { MarketplaceEvent } from "../chain/marketplace-client.js";
import type { LogPoller } from "../chain/log-poller.js";
import { TransactionError } from "../chain/transaction-manager.js";
import { HoldfastError } from "../errors.js";
import type { Role, RoleContext } from "../marketplace.js";
import { type ValidatorGroup, watchesSlot } from "./groups.js";
import { type CheckOutcome, ValidatorMetrics } from "./metrics.js";
import { type ValidatorTotals, ValidatorStore, type WatchedSlot } from "./store.js";

export interface ValidatorOptions {
  /** Milliseconds between ticks (default: the node's --eth-poll-interval). */
  intervalMs?: number;
  /** Requests whose slots are checked (and marked) at the same time. */
  concurrency?: number;
}

/** What GET /api/v1/validator reports. */
export interface ValidatorStatus {
  account: string;
  groups: number | undefined;
  groupIndex: number;
  slotsWatched: number;
  /** Since the node's database was created. */
  proofsMarkedMissing: number;
  rewardsWithdrawn: bigint;
  /** Earned and not withdrawn yet, read from the chain now. */
  rewardPending: bigint;
  /** The last period whose proofs this validator checked. */
  lastCheckedPeriod: bigint | undefined;
}

const EVENTS = ["SlotFilled", "SlotFreed", "RequestFailed", "RequestCancelled"] as const;

export class Validator implements Role {
  readonly #client: MarketplaceClient;
  readonly #account: string;
  readonly #group: ValidatorGroup;
  readonly #store: ValidatorStore;
  readonly #metrics: ValidatorMetrics;
  readonly #logger: Logger;
  readonly #poller: LogPoller;
  readonly #intervalMs: number;
  readonly #concurrency: number;
  readonly #slots = new Map<string, WatchedSlot>();
  readonly #abort = new AbortController();
  #totals: ValidatorTotals;
  #savingTotals: Promise<void> = Promise.resolve();
  /** The period being checked and the slots settled for it. */
  #period: bigint | undefined;
  readonly #settled = new Set<string>();
  /** About the block the next transaction or estimate lands in. */
  #nextBlock = 0;
  #rewardsCheckedIn: bigint | undefined;
  #markedSinceRewardCheck = false;
  #queue: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    context: RoleContext,
    store: ValidatorStore,
    slots: readonly WatchedSlot[],
    totals: ValidatorTotals,
    options: ValidatorOptions,
  ) {
    const { client, config } = context;
    this.#client = client;
    this.#account = client.account!;
    this.#group = { groups: config.validatorGroups, index: config.validatorGroupIndex };
    this.#store = store;
    this.#logger = context.logger.child({ role: "validator" });
    this.#intervalMs = options.intervalMs ?? config.ethPollInterval;
    this.#concurrency = options.concurrency ?? 8;
    for (const slot of slots) this.#slots.set(slot.slotId, slot);
    this.#totals = totals;
    this.#metrics = new ValidatorMetrics(context.metrics.registry, () => this.#slots.size);
    this.#poller = client.events({
      cursorKey: "validator",
      store: context.cursors,
      startBlock: context.startBlock,
      names: EVENTS,
      onEvents: (events) => this.#onEvents(events),
    });
  }

  /** Loads the watched set and totals from the database and starts ticking. */
  static async start(context: RoleContext, options: ValidatorOptions = {}): Promise<Validator> {
    if (context.client.account === undefined)
      throw new HoldfastError("ERR_INVALID_CONFIG", "--validator needs an account to sign with");
    const store = new ValidatorStore(context.db);
    const validator = new Validator(
      context,
      store,
      await store.slots(),
      await store.totals(),
      options,
    );
    validator.#logger.info(
      {
        account: validator.#account,
        groups: validator.#group.groups ?? "all",
        groupIndex: validator.#group.index,
        slots: validator.#slots.size,
      },
      "validator started",
    );
    validator.#schedule(0);
    return validator;
  }

  /** The slots this validator watches now. */
  get watchedSlots(): readonly WatchedSlot[] {
    return [...this.#slots.values()];
  }

  async status(): Promise<ValidatorStatus> {
    return {
      account: this.#account,
      groups: this.#group.groups,
      groupIndex: this.#group.index,
      slotsWatched: this.#slots.size,
      proofsMarkedMissing: this.#totals.proofsMarkedMissing,
      rewardsWithdrawn: this.#totals.rewardsWithdrawn,
      rewardPending: await this.#client.validatorReward(this.#account),
      lastCheckedPeriod: this.#period,
    };
  }

  /** Runs one tick after those already queued; resolves when it is done. Failures are logged. */
  tick(): Promise<void> {
    const run = this.#queue.then(() => this.#step());
    this.#queue = run.catch(() => {});
    return run;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#queue;
    await this.#savingTotals;
  }

  #schedule(delayMs: number): void {
    if (this.#abort.signal.aborted) return;
    this.#timer = setTimeout(() => {
      void this.tick().finally(() => this.#schedule(this.#intervalMs));
    }, delayMs);
  }

  async #step(): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return;
    try {
      await this.#poller.pollOnce(signal);
    } catch (error) {
      // Validate the slots known so far; the range is read again on the next tick.
      this.#fail("events", error, "reading marketplace events failed");
    }
    let head: { number: number; timestamp: bigint };
    try {
      head = await this.#client.head();
    } catch (error) {
      this.#fail("chain", error, "reading the chain's head failed");
      return;
    }
    const period = this.#client.periodOf(head.timestamp);
    if (period > 0n) {
      const missed = period - 1n;
      const closes = this.#client.periodEnd(missed) + this.#client.config.proofs.timeout;
      this.#nextBlock = head.number + 1;
      if (head.timestamp < closes) await this.#checkPeriod(missed, signal);
    }
    if (signal.aborted) return;
    if (this.#markedSinceRewardCheck || this.#rewardsCheckedIn !== period) {
      await this.#collectRewards(period, signal);
    }
  }

  async #onEvents(events: readonly MarketplaceEvent[]): Promise<void> {
    const touched = new Set<string>();
    for (const event of events) {
      if (event.name === "SlotFilled") {
        const slotId = slotIdOf(event.requestId, event.slotIndex);
        if (!watchesSlot(this.#group, slotId)) continue;
        this.#slots.set(slotId, { slotId, requestId: event.requestId, slotIndex: event.slotIndex });
        touched.add(slotId);
      } else if (event.name === "SlotFreed") {
        const slotId = slotIdOf(event.requestId, event.slotIndex);
        if (this.#slots.delete(slotId)) touched.add(slotId);
      } else if (event.name === "RequestFailed" || event.name === "RequestCancelled") {
        for (const slot of this.#slots.values()) {
          if (slot.requestId !== event.requestId) continue;
          this.#slots.delete(slot.slotId);
          touched.add(slot.slotId);
        }
      }
    }
    if (touched.size === 0) return;
    const ids = [...touched];
    await this.#store.update(
      ids.flatMap((id) => this.#slots.get(id) ?? []),
      ids.filter((id) => !this.#slots.has(id)),
    );
    this.#logger.debug({ slots: this.#slots.size, changed: ids.length }, "watched slots updated");
  }

  async #checkPeriod(period: bigint, signal: AbortSignal): Promise<void> {
    if (period !== this.#period) {
      this.#period = period;
      this.#settled.clear();
    }
    // Requests are checked concurrently, the slots of one request one after the other: a mark can
    // remove a host and fail the request, which changes what the next mark of that request may do.
    const byRequest = new Map<string, WatchedSlot[]>();
    for (const slot of this.#slots.values()) {
      if (this.#settled.has(slot.slotId)) continue;
      const list = byRequest.get(slot.requestId);
      if (list) list.push(slot);
      else byRequest.set(slot.requestId, [slot]);
    }
    const requests = [...byRequest.values()];
    let next = 0;
    const worker = async () => {
      while (next < requests.length && !signal.aborted) {
        for (const slot of requests[next++]!) {
          if (signal.aborted) return;
          await this.#check(slot, period, signal);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, requests.length) }, worker));
  }

  /** Marks the slot's proof for `period` missing if the contract would accept it now. */
  async #check(slot: WatchedSlot, period: bigint, signal: AbortSignal): Promise<void> {
    const { slotId } = slot;
    try {
      const receipt = await this.#client.markProofAsMissing(slotId, period, signal);
      this.#nextBlock = Math.max(this.#nextBlock, receipt.blockNumber + 1);
      this.#settled.add(slotId);
      this.#markedSinceRewardCheck = true;
      this.#metrics.marked.inc();
      this.#metrics.checks.inc({ outcome: "marked" });
      this.#totals = {
        ...this.#totals,
        proofsMarkedMissing: this.#totals.proofsMarkedMissing + 1,
      };
      this.#saveTotals();
      this.#logger.info(
        { slotId, period: String(period), tx: receipt.hash },
        "marked a missed proof",
      );
      return;
    } catch (error) {
      if (!(error instanceof TransactionError) || error.code !== "REVERTED") {
        // Not sent, or its fate unknown (refused, stuck, aborted): checked again next tick.
        if (!signal.aborted) this.#fail("mark", error, "marking a missed proof failed");
        return;
      }
      const sent = error.txHash !== undefined;
      const outcome = this.#outcomeOf(revertName(error.reason), slot, period);
      if (outcome === undefined) {
        this.#fail("check", error, "checking a proof failed");
        return;
      }
      if (outcome !== "in_downtime" && outcome !== "not_ended") this.#settled.add(slotId);
      if (outcome === "slot_ended") await this.#unwatch(slotId);
      if (sent) {
        // The estimate passed at one block and the transaction reverted at a later one.
        this.#metrics.checks.inc({ outcome: "lost_race" });
        const fields = { slotId, period: String(period), tx: error.txHash, reason: error.reason };
        if (outcome === "already_marked")
          this.#logger.debug(fields, "another validator marked this proof first");
        else this.#logger.warn(fields, "a markProofAsMissing transaction reverted");
        return;
      }
      this.#metrics.checks.inc({ outcome });
    }
  }

  /** What a revert of markProofAsMissing(slot, period) means; undefined when unexpected. */
  #outcomeOf(
    name: string | undefined,
    slot: WatchedSlot,
    period: bigint,
  ): CheckOutcome | undefined {
    switch (name) {
      case "Proofs_ProofNotMissing":
        return "proven";
      case "Proofs_ProofAlreadyMarkedMissing":
        return "already_marked";
      case "Marketplace_SlotNotAcceptingProofs":
        return "slot_ended";
      case "Proofs_ValidationTimedOut":
        return "timed_out";
      case "Proofs_PeriodNotEnded":
        // The block the estimate ran on was still in the period: try again next tick.
        return "not_ended";
      case "Proofs_ProofNotRequired": {
        // The estimate ran at about #nextBlock (concurrent marks move it); a pointer in downtime
        // at any block near it counts, at the cost of an extra check near the edges.
        const { downtime } = this.#client.config.proofs;
        for (let block = this.#nextBlock - 1; block <= this.#nextBlock + 2; block++) {
          if (this.#client.pointerAt(slot.slotId, period, block) < downtime) return "in_downtime";
        }
        return "not_required";
      }
      default:
        return undefined;
    }
  }

  async #unwatch(slotId: string): Promise<void> {
    if (!this.#slots.delete(slotId)) return;
    try {
      await this.#store.update([], [slotId]);
    } catch (error) {
      this.#fail("store", error, "forgetting an ended slot failed");
    }
  }

  async #collectRewards(period: bigint, signal: AbortSignal): Promise<void> {
    try {
      const pending = await this.#client.validatorReward(this.#account);
      this.#rewardsCheckedIn = period;
      this.#markedSinceRewardCheck = false;
      if (pending === 0n) return;
      const receipt = await this.#client.withdrawValidatorReward(signal);
      let amount = 0n;
      for (const log of receipt.logs) {
        const event = this.#client.decodeEvent(log);
        if (event?.name === "ValidatorRewardWithdrawn" && event.validator === this.#account)
          amount += event.amount;
      }
      this.#metrics.rewardsWithdrawn.inc(Number(amount));
      this.#totals = { ...this.#totals, rewardsWithdrawn: this.#totals.rewardsWithdrawn + amount };
      this.#saveTotals();
      this.#logger.info({ amount: String(amount), tx: receipt.hash }, "withdrew validator rewards");
    } catch (error) {
      if (!signal.aborted) this.#fail("reward", error, "collecting validator rewards failed");
    }
  }

  /** Saves the totals in the order they changed. */
  #saveTotals(): void {
    const totals = this.#totals;
    this.#savingTotals = this.#savingTotals
      .then(() => this.#store.saveTotals(totals))
      .catch((error: unknown) => this.#fail("store", error, "saving validator totals failed"));
  }

  #fail(operation: string, error: unknown, message: string): void {
    this.#metrics.errors.inc({ operation });
    this.#logger.warn({ err: error }, message);
  }
}

/** The custom error's name in a TransactionError reason such as "Proofs_ProofNotMissing()". */
function revertName(reason: string): string | undefined {
  return /^([A-Za-z_][A-Za-z0-9_]*)\(/.exec(reason)?.[1];
}
