import {
  type Interface,
  type Provider,
  type Signer,
  type TransactionReceipt,
  type TransactionRequest,
  Transaction,
  isCallException,
} from "ethers";
import { describeRevert, revertDataOf } from "./revert-reason.js";

/** Why a transaction did not go through, with the contract's error name where there is one. */
export class TransactionError extends Error {
  constructor(
    readonly code: "REVERTED" | "REJECTED" | "STUCK" | "ABORTED",
    readonly description: string,
    readonly reason: string,
    readonly txHash?: string,
  ) {
    super(`${description}: ${reason}`);
    this.name = "TransactionError";
  }
}

export interface TransactionManagerOptions {
  /** Extra gas over the estimate, in percent: estimates are taken against the pending state. */
  gasPaddingPercent?: number;
  /** A transaction not mined this long after its last broadcast is re-sent with higher fees. */
  stuckAfterMs?: number;
  /** Fee increase per re-send, in percent; nodes refuse replacements under +10%. */
  feeBumpPercent?: number;
  maxResubmissions?: number;
  /** Never offer more than this per gas, whatever the network asks. */
  maxFeePerGasCap?: bigint;
  pollIntervalMs?: number;
  /** Contract interfaces whose custom errors revert reasons are decoded with. */
  interfaces?: readonly Interface[];
  log?: (event: string, fields: Record<string, unknown>) => void;
}

interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/**
 * Sends one account's transactions. Nonces are assigned here, in order, instead of asking the node
 * for each transaction (concurrent sends from one account otherwise collide on the same nonce); gas
 * is estimated and padded; a transaction that stays unmined is re-signed with the same nonce and
 * higher fees; a revert is reported with the contract's custom error name.
 */
export class TransactionManager {
  readonly #signer: Signer;
  readonly #provider: Provider;
  readonly #options: Required<Omit<TransactionManagerOptions, "maxFeePerGasCap">> & {
    maxFeePerGasCap?: bigint;
  };
  #nextNonce: number | undefined;
  #assigning: Promise<unknown> = Promise.resolve();
  #chainId: bigint | undefined;

  constructor(signer: Signer, options: TransactionManagerOptions = {}) {
    if (!signer.provider)
      throw new Error("TransactionManager: the signer must be connected to a provider");
    this.#signer = signer;
    this.#provider = signer.provider;
    this.#options = {
      gasPaddingPercent: options.gasPaddingPercent ?? 25,
      stuckAfterMs: options.stuckAfterMs ?? 90_000,
      feeBumpPercent: options.feeBumpPercent ?? 20,
      maxResubmissions: options.maxResubmissions ?? 5,
      maxFeePerGasCap: options.maxFeePerGasCap,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      interfaces: options.interfaces ?? [],
      log: options.log ?? (() => {}),
    };
    if (this.#options.feeBumpPercent < 10)
      throw new Error("TransactionManager: feeBumpPercent must be >= 10");
  }

  /**
   * Estimates, signs and broadcasts `request`, then waits until it is mined. Resolves with the
   * receipt of a successful transaction; rejects with a TransactionError otherwise. Calls are safe
   * to make concurrently: nonces are handed out in call order.
   */
  async send(
    request: TransactionRequest,
    description: string,
    signal?: AbortSignal,
  ): Promise<TransactionReceipt> {
    const from = await this.#signer.getAddress();
    const base: TransactionRequest = { ...request, from };
    let gasLimit: bigint;
    try {
      gasLimit =
        ((await this.#provider.estimateGas(base)) * BigInt(100 + this.#options.gasPaddingPercent)) /
        100n;
    } catch (error) {
      // An estimate fails when the call would revert, and also when the node cannot be reached:
      // only the first is the contract's answer.
      const reverted = revertDataOf(error) !== undefined || isCallException(error);
      throw new TransactionError(
        reverted ? "REVERTED" : "REJECTED",
        description,
        this.#reasonOf(error),
      );
    }

    const {
      nonce,
      hash: firstHash,
      fees,
    } = await this.#serially(async () => {
      const nonce = await this.#takeNonce(from);
      const fees = await this.#currentFees();
      try {
        const hash = await this.#broadcast({ ...base, gasLimit, nonce, ...fees });
        this.#nextNonce = nonce + 1;
        return { nonce, hash, fees };
      } catch (error) {
        this.#nextNonce = undefined; // resynchronise with the node on the next send
        // Nodes that mine on submission (Hardhat's automine) answer a reverting transaction with
        // its revert data: it was mined and failed, which is a revert, not a refusal.
        const data = revertDataOf(error);
        if (data)
          throw new TransactionError(
            "REVERTED",
            description,
            this.#reasonOf(error),
            transactionHashOf(error),
          );
        throw new TransactionError("REJECTED", description, errorMessage(error));
      }
    });
    this.#options.log("tx-sent", {
      description,
      nonce,
      hash: firstHash,
      maxFeePerGas: fees.maxFeePerGas,
    });

    const hashes = [firstHash];
    let currentFees = fees;
    let lastBroadcast = Date.now();
    let resubmissions = 0;
    for (;;) {
      if (signal?.aborted)
        throw new TransactionError("ABORTED", description, "aborted while waiting", firstHash);
      for (const hash of hashes) {
        const receipt = await this.#provider.getTransactionReceipt(hash);
        if (receipt) return this.#settle(receipt, base, description);
      }
      if (Date.now() - lastBroadcast >= this.#options.stuckAfterMs) {
        if (resubmissions >= this.#options.maxResubmissions) {
          throw new TransactionError(
            "STUCK",
            description,
            `not mined after ${resubmissions} fee increases`,
            firstHash,
          );
        }
        currentFees = this.#bump(currentFees, await this.#currentFees());
        try {
          hashes.push(await this.#broadcast({ ...base, gasLimit, nonce, ...currentFees }));
          resubmissions++;
          this.#options.log("tx-resent", {
            description,
            nonce,
            maxFeePerGas: currentFees.maxFeePerGas,
          });
        } catch (error) {
          // The earlier one may have been mined meanwhile ("nonce too low"): the receipt check settles it.
          this.#options.log("tx-resend-refused", {
            description,
            nonce,
            error: errorMessage(error),
          });
        }
        lastBroadcast = Date.now();
      }
      await sleep(this.#options.pollIntervalMs, signal);
    }
  }

  async #settle(receipt: TransactionReceipt, request: TransactionRequest, description: string) {
    if (receipt.status === 1) return receipt;
    // Replay the call on the state the transaction saw to learn why it reverted.
    let reason = "reverted";
    try {
      await this.#provider.call({ ...request, blockTag: receipt.blockNumber - 1 });
    } catch (error) {
      reason = this.#reasonOf(error);
    }
    throw new TransactionError("REVERTED", description, reason, receipt.hash);
  }

  #reasonOf(error: unknown): string {
    const data = revertDataOf(error);
    return data ? describeRevert(data, this.#options.interfaces) : errorMessage(error);
  }

  async #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#assigning.then(work, work);
    this.#assigning = run.catch(() => {});
    return run;
  }

  async #takeNonce(from: string): Promise<number> {
    if (this.#nextNonce === undefined)
      this.#nextNonce = await this.#provider.getTransactionCount(from, "pending");
    return this.#nextNonce;
  }

  async #currentFees(): Promise<Fees> {
    const data = await this.#provider.getFeeData();
    let maxFeePerGas = data.maxFeePerGas ?? data.gasPrice ?? 0n;
    let maxPriorityFeePerGas = data.maxPriorityFeePerGas ?? 0n;
    const cap = this.#options.maxFeePerGasCap;
    if (cap !== undefined && maxFeePerGas > cap) maxFeePerGas = cap;
    if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
    return { maxFeePerGas, maxPriorityFeePerGas };
  }

  #bump(previous: Fees, network: Fees): Fees {
    const factor = BigInt(100 + this.#options.feeBumpPercent);
    const raise = (old: bigint, now: bigint) => {
      const bumped = (old * factor + 99n) / 100n;
      return bumped > now ? bumped : now;
    };
    let maxFeePerGas = raise(previous.maxFeePerGas, network.maxFeePerGas);
    let maxPriorityFeePerGas = raise(previous.maxPriorityFeePerGas, network.maxPriorityFeePerGas);
    const cap = this.#options.maxFeePerGasCap;
    if (cap !== undefined && maxFeePerGas > cap) maxFeePerGas = cap;
    if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
    return { maxFeePerGas, maxPriorityFeePerGas };
  }

  async #broadcast(
    tx: TransactionRequest & Fees & { nonce: number; gasLimit: bigint },
  ): Promise<string> {
    this.#chainId ??= (await this.#provider.getNetwork()).chainId;
    const signed = await this.#signer.signTransaction({ ...tx, type: 2, chainId: this.#chainId });
    const hash = Transaction.from(signed).hash!;
    try {
      await this.#provider.broadcastTransaction(signed);
    } catch (error) {
      // A failure here need not be a refusal: ethers reads the block number alongside the broadcast
      // (and shares a failed read for 250 ms), and an answer can be lost. A transaction the node
      // knows was sent; treating it as refused would reuse its nonce.
      if (revertDataOf(error) !== undefined) throw error;
      const known = await this.#provider.getTransaction(hash).catch(() => null);
      if (!known) throw error;
      this.#options.log("tx-broadcast-error-ignored", { hash, error: errorMessage(error) });
    }
    return hash;
  }
}

function transactionHashOf(error: unknown): string | undefined {
  const hash = (error as { transactionHash?: unknown })?.transactionHash;
  return typeof hash === "string" ? hash : undefined;
}

function errorMessage(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string };
  return e?.shortMessage ?? e?.message ?? String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
