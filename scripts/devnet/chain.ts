/**
 * A local chain for the devnet: `hardhat node` as a JSON-RPC process on 127.0.0.1, and the
 * development helpers the demo and the tests use to move its time (evm_increaseTime, evm_mine).
 */
import path from "node:path";
import { JsonRpcProvider } from "ethers";
import { repoRoot } from "../lib/paths.js";
import { freePort } from "./ports.js";
import { type ManagedProcess, startProcess, stopProcess } from "./processes.js";

export class Chain {
  readonly provider: JsonRpcProvider;
  #ticker: NodeJS.Timeout | undefined;
  #ticking: Promise<unknown> | undefined;

  private constructor(
    readonly url: string,
    readonly process: ManagedProcess,
  ) {
    // Quick polling: the devnet's chain mines a block whenever asked.
    this.provider = new JsonRpcProvider(url, undefined, {
      pollingInterval: 250,
      staticNetwork: true,
      batchMaxCount: 1,
      cacheTimeout: -1, // "latest" must mean the latest: the devnet moves time under the nodes
    });
  }

  /** Starts `hardhat node` on a free port and waits until it answers eth_chainId. */
  static async start(options: { dir: string; port?: number }): Promise<Chain> {
    const port = options.port ?? (await freePort());
    const hardhat = path.join(repoRoot, "node_modules", "hardhat", "dist", "src", "cli.js");
    const proc = await startProcess(
      "chain",
      process.execPath,
      [hardhat, "node", "--hostname", "127.0.0.1", "--port", String(port)],
      {
        logFile: path.join(options.dir, "chain.log"),
        cwd: repoRoot,
        env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
      },
    );
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (proc.done) {
        throw new Error(`the chain exited at start (${await proc.exited}); see ${proc.logFile}`);
      }
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
        });
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await stopProcess(proc);
        throw new Error(`the chain did not answer within 120 s; see ${proc.logFile}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return new Chain(url, proc);
  }

  async send<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return (await this.provider.send(method, params)) as T;
  }

  /** The latest block's timestamp. */
  async now(): Promise<bigint> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new Error("the chain has no latest block");
    return BigInt(block.timestamp);
  }

  async blockNumber(): Promise<number> {
    return this.provider.getBlockNumber();
  }

  /** Mines one block, `seconds` later than the clock would have it. */
  async increaseTime(seconds: bigint | number): Promise<void> {
    await this.send("evm_increaseTime", [Number(seconds)]);
    await this.send("evm_mine");
  }

  /**
   * Mines one block at `timestamp` (which must be after the latest block's); later blocks follow
   * on from it, as Hardhat keeps the offset to the wall clock.
   */
  async mineAt(timestamp: bigint): Promise<void> {
    await this.send("evm_setNextBlockTimestamp", [Number(timestamp)]);
    await this.send("evm_mine");
  }

  /** Mines blocks without moving time (hardhat_mine with a zero interval). */
  async mineBlocks(count: number): Promise<void> {
    if (count > 0) await this.send("hardhat_mine", [`0x${count.toString(16)}`, "0x0"]);
  }

  /** Moves the clock to the start of the period after the current one (`period` seconds long). */
  async toNextPeriod(period: bigint): Promise<bigint> {
    const now = await this.now();
    const next = (now / period + 1n) * period;
    await this.mineAt(next);
    return next;
  }

  /**
   * Mines a block every `intervalMs` (as a chain with a block time does), so that block-driven
   * logic (proof pointers, confirmations) moves on when nobody sends transactions.
   */
  startTicker(intervalMs = 1_000): void {
    if (this.#ticker) return;
    this.#ticker = setInterval(() => {
      this.#ticking ??= this.send("evm_mine")
        .catch(() => undefined)
        .finally(() => (this.#ticking = undefined));
    }, intervalMs);
  }

  async stopTicker(): Promise<void> {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    await this.#ticking;
  }

  async stop(): Promise<void> {
    await this.stopTicker();
    this.provider.destroy();
    await stopProcess(this.process);
  }
}
