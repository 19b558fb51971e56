/**
 * The host role: sells the node's storage. StorageRequested events (and slots freed for repair)
 * feed the slot queue; its workers run each slot's sale through the state machine up to filling;
 * the proving loop then proves every filled slot each period a proof is required, and collects the
 * payout when the request ends. Every sale is persisted, and resumed at start from its saved state
 * reconciled with the chain.
 */
import type { Logger } from "pino";
import type { LogPoller } from "../chain/log-poller.js";
import type { MarketplaceEvent } from "../chain/marketplace-client.js";
import { slotIdOf } from "../chain/marketplace-client.js";
import { HoldfastError } from "../errors.js";
import type { RoleContext } from "../marketplace.js";
import { AvailabilityStore } from "./availability-store.js";
import { marketplaceChain } from "./chain-port.js";
import { SalesMetrics } from "./metrics.js";
import type { SalesChain, SlotData, SlotProver } from "./ports.js";
import { PRE_FILL_STATES, type SaleRecord, isTerminal } from "./records.js";
import { SaleMachine } from "./sale-machine.js";
import { SaleStore } from "./sale-store.js";
import { NetworkSlotData } from "./slot-data.js";
import { CircuitSlotProver } from "./slot-prover.js";
import { SlotQueue, type SlotQueueItem } from "./slot-queue.js";

export interface SalesOptions {
  chain: SalesChain;
  data: SlotData;
  prover: SlotProver;
  db: RoleContext["db"];
  logger: Logger;
  metrics?: RoleContext["metrics"];
  /** Slots worked (matched, fetched, proven, filled) at the same time. */
  workers: number;
  /** Milliseconds between looks at the chain (events, proofs due). */
  pollIntervalMs: number;
  /** Reads new marketplace events; undefined in tests that feed events themselves. */
  events?: (onEvents: (events: readonly MarketplaceEvent[]) => Promise<void>) => LogPoller;
  retryDelayMs?: number;
}

export class Sales {
  readonly availabilities: AvailabilityStore;
  readonly sales: SaleStore;
  readonly machine: SaleMachine;
  readonly #o: SalesOptions;
  readonly #queue: SlotQueue;
  readonly #log: Logger;
  readonly #proving = new Set<string>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #stopping = new AbortController();
  #poller: LogPoller | undefined;
  #interval: NodeJS.Timeout | undefined;
  #eventsTick: Promise<void> | undefined;
  #provingTick: Promise<void> | undefined;
  #side = new Set<Promise<void>>();
  #periodProofs = 0;

  private constructor(
    options: SalesOptions,
    availabilities: AvailabilityStore,
    sales: SaleStore,
    metrics: SalesMetrics | undefined,
  ) {
    this.#o = options;
    this.#log = options.logger;
    this.availabilities = availabilities;
    this.sales = sales;
    const prover: SlotProver = {
      prove: async (request, proving) => {
        if (proving.urgent) this.#periodProofs++;
        try {
          return await options.prover.prove(request, proving);
        } finally {
          if (proving.urgent) this.#periodProofs--;
        }
      },
      close: () => options.prover.close(),
    };
    this.machine = new SaleMachine({
      chain: options.chain,
      data: options.data,
      prover,
      availabilities,
      sales,
      log: options.logger,
      ...(metrics ? { metrics } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    });
    this.#queue = new SlotQueue({
      workers: options.workers,
      process: (item, signal) => this.#process(item, signal),
      onError: (item, error) =>
        this.#log.error(
          { err: error, requestId: item.requestId, slotIndex: item.slotIndex },
          "sale worker failed",
        ),
    });
  }

  /** The host role of a node: its chain, slot data, and prover from --circuit-dir. */
  static async start(context: RoleContext): Promise<Sales> {
    const { config } = context;
    if (!config.circuitDir) {
      throw new HoldfastError(
        "ERR_INVALID_CONFIG",
        "--persistence needs --circuit-dir: the folder of a built circuit instance (artifacts.json)",
      );
    }
    const prover = await CircuitSlotProver.open(config.circuitDir);
    const { client, cursors, startBlock } = context;
    try {
      return await Sales.open({
        chain: marketplaceChain(client),
        data: new NetworkSlotData(context.p2p, context.hashing?.roots),
        prover,
        db: context.db,
        logger: context.logger.child({ role: "sales" }),
        metrics: context.metrics,
        workers: config.salesWorkers,
        pollIntervalMs: config.ethPollInterval,
        events: (onEvents) =>
          client.events({ cursorKey: "sales", store: cursors, startBlock, onEvents }),
      });
    } catch (error) {
      await prover.close();
      throw error;
    }
  }

  /** Opens the stores, resumes every unfinished sale and starts watching the chain. */
  static async open(options: SalesOptions): Promise<Sales> {
    const availabilities = await AvailabilityStore.open(options.db);
    const sales = await SaleStore.open(options.db, availabilities);
    const metrics = options.metrics
      ? new SalesMetrics(options.metrics.registry, () => sales.list())
      : undefined;
    const role = new Sales(options, availabilities, sales, metrics);
    await role.#resume();
    role.#poller = options.events?.((events) => role.#onEvents(events));
    role.#interval = setInterval(() => void role.poll(), options.pollIntervalMs);
    void role.poll();
    return role;
  }

  /** Period proofs being made now (waiting for the prover included). */
  get periodProofsInProgress(): number {
    return this.#periodProofs;
  }

  list(): SaleRecord[] {
    return this.sales.list();
  }

  get(slotId: string): SaleRecord | undefined {
    return this.sales.get(slotId);
  }

  /** Queues the slots of a storage request (what a StorageRequested event does). */
  queueRequest(item: Omit<SlotQueueItem, "slotIndex" | "seen">, slots: number): void {
    this.#queue.pushRequest(item, slots);
  }

  /** Reads new events and looks at every proving slot (each loop one pass at a time). */
  poll(): Promise<void> {
    // Two loops, so that new requests are read while a period's proof is being made.
    this.#eventsTick ??= this.#readEvents().finally(() => (this.#eventsTick = undefined));
    this.#provingTick ??= this.#lookAtProvingSlots().finally(() => (this.#provingTick = undefined));
    return Promise.all([this.#eventsTick, this.#provingTick]).then(() => {});
  }

  /** Resolves when no slot is queued or being worked (tests). */
  whenIdle(): Promise<void> {
    return this.#queue.whenIdle();
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    clearInterval(this.#interval);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#queue.clear();
    await Promise.all([this.#eventsTick, this.#provingTick]);
    await this.#queue.whenIdle();
    await Promise.allSettled(this.#side);
    await this.#o.prover.close();
  }

  // ---- chain events ----

  /** Reads the events since the last read. */
  async #readEvents(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    try {
      await this.#poller?.pollOnce(this.#stopping.signal);
    } catch (error) {
      this.#log.warn({ err: error }, "reading marketplace events failed");
    }
  }

  /** Looks at every proving slot once, proving those whose period requires it. */
  async #lookAtProvingSlots(): Promise<void> {
    for (const slotId of [...this.#proving]) {
      if (this.#stopping.signal.aborted) return;
      const record = this.sales.get(slotId);
      if (!record || record.state !== "proving") {
        this.#proving.delete(slotId);
        if (record) this.#continue(record);
        continue;
      }
      try {
        const next = await this.machine.prove(record, this.#stopping.signal);
        if (next.state !== "proving") {
          this.#proving.delete(slotId);
          this.#continue(next);
        }
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        // The chain or the prover failed for this look; the next look tries again.
        this.#log.warn({ err: error, slotId }, "checking a proving slot failed");
      }
    }
  }

  async #onEvents(events: readonly MarketplaceEvent[]): Promise<void> {
    const { chain } = this.#o;
    for (const event of events) {
      switch (event.name) {
        case "StorageRequested": {
          if (event.expiry <= (await chain.now())) break; // expired: nothing to sell
          this.#queue.pushRequest(
            {
              requestId: event.requestId,
              slotSize: event.ask.slotSize,
              duration: event.ask.duration,
              pricePerBytePerSecond: event.ask.pricePerBytePerSecond,
              collateralPerByte: event.ask.collateralPerByte,
              expiry: event.expiry,
            },
            Number(event.ask.slots),
          );
          break;
        }
        case "SlotFreed": {
          // Ours: the proving loop sees it. Another host's: the slot is in repair, for sale again.
          const slotId = slotIdOf(event.requestId, event.slotIndex);
          const mine = this.sales.get(slotId);
          if (mine && !isTerminal(mine.state)) break;
          const state = await chain.requestState(event.requestId);
          if (state !== "new" && state !== "started") break;
          const request = await chain.getRequest(event.requestId);
          if (!request) break;
          this.#queue.push({
            requestId: event.requestId,
            slotIndex: Number(event.slotIndex),
            slotSize: request.ask.slotSize,
            duration: request.ask.duration,
            pricePerBytePerSecond: request.ask.pricePerBytePerSecond,
            collateralPerByte: request.ask.collateralPerByte,
            expiry: await chain.requestEnd(event.requestId),
            seen: false,
          });
          break;
        }
        case "SlotFilled":
          this.#queue.dropQueued(event.requestId, Number(event.slotIndex));
          break;
        case "RequestFulfilled":
          this.#queue.dropQueued(event.requestId);
          break;
        case "RequestCancelled":
        case "RequestFailed":
          // Running sales of the request are aborted and reconciled; proving ones see it next look.
          this.#queue.removeRequest(event.requestId);
          break;
        default:
          break;
      }
    }
  }

  // ---- working sales ----

  /** A queue worker: starts the slot's sale, or resumes the one persisted for it. */
  async #process(item: SlotQueueItem, signal: AbortSignal): Promise<void> {
    const slotId = slotIdOf(item.requestId, item.slotIndex);
    let record = this.sales.get(slotId);
    if (record && isTerminal(record.state)) {
      // A slot this host gave up on may be tried again (a new availability, a repair); one it
      // sold, or failed with, is not taken again.
      if (record.state !== "ignored" && record.state !== "errored") return;
      record = undefined;
    }
    if (record && !PRE_FILL_STATES.has(record.state)) return; // the proving loop's
    record ??= SaleStore.create({ slotId, requestId: item.requestId, slotIndex: item.slotIndex });
    await this.#run(record, item, signal);
  }

  /** Steps the sale until it is proving, ended, or waiting to be tried again. */
  async #run(record: SaleRecord, item: SlotQueueItem, signal: AbortSignal): Promise<void> {
    let current = record;
    try {
      while (!isTerminal(current.state)) {
        if (current.state === "proving") {
          this.#proving.add(current.slotId);
          return;
        }
        const result = await this.machine.step(current, signal);
        current = result.record;
        if (result.retryAfterMs !== undefined) {
          this.#later(result.retryAfterMs, () => this.#queue.push({ ...item, seen: true }));
          return;
        }
      }
    } catch (error) {
      if (this.#stopping.signal.aborted) return; // resumed from its saved state at the next start
      const latest = this.sales.get(current.slotId) ?? current;
      if (signal.aborted) {
        // The request was cancelled or failed while this sale ran: settle it from the chain.
        const settled = await this.machine.reconcile(latest);
        if (!isTerminal(settled.state)) this.#continue(settled);
        return;
      }
      if (PRE_FILL_STATES.has(latest.state) && latest.filledAt === undefined) {
        await this.machine.errored(latest, error);
        return;
      }
      // Filled: the slot is this host's whatever failed; look again shortly.
      this.#log.warn(
        { err: error, slotId: latest.slotId, state: latest.state },
        "sale step failed; trying again",
      );
      this.#later(this.#o.retryDelayMs ?? 5_000, () => this.#continue(latest));
    }
  }

  /** Hands a sale to whoever works its state now: the queue's workers or the proving loop. */
  #continue(record: SaleRecord): void {
    if (isTerminal(record.state) || this.#stopping.signal.aborted) return;
    if (record.state === "proving") {
      this.#proving.add(record.slotId);
      return;
    }
    const item = queueItemOf(record);
    if (PRE_FILL_STATES.has(record.state)) {
      this.#queue.push(item);
      return;
    }
    // filled, payout, or downloading again for a filled slot: not subject to the queue's order.
    const work = this.#run(record, item, this.#stopping.signal).catch((error: unknown) =>
      this.#log.error({ err: error, slotId: record.slotId }, "sale failed"),
    );
    this.#side.add(work);
    void work.finally(() => this.#side.delete(work));
  }

  #later(ms: number, work: () => void): void {
    if (this.#stopping.signal.aborted) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      work();
    }, ms);
    this.#timers.add(timer);
  }

  /**
   * At start: reservations without a running sale are released, the data of ended sales is
   * deleted, and every unfinished sale resumes.
   */
  async #resume(): Promise<void> {
    for (const reservation of this.availabilities.reservations()) {
      const sale = this.sales.get(reservation.slotId);
      if (!sale || isTerminal(sale.state) || sale.state === "matching") {
        this.#log.warn(
          { slotId: reservation.slotId },
          "releasing a reservation without a running sale",
        );
        await this.availabilities.release(reservation.slotId);
      }
    }
    // Ended sales whose data is still stored (a crash or stop before it was deleted).
    for (const record of this.sales.list())
      if (isTerminal(record.state)) await this.machine.releaseData(record);
    for (const record of this.sales.list()) {
      if (isTerminal(record.state)) continue;
      let resumed: SaleRecord;
      try {
        resumed = await this.machine.reconcile(record);
      } catch (error) {
        // The chain is unreachable now: resume as saved; the states look at the chain themselves.
        this.#log.warn({ err: error, slotId: record.slotId }, "reconciling a sale failed");
        resumed = record;
      }
      this.#log.info(
        { slotId: record.slotId, from: record.state, state: resumed.state },
        "resuming sale",
      );
      this.#continue(resumed);
    }
  }
}

function queueItemOf(record: SaleRecord): SlotQueueItem {
  const ask = record.request?.ask;
  return {
    requestId: record.requestId,
    slotIndex: record.slotIndex,
    slotSize: ask?.slotSize ?? 0n,
    duration: ask?.duration ?? 0n,
    pricePerBytePerSecond: ask?.pricePerBytePerSecond ?? 0n,
    collateralPerByte: ask?.collateralPerByte ?? 0n,
    expiry: record.request?.expiry ?? 0n,
    seen: false,
  };
}
