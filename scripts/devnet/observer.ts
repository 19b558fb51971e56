/**
 * Watches the marketplace's events on the devnet's chain (every event since the deployment, decoded
 * with the contract's ABI, with its block's timestamp), for the demo's display, the tests' checks and
 * the soak run's accounting. `waitFor` resolves when an event matching a predicate has been seen.
 */
import type { JsonRpcProvider, LogDescription } from "ethers";
import { Marketplace__factory } from "../../node/src/chain/contracts/index.js";

export interface ChainEvent {
  name: string;
  args: Record<string, unknown>;
  blockNumber: number;
  timestamp: bigint;
  transactionHash: string;
  /** The account that sent the transaction (the host of a SlotFilled, the validator of a mark). */
  from: string;
}

const marketplaceInterface = Marketplace__factory.createInterface();

/** Decoded named arguments of a log (bigints stay bigints, ids stay hex strings). */
function argsOf(description: LogDescription): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  description.fragment.inputs.forEach((input, i) => {
    args[input.name] = description.args[i];
  });
  return args;
}

export class ChainObserver {
  readonly events: ChainEvent[] = [];
  #nextBlock: number;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #listeners = new Set<(event: ChainEvent) => void>();

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly marketplace: string,
    fromBlock: number,
  ) {
    this.#nextBlock = fromBlock;
  }

  /** The last block whose events have been read. */
  get lastBlock(): number {
    return this.#nextBlock - 1;
  }

  start(intervalMs = 500): void {
    this.#timer ??= setInterval(() => void this.poll(), intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#polling;
  }

  /** Reads the events of the blocks not read yet (one poll at a time). */
  poll(): Promise<void> {
    this.#polling ??= this.#poll()
      .catch(() => undefined)
      .finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #poll(): Promise<void> {
    const latest = await this.provider.getBlockNumber();
    if (latest < this.#nextBlock) return;
    const logs = await this.provider.getLogs({
      address: this.marketplace,
      fromBlock: this.#nextBlock,
      toBlock: latest,
    });
    const timestamps = new Map<number, bigint>();
    for (const log of logs) {
      const description = marketplaceInterface.parseLog(log);
      if (!description) continue;
      let timestamp = timestamps.get(log.blockNumber);
      if (timestamp === undefined) {
        timestamp = BigInt((await this.provider.getBlock(log.blockNumber))!.timestamp);
        timestamps.set(log.blockNumber, timestamp);
      }
      const transaction = await this.provider.getTransaction(log.transactionHash);
      const event: ChainEvent = {
        name: description.name,
        args: argsOf(description),
        blockNumber: log.blockNumber,
        timestamp,
        transactionHash: log.transactionHash,
        from: transaction?.from ?? "",
      };
      this.events.push(event);
      for (const listener of this.#listeners) listener(event);
    }
    this.#nextBlock = latest + 1;
  }

  /** Calls `listener` for each event seen from now on; returns a function that stops it. */
  on(listener: (event: ChainEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events named `name` (and matching `where`), seen so far. */
  find(name: string, where: (args: Record<string, unknown>) => boolean = () => true): ChainEvent[] {
    return this.events.filter((e) => e.name === name && where(e.args));
  }

  /**
   * The first event named `name` matching `where`, seen so far or within `timeoutMs`; rejects
   * after that with `what` in the message.
   */
  async waitFor(
    name: string,
    where: (args: Record<string, unknown>) => boolean,
    timeoutMs: number,
    what = name,
  ): Promise<ChainEvent> {
    const seen = this.find(name, where)[0];
    if (seen) return seen;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stopListening();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const stopListening = this.on((event) => {
        if (event.name === name && where(event.args)) {
          clearTimeout(timer);
          stopListening();
          resolve(event);
        }
      });
    });
  }
}
