import { createHash } from "node:crypto";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import type { ProviderRouting } from "./interfaces.js";
import { type NetworkMetrics, noopNetworkMetrics } from "./metrics.js";

const RAW_CODEC = 0x55;
const SHA2_256 = 0x12;

/**
 * The DHT key under which hosts of one slot of a dataset announce themselves, so that a host
 * repairing or downloading a slot finds the holders of that slot rather than every provider of the
 * dataset. A hash of a domain tag, the dataset's CID and the slot index; no block has this id.
 */
export function slotProviderKey(dataset: CID, slotIndex: number): CID {
  if (!Number.isInteger(slotIndex) || slotIndex < 0 || slotIndex > 0xffff_ffff) {
    throw new RangeError(`slot index ${slotIndex} is not a 32-bit unsigned integer`);
  }
  const index = Buffer.alloc(4);
  index.writeUInt32BE(slotIndex);
  const digest = createHash("sha256")
    .update("holdfast/slot-provider/v1")
    .update(dataset.bytes)
    .update(index)
    .digest();
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256, digest));
}

export interface ProviderAnnouncerOptions {
  /** How often every key is announced again (DHT provider records expire after 48 hours). */
  reannounceIntervalMs?: number;
  /** After a failed announcement (no DHT peers yet, time-out), how long until the next try. */
  retryMs?: number;
  /** Longest one provide() may take before it counts as failed. */
  provideTimeoutMs?: number;
  log?: (message: string) => void;
}

/**
 * Keeps this node announced in the DHT as a provider of the keys it holds (dataset, tree and slot
 * ids): each key is announced when added, again every `reannounceIntervalMs`, and retried sooner
 * when an announcement fails. Announcements run one at a time in the background so that a large
 * catalogue does not flood the DHT.
 */
export class ProviderAnnouncer {
  readonly #routing: ProviderRouting;
  readonly #metrics: NetworkMetrics;
  readonly #options: Required<ProviderAnnouncerOptions>;
  /** key string -> [key, time of the next announcement due] */
  readonly #keys = new Map<string, { key: CID; due: number }>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #started = false;
  readonly #announced = new Map<string, (() => void)[]>();

  constructor(
    components: { routing: ProviderRouting; metrics?: NetworkMetrics },
    options: ProviderAnnouncerOptions = {},
  ) {
    this.#routing = components.routing;
    this.#metrics = components.metrics ?? noopNetworkMetrics;
    this.#options = {
      reannounceIntervalMs: 6 * 3600_000,
      retryMs: 30_000,
      provideTimeoutMs: 60_000,
      log: () => {},
      ...options,
    };
  }

  start(): void {
    this.#started = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#started = false;
    this.#abort.abort();
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Adds keys to announce; they are announced at once (in the background) and then periodically. */
  add(keys: readonly CID[]): void {
    for (const key of keys) {
      const id = key.toString();
      const entry = this.#keys.get(id);
      if (entry) entry.due = 0;
      else this.#keys.set(id, { key, due: 0 });
    }
    this.#schedule(0);
  }

  /** Stops announcing keys (their records expire in the DHT on their own). */
  remove(keys: readonly CID[]): void {
    for (const key of keys) this.#keys.delete(key.toString());
  }

  /** Resolves once `key` has been announced successfully after this call. */
  whenAnnounced(key: CID): Promise<void> {
    return new Promise((resolve) => {
      const id = key.toString();
      const list = this.#announced.get(id);
      if (list) list.push(resolve);
      else this.#announced.set(id, [resolve]);
    });
  }

  #schedule(delayMs: number): void {
    if (!this.#started || this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.#announceDue().finally(() => {
        this.#running = undefined;
        this.#scheduleNext();
      });
    }, delayMs);
  }

  #scheduleNext(): void {
    if (!this.#started || this.#keys.size === 0) return;
    let next = Infinity;
    for (const entry of this.#keys.values()) next = Math.min(next, entry.due);
    this.#schedule(Math.max(0, next - Date.now()));
  }

  async #announceDue(): Promise<void> {
    const signal = this.#abort.signal;
    for (const [id, entry] of this.#keys) {
      if (signal.aborted) return;
      if (entry.due > Date.now()) continue;
      try {
        this.#metrics.discoveryQuery();
        await this.#routing.provide(entry.key, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.provideTimeoutMs)]),
        });
        entry.due = Date.now() + this.#options.reannounceIntervalMs;
        for (const resolve of this.#announced.get(id)?.splice(0) ?? []) resolve();
        this.#announced.delete(id);
      } catch (error) {
        if (signal.aborted) return;
        entry.due = Date.now() + this.#options.retryMs;
        this.#options.log(`announcing ${id} failed, retrying later: ${String(error)}`);
      }
    }
  }
}
