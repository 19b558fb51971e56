import type { Log, Provider } from "ethers";

/** Where a poller remembers the last block it has fully delivered, so a restart resumes there. */
export interface CursorStore {
  load(key: string): Promise<number | undefined>;
  save(key: string, block: number): Promise<void>;
}

export class MemoryCursorStore implements CursorStore {
  readonly #cursors = new Map<string, number>();
  async load(key: string) {
    return this.#cursors.get(key);
  }
  async save(key: string, block: number) {
    this.#cursors.set(key, block);
  }
}

export interface LogPollerOptions {
  /** Names this poller's cursor in the store. */
  cursorKey: string;
  store: CursorStore;
  address: string | string[];
  topics?: (string | string[] | null)[];
  /** First block to read when the store has no cursor yet (e.g. the contract's deployment block). */
  startBlock: number;
  /** Blocks to wait before a log counts: logs of reorganised blocks are never delivered. */
  confirmations?: number;
  /** Widest range asked of the provider at once; halved (down to 1) when a provider refuses one. */
  maxBlockRange?: number;
  /** Receives each range's logs in chain order; the cursor moves only after it resolves. */
  onLogs: (logs: readonly Log[], range: { from: number; to: number }) => Promise<void>;
}

/**
 * Follows a contract's events by polling eth_getLogs: chain-agnostic, works over plain HTTP RPC, and
 * survives restarts through its persisted cursor. Public RPC providers cap the block range (or the
 * result count) of a log query; a refused query is split in halves instead of failing.
 */
export class LogPoller {
  readonly #provider: Provider;
  readonly #options: Required<Omit<LogPollerOptions, "topics">> & {
    topics?: LogPollerOptions["topics"];
  };
  #range: number;

  constructor(provider: Provider, options: LogPollerOptions) {
    this.#provider = provider;
    this.#options = { confirmations: 2, maxBlockRange: 2_000, ...options };
    if (!Number.isInteger(this.#options.maxBlockRange) || this.#options.maxBlockRange < 1) {
      throw new RangeError("LogPoller: maxBlockRange must be a positive integer");
    }
    this.#range = this.#options.maxBlockRange;
  }

  /** The block range currently asked for at once (smaller after a provider refused a wider one). */
  get blockRange(): number {
    return this.#range;
  }

  /** Reads every confirmed block past the cursor; returns how many logs were delivered. */
  async pollOnce(signal?: AbortSignal): Promise<number> {
    const { store, cursorKey, startBlock, confirmations } = this.#options;
    const head = await this.#provider.getBlockNumber();
    const safe = head - confirmations;
    let from = ((await store.load(cursorKey)) ?? startBlock - 1) + 1;
    let delivered = 0;
    while (from <= safe) {
      if (signal?.aborted) break;
      const to = Math.min(from + this.#range - 1, safe);
      let logs: Log[];
      try {
        logs = await this.#provider.getLogs({
          address: this.#options.address,
          topics: this.#options.topics,
          fromBlock: from,
          toBlock: to,
        });
      } catch (error) {
        if (to > from && isRangeRefusal(error)) {
          this.#range = Math.max(1, Math.floor((to - from + 1) / 2));
          continue;
        }
        throw error;
      }
      logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
      await this.#options.onLogs(logs, { from, to });
      await store.save(cursorKey, to);
      delivered += logs.length;
      from = to + 1;
    }
    return delivered;
  }
}

/**
 * Providers word range limits differently: Alchemy, Infura, QuickNode, geth and Taiko's public RPC
 * all answer with one of these (JSON-RPC codes -32005 "limit exceeded" and -32602 on some).
 */
function isRangeRefusal(error: unknown): boolean {
  const e = error as {
    code?: unknown;
    error?: { code?: unknown; message?: unknown };
    message?: unknown;
  };
  const code = e?.error?.code ?? e?.code;
  const text = `${String(e?.message ?? "")} ${String(e?.error?.message ?? "")}`.toLowerCase();
  return (
    code === -32005 ||
    /block range|range too (large|wide)|too many (results|blocks|logs)|more than \d+ (results|logs)|limit exceeded|response size|exceed(s|ed)? max/.test(
      text,
    )
  );
}
