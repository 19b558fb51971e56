/**
 * The client role: asks the marketplace to store a dataset and follows each request to its end.
 *
 * A request protects the dataset if needed (erasure coding into nodes = K + M slots, slot and
 * dataset roots), records the purchase on disk, then sends requestStorage. From then on the chain
 * decides: marketplace events (polled from a persisted cursor) move a purchase to started, failed
 * or cancelled, and the chain's clock to cancelled (expiry passed unfilled) or finished (end
 * passed). An ended purchase's refund is collected with withdrawFunds automatically. On start,
 * every unfinished purchase is reconciled with the request's state on chain, so a node that was
 * down resumes where the chain is. The node keeps serving the dataset's blocks to hosts meanwhile
 * (its networking announces every stored dataset).
 */
import { hexlify, randomBytes, toUtf8Bytes } from "ethers";
import type { LogPoller } from "../chain/log-poller.js";
import {
  type MarketplaceEvent,
  type RequestState,
  type StorageRequest,
  requestIdOf,
  slotIdOf,
} from "../chain/marketplace-client.js";
import { TransactionError } from "../chain/transaction-manager.js";
import { HoldfastError, isHoldfastError } from "../errors.js";
import type { Role, RoleContext } from "../marketplace.js";
import { planDataset } from "./dataset.js";
import { PurchasingMetrics } from "./metrics.js";
import {
  ENDED_STATES,
  type PurchaseRecord,
  type PurchaseState,
  PurchaseStore,
  pendingPurchase,
  requestJson,
  termsJson,
} from "./purchase.js";
import { parseTerms, requestAmounts } from "./terms.js";

const CURSOR_KEY = "purchasing";

/** Order of progress: a purchase only moves forward. */
const RANK: Record<PurchaseState, number> = {
  pending: 0,
  errored: 0,
  submitted: 1,
  started: 2,
  finished: 3,
  cancelled: 3,
  failed: 3,
};

/** The purchase state a request state on chain means. */
const FROM_CHAIN: Record<RequestState, PurchaseState> = {
  new: "submitted",
  started: "started",
  cancelled: "cancelled",
  finished: "finished",
  failed: "failed",
};

export class Purchasing implements Role {
  readonly #context: RoleContext;
  readonly #store: PurchaseStore;
  readonly #purchases = new Map<string, PurchaseRecord>();
  /** slot id -> its purchase and index, for events that name slots. */
  readonly #slots = new Map<string, { purchase: PurchaseRecord; slotIndex: number }>();
  /**
   * Purchases to compare with the chain, retried every tick until it answers: "restart" for those
   * found on disk at start, "unknown" for a requestStorage whose outcome this process never saw.
   */
  readonly #unreconciled = new Map<string, "restart" | "unknown">();
  readonly #metrics: PurchasingMetrics;
  readonly #abort = new AbortController();
  #poller!: LogPoller;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  /** requestStorage calls run one at a time: each approves exactly its own price first. */
  #submitting: Promise<unknown> = Promise.resolve();
  readonly #inflight = new Set<Promise<unknown>>();
  #stopped = false;

  private constructor(context: RoleContext) {
    this.#context = context;
    this.#store = new PurchaseStore(context.db);
    this.#metrics = new PurchasingMetrics(context.metrics.registry, () => this.#purchases.values());
  }

  static async start(context: RoleContext): Promise<Purchasing> {
    const role = new Purchasing(context);
    for (const record of await role.#store.all()) role.#track(record);
    // A node's first start reads events from the current block: its purchases are all later.
    let startBlock = context.startBlock;
    if ((await context.cursors.load(CURSOR_KEY)) === undefined) {
      startBlock = Math.max(startBlock, await context.client.provider.getBlockNumber());
      await context.cursors.save(CURSOR_KEY, startBlock - 1);
    }
    role.#poller = context.client.events({
      cursorKey: CURSOR_KEY,
      store: context.cursors,
      startBlock,
      // Not ProofSubmitted, by far the most frequent event, nor validator rewards.
      names: [
        "StorageRequested",
        "SlotFilled",
        "SlotFreed",
        "RequestFulfilled",
        "RequestCancelled",
        "RequestFailed",
        "FundsWithdrawn",
        "SlotPaid",
        "ProofMarkedMissing",
      ],
      onEvents: (events) => role.#onEvents(events),
    });
    for (const record of role.#purchases.values()) {
      if (!role.#isSettled(record)) role.#unreconciled.set(record.id, "restart");
    }
    await role.#reconcileAll();
    role.#schedule();
    context.logger.info(
      { purchases: role.#purchases.size, unreconciled: role.#unreconciled.size },
      "purchasing started",
    );
    return role;
  }

  /** Every purchase, newest first. */
  list(): PurchaseRecord[] {
    return [...this.#purchases.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  get(id: string): PurchaseRecord | undefined {
    return this.#purchases.get(id.toLowerCase());
  }

  /**
   * Requests storage of dataset `cid` under the terms in `body` (see terms.ts). Resolves with the
   * submitted purchase; rejects with ERR_INVALID_ARGUMENT (bad terms, too little balance),
   * ERR_NOT_FOUND (unknown dataset) or ERR_CHAIN (chain unreachable, or the marketplace refused:
   * the purchase is then recorded as errored with the contract's reason).
   */
  request(cid: string, body: unknown): Promise<PurchaseRecord> {
    if (this.#stopped) throw new HoldfastError("ERR_STORE_CLOSED", "the node is stopping");
    const work = this.#request(cid, body);
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work)).catch(() => {});
    return work;
  }

  /** Polls events and checks the chain's clock now (the timer does this every ethPollInterval). */
  sync(): Promise<void> {
    this.#tick ??= this.#runTick().finally(() => (this.#tick = undefined));
    return this.#tick;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#tick;
    await Promise.allSettled([...this.#inflight]);
  }

  // ---- requesting ----

  async #request(cid: string, body: unknown): Promise<PurchaseRecord> {
    const { client, service, logger } = this.#context;
    const terms = parseTerms(body, client.config.requestDurationLimit);
    const ecM = terms.tolerance;
    const ecK = terms.nodes - ecM;
    const plan = await planDataset(service, cid, ecK, ecM);
    const amounts = requestAmounts(terms, plan.slotSize);
    const account = client.account!;
    const balance = await chainRead("read the account's token balance", () =>
      client.tokenBalance(account),
    );
    if (balance < amounts.maxPrice) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `this request costs ${amounts.maxPrice} tokens (${terms.nodes} slots x ${terms.duration} s x ${plan.slotSize} bytes x ${terms.pricePerBytePerSecond}) but account ${account} holds ${balance}`,
      );
    }
    let { verifiableCid, manifest } = plan;
    if (verifiableCid === undefined || manifest === undefined) {
      const made = await service.protect(cid, { ecK, ecM }, { signal: this.#abort.signal });
      verifiableCid = made.verifiableCid;
      manifest = made.manifest;
      // Announce the new dataset now rather than on the next periodic sync: hosts will look for it.
      await this.#context.p2p.sync();
    }
    const request: StorageRequest = {
      client: account,
      ask: {
        proofProbability: terms.proofProbability,
        pricePerBytePerSecond: terms.pricePerBytePerSecond,
        collateralPerByte: terms.collateralPerByte,
        slots: BigInt(terms.nodes),
        slotSize: plan.slotSize,
        duration: terms.duration,
        maxSlotLoss: BigInt(terms.tolerance),
      },
      content: {
        // Hosts fetch slots by this manifest's id (Retrieval.fetchSlot) and prove against its roots.
        cid: hexlify(toUtf8Bytes(verifiableCid)),
        merkleRoot: manifest.verifiable!.datasetRoot,
      },
      expiry: terms.expiry,
      nonce: hexlify(randomBytes(32)),
    };
    const id = requestIdOf(request);
    const now = new Date().toISOString();
    const record = pendingPurchase(
      {
        id,
        cid,
        manifestCid: verifiableCid,
        terms: termsJson(terms),
        request: requestJson(request),
        price: amounts.maxPrice.toString(),
      },
      now,
    );
    const submit = this.#submitting.then(() => this.#submit(record, request));
    this.#submitting = submit.catch(() => {});
    await submit;
    logger.info(
      { id, cid, manifestCid: verifiableCid, price: record.price, slots: terms.nodes },
      "storage requested",
    );
    return record;
  }

  async #submit(record: PurchaseRecord, request: StorageRequest): Promise<void> {
    const { client } = this.#context;
    // On disk before the transaction: a crash from here on leaves a record to reconcile.
    await this.#store.save(record);
    this.#track(record);
    this.#metrics.transitions.inc({ state: "pending" });
    try {
      const { receipt } = await client.requestStorage(request, this.#abort.signal);
      const block = await client.provider.getBlock(receipt.blockNumber);
      record.txHash = receipt.hash;
      if (block) this.#setTimes(record, BigInt(block.timestamp));
      this.#transition(record, "submitted");
      await this.#store.save(record);
    } catch (error) {
      if (
        error instanceof TransactionError &&
        (error.code === "REVERTED" || error.code === "REJECTED")
      ) {
        // Refused or reverted: nothing was escrowed. (A later StorageRequested revives it.)
        record.error = `${error.description}: ${error.reason}`;
        this.#transition(record, "errored");
        await this.#store.save(record);
        throw new HoldfastError(
          "ERR_CHAIN",
          `the marketplace did not take the request (purchase ${record.id} recorded as errored): ${error.reason}`,
          { cause: error },
        );
      }
      // Unknown outcome (connection lost, transaction stuck): it may still be mined. The purchase
      // stays pending and each tick looks for the request on chain.
      record.error = `requestStorage outcome unknown: ${errorText(error)}`;
      await this.#store.save(record);
      this.#unreconciled.set(record.id, "unknown");
      throw new HoldfastError(
        "ERR_CHAIN",
        `could not confirm the request on chain (purchase ${record.id} stays pending; the node keeps checking): ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  // ---- following the chain ----

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.sync().finally(() => this.#schedule());
    }, this.#context.config.ethPollInterval);
  }

  async #runTick(): Promise<void> {
    const signal = this.#abort.signal;
    try {
      await this.#reconcileAll();
      if (signal.aborted) return;
      await this.#poller.pollOnce(signal);
      if (signal.aborted) return;
      await this.#checkClock();
    } catch (error) {
      if (!signal.aborted)
        this.#context.logger.warn({ err: error }, "following purchases on chain failed; retrying");
    }
  }

  async #onEvents(events: readonly MarketplaceEvent[]): Promise<void> {
    const changed = new Set<PurchaseRecord>();
    for (const event of events) {
      let purchase: PurchaseRecord | undefined;
      let slotIndex: number | undefined;
      if ("requestId" in event) purchase = this.#purchases.get(event.requestId.toLowerCase());
      else if ("slotId" in event) {
        const slot = this.#slots.get(event.slotId.toLowerCase());
        purchase = slot?.purchase;
        slotIndex = slot?.slotIndex;
      }
      if (!purchase) continue;
      const at: [number, number] = [event.blockNumber, event.logIndex];
      if (purchase.lastEvent && compareEvents(at, purchase.lastEvent) <= 0) continue;
      this.#apply(purchase, event, slotIndex);
      purchase.lastEvent = at;
      changed.add(purchase);
    }
    // Saved before the poller moves its cursor past these events.
    for (const purchase of changed) await this.#store.save(purchase);
  }

  #apply(p: PurchaseRecord, event: MarketplaceEvent, slotIndex: number | undefined): void {
    switch (event.name) {
      case "StorageRequested":
        if (p.state === "pending" || p.state === "errored") {
          this.#setTimes(p, event.expiry - BigInt(p.request.expiry));
          p.txHash ??= event.transactionHash;
          delete p.error;
          this.#transition(p, "submitted", true);
        }
        break;
      case "SlotFilled": {
        const index = Number(event.slotIndex);
        if (!p.filledSlots.includes(index))
          p.filledSlots = [...p.filledSlots, index].sort((a, b) => a - b);
        break;
      }
      case "SlotFreed":
        p.filledSlots = p.filledSlots.filter((i) => i !== Number(event.slotIndex));
        break;
      case "RequestFulfilled":
        this.#transition(p, "started");
        break;
      case "RequestCancelled":
        this.#transition(p, "cancelled");
        break;
      case "RequestFailed":
        this.#transition(p, "failed");
        break;
      case "FundsWithdrawn":
        this.#noteWithdrawal(p, event.transactionHash, event.amount);
        break;
      case "SlotPaid":
        if (!p.slotPayouts.some((x) => x.txHash === event.transactionHash)) {
          p.slotPayouts.push({
            slotIndex: slotIndex!,
            host: event.host,
            amount: event.amount.toString(),
            txHash: event.transactionHash,
          });
        }
        break;
      case "ProofMarkedMissing":
        p.missedProofs++;
        break;
    }
  }

  /** Moves purchases whose expiry or end has passed on chain, and collects refunds. */
  async #checkClock(): Promise<void> {
    const { client } = this.#context;
    const open = [...this.#purchases.values()].filter((p) => !this.#isSettled(p));
    if (open.length === 0) return;
    const now = await client.now();
    for (const p of open) {
      if (this.#abort.signal.aborted) return;
      const due =
        (p.state === "submitted" && p.expiresAt !== undefined && now > BigInt(p.expiresAt)) ||
        (p.state === "started" && p.endsAt !== undefined && now > BigInt(p.endsAt));
      if (due) {
        const state = FROM_CHAIN[await client.requestState(p.id)];
        if (this.#transition(p, state)) await this.#store.save(p);
      }
      if (ENDED_STATES.includes(p.state) && !p.withdrawn) await this.#withdraw(p);
    }
  }

  async #withdraw(p: PurchaseRecord): Promise<void> {
    const { client, logger } = this.#context;
    try {
      const receipt = await client.withdrawFunds(p.id, this.#abort.signal);
      for (const log of receipt.logs) {
        const event = client.decodeEvent(log);
        if (event?.name === "FundsWithdrawn" && event.requestId.toLowerCase() === p.id) {
          this.#noteWithdrawal(p, receipt.hash, event.amount);
        }
      }
      p.withdrawn = true;
      delete p.error;
      logger.info({ id: p.id, state: p.state, refunded: p.withdrawals }, "refund withdrawn");
    } catch (error) {
      if (
        error instanceof TransactionError &&
        error.reason.startsWith("Marketplace_AlreadyWithdrawn")
      ) {
        p.withdrawn = true;
      } else {
        p.error = `withdrawFunds failed (retrying): ${errorText(error)}`;
        logger.warn({ id: p.id, err: error }, "withdrawing the refund failed; retrying");
      }
    }
    await this.#store.save(p);
  }

  #noteWithdrawal(p: PurchaseRecord, txHash: string, amount: bigint): void {
    if (p.withdrawals.some((w) => w.txHash === txHash)) return;
    p.withdrawals.push({ txHash, amount: amount.toString() });
    p.withdrawn = true;
  }

  // ---- reconciling with the chain at start ----

  async #reconcileAll(): Promise<void> {
    for (const [id, why] of [...this.#unreconciled]) {
      if (this.#abort.signal.aborted) return;
      const p = this.#purchases.get(id)!;
      try {
        if (await this.#reconcile(p, why)) this.#unreconciled.delete(id);
      } catch (error) {
        this.#context.logger.warn(
          { id, err: error },
          "could not read a purchase's request on chain; retrying",
        );
      }
    }
  }

  /** Brings the record in line with the chain; false while the request's fate is still open. */
  async #reconcile(p: PurchaseRecord, why: "restart" | "unknown"): Promise<boolean> {
    const { client } = this.#context;
    const onChain = await client.getRequest(p.id);
    if (!onChain) {
      if (p.state !== "pending") return true;
      // A transaction still out there may yet be mined: keep looking while this process sent it.
      if (why === "unknown") return false;
      p.error = "the requestStorage transaction did not reach the chain before the node stopped";
      this.#transition(p, "errored");
      await this.#store.save(p);
      return true;
    }
    const state = FROM_CHAIN[await client.requestState(p.id)];
    if (p.expiresAt === undefined) {
      const expiresAt = await client.requestExpiry(p.id);
      this.#setTimes(p, expiresAt - BigInt(p.request.expiry));
    }
    const filled: number[] = [];
    for (let i = 0; i < p.terms.nodes; i++) {
      if ((await client.slotState(slotIdOf(p.id, i))) === "filled") filled.push(i);
    }
    p.filledSlots = filled;
    delete p.error;
    this.#transition(p, state, true);
    if (ENDED_STATES.includes(p.state) && !p.withdrawn) {
      // The marketplace lists a client's requests until it withdraws from them.
      p.withdrawn = !(await client.myRequests()).some((id) => id.toLowerCase() === p.id);
    }
    await this.#store.save(p);
    return true;
  }

  // ---- records ----

  #track(record: PurchaseRecord): void {
    this.#purchases.set(record.id, record);
    for (let i = 0; i < record.terms.nodes; i++) {
      this.#slots.set(slotIdOf(record.id, i).toLowerCase(), { purchase: record, slotIndex: i });
    }
  }

  /** Nothing left to follow: ended and refunded, or never on chain. */
  #isSettled(p: PurchaseRecord): boolean {
    return p.state === "errored" || (ENDED_STATES.includes(p.state) && p.withdrawn);
  }

  #setTimes(p: PurchaseRecord, requestedAt: bigint): void {
    p.requestedAt = Number(requestedAt);
    p.expiresAt = Number(requestedAt + BigInt(p.request.expiry));
    p.endsAt = Number(requestedAt + BigInt(p.request.ask.duration));
  }

  /**
   * Moves the purchase to `state` if that is progress (or, with `revive`, out of errored).
   * Returns whether it moved.
   */
  #transition(p: PurchaseRecord, state: PurchaseState, revive = false): boolean {
    if (p.state === state) return false;
    const forward =
      state === "errored" ? p.state === "pending" : RANK[state] > RANK[p.state] || revive;
    if (!forward || (p.state === "errored" && !revive)) return false;
    p.state = state;
    p.history.push({ state, at: new Date().toISOString() });
    this.#metrics.transitions.inc({ state });
    this.#context.logger.info({ id: p.id, state }, "purchase state");
    return true;
  }
}

/** Runs a chain read, reporting a failure to reach the chain as ERR_CHAIN. */
async function chainRead<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isHoldfastError(error)) throw error;
    throw new HoldfastError("ERR_CHAIN", `cannot ${what}: ${errorText(error)}`, { cause: error });
  }
}

function errorText(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string };
  return e?.shortMessage ?? e?.message ?? String(error);
}

function compareEvents(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
