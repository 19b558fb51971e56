/**
 * The node's one way to the Marketplace contract: typed reads, transactions through the account's
 * TransactionManager (nonces, gas, fee bumps, decoded reverts), token approvals done where a call
 * needs them, and the contract's events decoded from a persisted-cursor LogPoller. The client,
 * host and validator roles all use this class and nothing else of ethers.
 */
import {
  AbiCoder,
  Contract,
  type Interface,
  type Log,
  type Provider,
  type Signer,
  type TransactionReceipt,
  keccak256,
  getAddress,
} from "ethers";
import { HoldfastError } from "../errors.js";
import type { Groth16ProofArg } from "../proof/groth16-encoding.js";
import { type Marketplace, Marketplace__factory, TestToken__factory } from "./contracts/index.js";
import type { MarketplaceConfigStructOutput } from "./contracts/marketplace/Marketplace.js";
import { type CursorStore, LogPoller } from "./log-poller.js";
import { revertDataOf } from "./revert-reason.js";
import { TransactionManager, type TransactionManagerOptions } from "./transaction-manager.js";

/** The contract's Request, with plain bigint/string fields (as getRequest returns and ids hash). */
export interface StorageRequest {
  client: string;
  ask: {
    proofProbability: bigint;
    pricePerBytePerSecond: bigint;
    collateralPerByte: bigint;
    slots: bigint;
    slotSize: bigint;
    duration: bigint;
    maxSlotLoss: bigint;
  };
  /** cid: UTF-8 bytes of the dataset's id, hex; merkleRoot: the dataset root, 32 bytes LE, hex. */
  content: { cid: string; merkleRoot: string };
  expiry: bigint;
  nonce: string;
}

export const REQUEST_STATES = ["new", "started", "cancelled", "finished", "failed"] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export const SLOT_STATES = [
  "free",
  "filled",
  "finished",
  "failed",
  "paid",
  "cancelled",
  "repair",
] as const;
export type SlotState = (typeof SLOT_STATES)[number];

/** The marketplace's configuration, read once at connect. */
export interface MarketplaceConfig {
  collateral: {
    repairRewardPercentage: number;
    maxNumberOfSlashes: number;
    slashPercentage: number;
    validatorRewardPercentage: number;
  };
  proofs: {
    period: bigint;
    timeout: bigint;
    downtime: number;
    downtimeProduct: number;
    zkeyHash: string;
    minBlockTimeMs: number;
  };
  reservations: {
    maxReservations: number;
    windowDoublings: number;
    windowExpansionPercentage: number;
  };
  requestDurationLimit: bigint;
}

/** A decoded Marketplace event with where it happened. */
export type MarketplaceEvent = {
  blockNumber: number;
  transactionHash: string;
  logIndex: number;
} & (
  | { name: "StorageRequested"; requestId: string; ask: StorageRequest["ask"]; expiry: bigint }
  | { name: "RequestFulfilled" | "RequestCancelled" | "RequestFailed"; requestId: string }
  | { name: "SlotFilled" | "SlotFreed"; requestId: string; slotIndex: bigint }
  | { name: "ProofMarkedMissing"; slotId: string; period: bigint; validator: string }
  | { name: "SlotPaid"; slotId: string; host: string; amount: bigint }
  | { name: "FundsWithdrawn"; requestId: string; client: string; amount: bigint }
  | { name: "ValidatorRewardWithdrawn"; validator: string; amount: bigint }
);

export type MarketplaceEventName = MarketplaceEvent["name"];

const REQUEST_TUPLE =
  "tuple(address client, tuple(uint256 proofProbability, uint256 pricePerBytePerSecond, uint256 collateralPerByte, uint64 slots, uint64 slotSize, uint64 duration, uint64 maxSlotLoss) ask, tuple(bytes cid, bytes32 merkleRoot) content, uint64 expiry, bytes32 nonce)";

/** keccak256(abi.encode(request)): the contract's RequestId (Requests.sol). */
export function requestIdOf(request: StorageRequest): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode([REQUEST_TUPLE], [request]));
}

/** keccak256(abi.encode(requestId, slotIndex)): the contract's SlotId. */
export function slotIdOf(requestId: string, slotIndex: bigint | number): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [requestId, BigInt(slotIndex)]),
  );
}

export interface MarketplaceClientOptions {
  provider: Provider;
  /** Needed for transactions; a read-only client (e.g. a dashboard) may omit it. */
  signer?: Signer | undefined;
  address: string;
  transactions?: TransactionManagerOptions;
  /** Blocks before an event counts (default 1; 0 on a local automining chain). */
  confirmations?: number;
  /** Widest eth_getLogs range to ask for (halved automatically when refused). */
  maxLogRange?: number;
}

export class MarketplaceClient {
  readonly contract: Marketplace;
  readonly #token: Contract;
  readonly #tx: TransactionManager | undefined;
  #allowanceLock: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly provider: Provider,
    readonly signer: Signer | undefined,
    readonly address: string,
    readonly chainId: bigint,
    readonly account: string | undefined,
    readonly tokenAddress: string,
    readonly config: MarketplaceConfig,
    private readonly options: MarketplaceClientOptions,
  ) {
    this.contract = Marketplace__factory.connect(address, signer ?? provider);
    this.#token = new Contract(tokenAddress, TestToken__factory.abi, signer ?? provider);
    this.#tx = signer
      ? new TransactionManager(signer, {
          ...options.transactions,
          interfaces: [
            Marketplace__factory.createInterface(),
            TestToken__factory.createInterface(),
            ...(options.transactions?.interfaces ?? []),
          ],
        })
      : undefined;
  }

  /**
   * Connects to the marketplace at `address`, checking there is a contract there that answers as a
   * Marketplace, and reads its configuration and token. Throws HoldfastError ERR_CHAIN otherwise.
   */
  static async connect(options: MarketplaceClientOptions): Promise<MarketplaceClient> {
    const { provider, signer } = options;
    let address: string;
    try {
      address = getAddress(options.address);
    } catch {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `marketplace address "${options.address}" is not an address`,
      );
    }
    const { chainId } = await provider.getNetwork();
    if ((await provider.getCode(address)) === "0x") {
      throw new HoldfastError(
        "ERR_CHAIN",
        `no contract at marketplace address ${address} on chain ${chainId}`,
      );
    }
    const contract = Marketplace__factory.connect(address, provider);
    let config: MarketplaceConfigStructOutput;
    let token: string;
    try {
      [config, token] = await Promise.all([contract.configuration(), contract.token()]);
    } catch (error) {
      throw new HoldfastError(
        "ERR_CHAIN",
        `the contract at ${address} on chain ${chainId} does not answer as a Holdfast marketplace`,
        { cause: error },
      );
    }
    const account = signer ? await signer.getAddress() : undefined;
    return new MarketplaceClient(
      provider,
      signer,
      address,
      chainId,
      account,
      token,
      plainConfig(config),
      options,
    );
  }

  // ---- reads ----

  /** The latest block's timestamp: the chain's "now", which can differ from the wall clock. */
  async now(): Promise<bigint> {
    return (await this.head()).timestamp;
  }

  /** The latest block's number and timestamp. */
  async head(): Promise<{ number: number; timestamp: bigint }> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new HoldfastError("ERR_CHAIN", "the provider returned no latest block");
    return { number: block.number, timestamp: BigInt(block.timestamp) };
  }

  async getRequest(requestId: string): Promise<StorageRequest | undefined> {
    try {
      return plainRequest(await this.contract.getRequest(requestId));
    } catch (error) {
      if (isCustomError(error, "Marketplace_UnknownRequest", this.contract.interface))
        return undefined;
      throw error;
    }
  }

  async requestState(requestId: string): Promise<RequestState> {
    return REQUEST_STATES[Number(await this.contract.requestState(requestId))]!;
  }

  async slotState(slotId: string): Promise<SlotState> {
    return SLOT_STATES[Number(await this.contract.slotState(slotId))]!;
  }

  /** The slot's host, undefined when none. */
  async getHost(slotId: string): Promise<string | undefined> {
    const host = await this.contract.getHost(slotId);
    return host === "0x0000000000000000000000000000000000000000" ? undefined : host;
  }

  requestEnd(requestId: string): Promise<bigint> {
    return this.contract.requestEnd(requestId);
  }

  requestExpiry(requestId: string): Promise<bigint> {
    return this.contract.requestExpiry(requestId);
  }

  currentPeriod(): Promise<bigint> {
    return this.contract.currentPeriod();
  }

  /** The period a chain timestamp falls in. */
  periodOf(timestamp: bigint): bigint {
    return timestamp / this.config.proofs.period;
  }

  /** Unix seconds at which `period` ends. */
  periodEnd(period: bigint): bigint {
    return (period + 1n) * this.config.proofs.period;
  }

  /**
   * The pointer of `slotId` for `period` at block `blockNumber` (contracts/marketplace/Proofs.sol):
   * how far back the challenge's block hash is read. Below `downtime` no proof is required.
   */
  pointerAt(slotId: string, period: bigint, blockNumber: number): number {
    const { downtimeProduct } = this.config.proofs;
    return Number(
      (BigInt(blockNumber) +
        ((period * BigInt(downtimeProduct)) % 256n) +
        (BigInt(slotId) % 256n)) %
        256n,
    );
  }

  getChallenge(slotId: string): Promise<string> {
    return this.contract.getChallenge(slotId);
  }

  isProofRequired(slotId: string): Promise<boolean> {
    return this.contract.isProofRequired(slotId);
  }

  willProofBeRequired(slotId: string): Promise<boolean> {
    return this.contract.willProofBeRequired(slotId);
  }

  canReserveSlot(requestId: string, slotIndex: bigint, host: string): Promise<boolean> {
    return this.contract.canReserveSlot(requestId, slotIndex, host);
  }

  /** When `host` enters the slot's reservation window (the expanding window of reservations). */
  reservationEligibleAt(requestId: string, slotIndex: bigint, host: string): Promise<bigint> {
    return this.contract.reservationEligibleAt(requestId, slotIndex, host);
  }

  missingProofs(slotId: string): Promise<bigint> {
    return this.contract.missingProofs(slotId);
  }

  currentCollateral(slotId: string): Promise<bigint> {
    return this.contract.currentCollateral(slotId);
  }

  validatorReward(validator: string): Promise<bigint> {
    return this.contract.validatorReward(validator);
  }

  /** Ids of requests made by this account that still hold funds. */
  async myRequests(): Promise<string[]> {
    return [...(await this.contract.myRequests({ from: this.#requireAccount() }))];
  }

  /** Ids of slots this account hosts or may still collect from. */
  async mySlots(): Promise<string[]> {
    return [...(await this.contract.mySlots({ from: this.#requireAccount() }))];
  }

  async tokenBalance(account: string): Promise<bigint> {
    return (await this.#token.getFunction("balanceOf")(account)) as bigint;
  }

  // ---- transactions ----

  /** Approves the request's maximum price, then requests storage. Returns the request's id. */
  async requestStorage(
    request: StorageRequest,
    signal?: AbortSignal,
  ): Promise<{ requestId: string; receipt: TransactionReceipt }> {
    const { ask } = request;
    const price = ask.slots * ask.duration * ask.pricePerBytePerSecond * ask.slotSize;
    const receipt = await this.#spending(price, "approve the request's price", signal, () =>
      this.#send("requestStorage", [request], `requestStorage ${requestIdOf(request)}`, signal),
    );
    return { requestId: requestIdOf(request), receipt };
  }

  reserveSlot(requestId: string, slotIndex: bigint, signal?: AbortSignal) {
    return this.#send(
      "reserveSlot",
      [requestId, slotIndex],
      `reserveSlot ${requestId}/${slotIndex}`,
      signal,
    );
  }

  /** Approves `collateral` (what the slot needs now: see currentCollateral), then fills the slot. */
  async fillSlot(
    requestId: string,
    slotIndex: bigint,
    proof: Groth16ProofArg,
    collateral: bigint,
    signal?: AbortSignal,
  ) {
    return this.#spending(
      collateral,
      `approve collateral of ${requestId}/${slotIndex}`,
      signal,
      () =>
        this.#send(
          "fillSlot",
          [requestId, slotIndex, proof],
          `fillSlot ${requestId}/${slotIndex}`,
          signal,
        ),
    );
  }

  submitProof(slotId: string, proof: Groth16ProofArg, signal?: AbortSignal) {
    return this.#send("submitProof", [slotId, proof], `submitProof ${slotId}`, signal);
  }

  markProofAsMissing(slotId: string, period: bigint, signal?: AbortSignal) {
    return this.#send(
      "markProofAsMissing",
      [slotId, period],
      `markProofAsMissing ${slotId} period ${period}`,
      signal,
    );
  }

  freeSlot(slotId: string, signal?: AbortSignal) {
    return this.#send("freeSlot", [slotId], `freeSlot ${slotId}`, signal);
  }

  withdrawFunds(requestId: string, signal?: AbortSignal) {
    return this.#send("withdrawFunds", [requestId], `withdrawFunds ${requestId}`, signal);
  }

  withdrawValidatorReward(signal?: AbortSignal) {
    return this.#send("withdrawValidatorReward", [], "withdrawValidatorReward", signal);
  }

  // ---- events ----

  /**
   * A poller delivering this marketplace's events in chain order, from `startBlock` or from the
   * cursor saved under `cursorKey` (so a restarted node neither misses nor repeats a range).
   */
  events(options: {
    cursorKey: string;
    store: CursorStore;
    startBlock: number;
    /** Only these events (filtered by the provider: fewer logs per query); all when omitted. */
    names?: readonly MarketplaceEventName[];
    onEvents: (events: readonly MarketplaceEvent[]) => Promise<void>;
  }): LogPoller {
    const iface = this.contract.interface as unknown as {
      getEvent(name: string): { topicHash: string } | null;
    };
    const topics = options.names && [options.names.map((name) => iface.getEvent(name)!.topicHash)];
    return new LogPoller(this.provider, {
      cursorKey: options.cursorKey,
      store: options.store,
      address: this.address,
      ...(topics ? { topics } : {}),
      startBlock: options.startBlock,
      confirmations: this.options.confirmations ?? 1,
      maxBlockRange: this.options.maxLogRange ?? 2_000,
      onLogs: (logs) => options.onEvents(logs.flatMap((log) => this.decodeEvent(log) ?? [])),
    });
  }

  /** The event a log carries; undefined for logs that are not this marketplace's. */
  decodeEvent(log: Log): MarketplaceEvent | undefined {
    if (getAddress(log.address) !== this.address) return undefined;
    let parsed;
    try {
      parsed = this.contract.interface.parseLog(log);
    } catch {
      return undefined;
    }
    if (!parsed) return undefined;
    const where = {
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
      logIndex: log.index,
    };
    const a = parsed.args;
    switch (parsed.name) {
      case "StorageRequested":
        return {
          ...where,
          name: "StorageRequested",
          requestId: a[0] as string,
          ask: plainAsk(a[1]),
          expiry: a[2] as bigint,
        };
      case "RequestFulfilled":
      case "RequestCancelled":
      case "RequestFailed":
        return { ...where, name: parsed.name, requestId: a[0] as string };
      case "SlotFilled":
      case "SlotFreed":
        return {
          ...where,
          name: parsed.name,
          requestId: a[0] as string,
          slotIndex: a[1] as bigint,
        };
      case "ProofMarkedMissing":
        return {
          ...where,
          name: "ProofMarkedMissing",
          slotId: a[0] as string,
          period: a[1] as bigint,
          validator: a[2] as string,
        };
      case "SlotPaid":
        return {
          ...where,
          name: "SlotPaid",
          slotId: a[0] as string,
          host: a[1] as string,
          amount: a[2] as bigint,
        };
      case "FundsWithdrawn":
        return {
          ...where,
          name: "FundsWithdrawn",
          requestId: a[0] as string,
          client: a[1] as string,
          amount: a[2] as bigint,
        };
      case "ValidatorRewardWithdrawn":
        return {
          ...where,
          name: "ValidatorRewardWithdrawn",
          validator: a[0] as string,
          amount: a[1] as bigint,
        };
      default:
        return undefined;
    }
  }

  #requireAccount(): string {
    if (!this.account)
      throw new HoldfastError("ERR_INVALID_ARGUMENT", "this client has no signing account");
    return this.account;
  }

  /**
   * Approves `amount`, then runs `spend`, with no other approval of this account in between: an
   * approval replaces the allowance, so a concurrent one (the host role's collateral while the
   * client role requests storage, or two requests) would otherwise leave the first too little.
   */
  #spending<T>(
    amount: bigint,
    description: string,
    signal: AbortSignal | undefined,
    spend: () => Promise<T>,
  ): Promise<T> {
    const run = this.#allowanceLock.then(async () => {
      await this.#approve(amount, description, signal);
      return spend();
    });
    this.#allowanceLock = run.catch(() => {});
    return run;
  }

  async #approve(amount: bigint, description: string, signal?: AbortSignal) {
    if (amount === 0n) return;
    const owner = this.#requireAccount();
    const allowance = (await this.#token.getFunction("allowance")(owner, this.address)) as bigint;
    if (allowance >= amount) return;
    await this.#tx!.send(
      {
        to: this.tokenAddress,
        data: this.#token.interface.encodeFunctionData("approve", [this.address, amount]),
      },
      description,
      signal,
    );
  }

  #send(method: string, args: unknown[], description: string, signal?: AbortSignal) {
    this.#requireAccount();
    // The typed overloads need a literal method name; every caller above passes one.
    const iface = this.contract.interface as unknown as {
      encodeFunctionData(name: string, values: readonly unknown[]): string;
    };
    return this.#tx!.send(
      { to: this.address, data: iface.encodeFunctionData(method, args) },
      description,
      signal,
    );
  }
}

/**
 * Whether a call failed with the custom error `name`. ethers decodes it into error.revert over
 * JSON-RPC, but Hardhat's in-process provider throws its own error carrying only the revert data.
 */
function isCustomError(error: unknown, name: string, iface: Interface): boolean {
  const e = error as { revert?: { name?: string } };
  if (e?.revert?.name === name) return true;
  const data = revertDataOf(error);
  if (!data) return false;
  try {
    return iface.parseError(data)?.name === name;
  } catch {
    return false;
  }
}

function plainAsk(ask: {
  proofProbability: bigint;
  pricePerBytePerSecond: bigint;
  collateralPerByte: bigint;
  slots: bigint;
  slotSize: bigint;
  duration: bigint;
  maxSlotLoss: bigint;
}): StorageRequest["ask"] {
  return {
    proofProbability: ask.proofProbability,
    pricePerBytePerSecond: ask.pricePerBytePerSecond,
    collateralPerByte: ask.collateralPerByte,
    slots: ask.slots,
    slotSize: ask.slotSize,
    duration: ask.duration,
    maxSlotLoss: ask.maxSlotLoss,
  };
}

function plainRequest(r: Awaited<ReturnType<Marketplace["getRequest"]>>): StorageRequest {
  return {
    client: r.client,
    ask: plainAsk(r.ask),
    content: { cid: r.content.cid, merkleRoot: r.content.merkleRoot },
    expiry: r.expiry,
    nonce: r.nonce,
  };
}

function plainConfig(c: MarketplaceConfigStructOutput): MarketplaceConfig {
  return {
    collateral: {
      repairRewardPercentage: Number(c.collateral.repairRewardPercentage),
      maxNumberOfSlashes: Number(c.collateral.maxNumberOfSlashes),
      slashPercentage: Number(c.collateral.slashPercentage),
      validatorRewardPercentage: Number(c.collateral.validatorRewardPercentage),
    },
    proofs: {
      period: c.proofs.period,
      timeout: c.proofs.timeout,
      downtime: Number(c.proofs.downtime),
      downtimeProduct: Number(c.proofs.downtimeProduct),
      zkeyHash: c.proofs.zkeyHash,
      minBlockTimeMs: Number(c.proofs.minBlockTimeMs),
    },
    reservations: {
      maxReservations: Number(c.reservations.maxReservations),
      windowDoublings: Number(c.reservations.windowDoublings),
      windowExpansionPercentage: Number(c.reservations.windowExpansionPercentage),
    },
    requestDurationLimit: c.requestDurationLimit,
  };
}
