import { randomInt } from "node:crypto";

/** One slot a host could sell, with what the queue ranks it by. */
export interface SlotQueueItem {
  requestId: string;
  slotIndex: number;
  slotSize: bigint;
  duration: bigint;
  pricePerBytePerSecond: bigint;
  collateralPerByte: bigint;
  /** Unix seconds at which the request is cancelled if not all slots are filled. */
  expiry: bigint;
  /** Already tried once (and put back): goes behind every item not yet tried. */
  seen: boolean;
}

/** A queued item carries a random tie-breaker drawn when it was queued. */
export type QueuedItem = SlotQueueItem & { tieBreaker?: number };

/** What the whole slot pays over its duration: the profitability the queue ranks by. */
export function slotPayout(
  item: Pick<SlotQueueItem, "slotSize" | "duration" | "pricePerBytePerSecond">,
): bigint {
  return item.slotSize * item.duration * item.pricePerBytePerSecond;
}

/**
 * Negative when `a` should be worked before `b`. In order: untried before tried; higher payout;
 * lower collateral to lock; later expiry (more time to download and prove); smaller slot (quicker
 * to fetch). Equal slots (the slots of one request always are) are ordered by a per-host random
 * `tieBreaker`, so hosts seeing the same request do not all race for slot 0; then by id, so the
 * order is total.
 */
export function compareSlotItems(a: QueuedItem, b: QueuedItem): number {
  const byBigint = (x: bigint, y: bigint) => (x < y ? -1 : x > y ? 1 : 0);
  if (a.seen !== b.seen) return a.seen ? 1 : -1;
  return (
    byBigint(slotPayout(b), slotPayout(a)) ||
    byBigint(a.collateralPerByte * a.slotSize, b.collateralPerByte * b.slotSize) ||
    byBigint(b.expiry, a.expiry) ||
    byBigint(a.slotSize, b.slotSize) ||
    (a.tieBreaker ?? 0) - (b.tieBreaker ?? 0) ||
    (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0) ||
    a.slotIndex - b.slotIndex
  );
}

export interface SlotQueueOptions {
  /** Items kept at most; past it the lowest-ranked item is dropped. */
  maxSize?: number;
  /** Slots worked at the same time. */
  workers?: number;
  /** Works one item; the queue never runs more than `workers` of these at once. */
  process: (item: SlotQueueItem, signal: AbortSignal) => Promise<void>;
  onError?: (item: SlotQueueItem, error: unknown) => void;
}

const itemKey = (requestId: string, slotIndex: number) => `${requestId}/${slotIndex}`;

/**
 * The host's to-do list of slots to sell, fed by StorageRequested events and by slots going to
 * repair, worked best-first by a bounded number of workers.
 */
export class SlotQueue {
  readonly #items = new Map<string, QueuedItem>();
  readonly #running = new Map<string, AbortController>();
  readonly #maxSize: number;
  readonly #workers: number;
  readonly #process: SlotQueueOptions["process"];
  readonly #onError: NonNullable<SlotQueueOptions["onError"]>;
  #paused = false;
  #idle: (() => void)[] = [];

  constructor(options: SlotQueueOptions) {
    this.#maxSize = options.maxSize ?? 10_000;
    this.#workers = options.workers ?? 3;
    if (!Number.isInteger(this.#workers) || this.#workers < 1)
      throw new RangeError("SlotQueue: workers must be >= 1");
    if (!Number.isInteger(this.#maxSize) || this.#maxSize < 1)
      throw new RangeError("SlotQueue: maxSize must be >= 1");
    this.#process = options.process;
    this.#onError = options.onError ?? (() => {});
  }

  get size(): number {
    return this.#items.size;
  }

  get running(): number {
    return this.#running.size;
  }

  /** Items in the order they would be worked. */
  snapshot(): QueuedItem[] {
    return [...this.#items.values()].sort(compareSlotItems);
  }

  /** Adds every slot of a request; slots already queued or running are skipped. */
  pushRequest(request: Omit<SlotQueueItem, "slotIndex" | "seen">, slots: number): void {
    for (let slotIndex = 0; slotIndex < slots; slotIndex++)
      this.push({ ...request, slotIndex, seen: false });
  }

  push(item: SlotQueueItem): void {
    const key = itemKey(item.requestId, item.slotIndex);
    if (this.#items.has(key) || this.#running.has(key)) return;
    this.#items.set(key, { ...item, tieBreaker: randomInt(2 ** 47) });
    if (this.#items.size > this.#maxSize) {
      const worst = this.snapshot().at(-1)!;
      this.#items.delete(itemKey(worst.requestId, worst.slotIndex));
    }
    this.#pump();
  }

  /** Drops a request's queued slots and aborts the ones being worked (it was filled, cancelled or failed). */
  removeRequest(requestId: string): void {
    for (const [key, item] of this.#items)
      if (item.requestId === requestId) this.#items.delete(key);
    for (const [key, controller] of this.#running)
      if (key.startsWith(`${requestId}/`)) controller.abort();
  }

  /** Drops queued (not running) slots of a request, or one slot of it: they were filled by someone. */
  dropQueued(requestId: string, slotIndex?: number): void {
    for (const [key, item] of this.#items) {
      if (item.requestId === requestId && (slotIndex === undefined || item.slotIndex === slotIndex))
        this.#items.delete(key);
    }
    if (this.#isIdle()) for (const resolve of this.#idle.splice(0)) resolve();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /** Resolves when nothing is queued or running (or the queue is paused and nothing runs). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Aborts running work and forgets every queued item. */
  clear(): void {
    this.#items.clear();
    for (const controller of this.#running.values()) controller.abort();
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && (this.#items.size === 0 || this.#paused);
  }

  #pump(): void {
    while (!this.#paused && this.#running.size < this.#workers && this.#items.size > 0) {
      const next = this.snapshot()[0]!;
      const key = itemKey(next.requestId, next.slotIndex);
      this.#items.delete(key);
      const controller = new AbortController();
      this.#running.set(key, controller);
      void this.#process(next, controller.signal)
        .catch((error: unknown) => this.#onError(next, error))
        .finally(() => {
          this.#running.delete(key);
          this.#pump();
          if (this.#isIdle()) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }
}
