/**
 * A storage request's life on the devnet, as the demo, the end-to-end tests and the soak run drive
 * and check it: availabilities on the hosts, the request through the client's API, the slots as the
 * chain's events tell them, one proof period at a time (waiting for every live host's proof and the
 * validator's marks of missed ones, then moving the clock to the next period), and the money each
 * actor should get by the marketplace's rules (contracts/marketplace/Payouts.sol).
 */
import { slotIdOf } from "../../node/src/chain/marketplace-client.js";
import type { StorageRequest } from "../../node/src/chain/marketplace-client.js";
import type {
  AvailabilityParams,
  JsonObject,
  StorageRequestParams,
} from "../../node/src/cli/api-client.js";
import type { Devnet } from "./devnet.js";
import type { DevnetNode } from "./nodes.js";
import type { ChainEvent } from "./observer.js";

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The request id in the client's answer to POST /storage/request/{cid}. */
export function requestIdFrom(answer: JsonObject): string {
  const id = answer.requestId ?? answer.id;
  if (typeof id !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(id)) {
    throw new Error(`the client's answer has no request id: ${JSON.stringify(answer)}`);
  }
  return id;
}

/** An availability every host can offer for the demo's requests. */
export function hostAvailability(requestDuration: number): AvailabilityParams {
  return {
    totalSize: 64 * 2 ** 20,
    duration: requestDuration * 4,
    minPricePerBytePerSecond: 1n,
    totalCollateral: 10n ** 21n,
  };
}

export interface SlotTenure {
  slotIndex: number;
  slotId: string;
  host: string;
  filledAt: bigint;
  /** Whether the fill was a repair (the slot was freed before). */
  repair: boolean;
  /** When the host was removed (SlotFreed), if it was. */
  freedAt?: bigint;
  /** Missed proofs marked during this tenure. */
  missed: number;
}

/** The slots of one request, read from the observer's events. */
export class RequestView {
  constructor(
    readonly devnet: Devnet,
    readonly requestId: string,
    readonly request: StorageRequest,
  ) {}

  static async of(devnet: Devnet, requestId: string): Promise<RequestView> {
    const request = await devnet.market.getRequest(requestId);
    if (!request) throw new Error(`request ${requestId} is not on chain`);
    return new RequestView(devnet, requestId, request);
  }

  #end: bigint | undefined;

  /** When the request ends (its storage duration after it started). */
  async endsAt(): Promise<bigint> {
    this.#end ??= await this.devnet.market.requestEnd(this.requestId);
    return this.#end;
  }

  #expiry: bigint | undefined;

  /** When the request is cancelled unless every slot was filled. */
  async expiresAt(): Promise<bigint> {
    this.#expiry ??= await this.devnet.market.requestExpiry(this.requestId);
    return this.#expiry;
  }

  get slots(): number {
    return Number(this.request.ask.slots);
  }

  slotId(index: number): string {
    return slotIdOf(this.requestId, index);
  }

  get pricePerSlotPerSecond(): bigint {
    return this.request.ask.pricePerBytePerSecond * this.request.ask.slotSize;
  }

  get collateralPerSlot(): bigint {
    return this.request.ask.collateralPerByte * this.request.ask.slotSize;
  }

  #mine(event: ChainEvent): boolean {
    return String(event.args.requestId).toLowerCase() === this.requestId.toLowerCase();
  }

  /** Every host's time in every slot so far (up to block `upTo`, if given), in order. */
  tenures(upTo = Infinity): SlotTenure[] {
    const tenures: SlotTenure[] = [];
    const current = new Map<number, SlotTenure>();
    const slotIds = new Map(
      Array.from({ length: this.slots }, (_, i) => [this.slotId(i).toLowerCase(), i] as const),
    );
    for (const event of this.devnet.observer.events) {
      if (event.blockNumber > upTo) break;
      if ((event.name === "SlotFilled" || event.name === "SlotFreed") && this.#mine(event)) {
        const index = Number(event.args.slotIndex as bigint);
        if (event.name === "SlotFilled") {
          const tenure: SlotTenure = {
            slotIndex: index,
            slotId: this.slotId(index),
            host: event.from,
            filledAt: event.timestamp,
            repair: tenures.some((t) => t.slotIndex === index),
            missed: 0,
          };
          tenures.push(tenure);
          current.set(index, tenure);
        } else {
          const tenure = current.get(index);
          if (tenure) tenure.freedAt = event.timestamp;
          current.delete(index);
        }
      } else if (event.name === "ProofMarkedMissing") {
        const index = slotIds.get(String(event.args.slotId).toLowerCase());
        const tenure = index === undefined ? undefined : current.get(index);
        if (tenure) tenure.missed++;
      }
    }
    return tenures;
  }

  /** The tenure holding each slot now (undefined: free or in repair). */
  holders(): (SlotTenure | undefined)[] {
    const holders: (SlotTenure | undefined)[] = Array.from({ length: this.slots }, () => undefined);
    for (const tenure of this.tenures()) {
      holders[tenure.slotIndex] = tenure.freedAt === undefined ? tenure : undefined;
    }
    return holders;
  }

  events(name: string): ChainEvent[] {
    const slotIds = new Set(
      Array.from({ length: this.slots }, (_, i) => this.slotId(i).toLowerCase()),
    );
    return this.devnet.observer.events.filter(
      (e) =>
        e.name === name &&
        (this.#mine(e) || slotIds.has(String(e.args.slotId ?? e.args.id ?? "").toLowerCase())),
    );
  }

  /** Proofs submitted for `slotId` in `period`. */
  proofsIn(slotId: string, period: bigint): ChainEvent[] {
    const p = this.devnet.period;
    return this.devnet.observer.events.filter(
      (e) =>
        e.name === "ProofSubmitted" &&
        String(e.args.id).toLowerCase() === slotId.toLowerCase() &&
        e.timestamp / p === period,
    );
  }

  markOf(slotId: string, period: bigint): ChainEvent | undefined {
    return this.devnet.observer.events.find(
      (e) =>
        e.name === "ProofMarkedMissing" &&
        String(e.args.slotId).toLowerCase() === slotId.toLowerCase() &&
        (e.args.period as bigint) === period,
    );
  }

  /** What the host of `tenure` collects when the request finishes at `end` (Payouts.hostPayout). */
  hostPayout(tenure: SlotTenure, end: bigint): bigint {
    const slash =
      (this.collateralPerSlot * BigInt(this.devnet.deployment.config.collateral.slashPercentage)) /
      100n;
    return (
      (end - tenure.filledAt) * this.pricePerSlotPerSecond +
      this.collateralPerSlot -
      BigInt(tenure.missed) * slash
    );
  }

  /** What the host deposited to fill: the collateral, less the repair reward for a repair. */
  deposit(tenure: SlotTenure): bigint {
    const reward =
      (this.collateralPerSlot *
        BigInt(this.devnet.deployment.config.collateral.repairRewardPercentage)) /
      100n;
    return this.collateralPerSlot - (tenure.repair ? reward : 0n);
  }
}

export interface SlotPeriod {
  requestId: string;
  slotIndex: number;
  host: string;
  outcome: "proved" | "missed";
}

export interface PeriodReport {
  period: bigint;
  slots: SlotPeriod[];
}

/**
 * Lets the current period run until every slot filled before it, whose host runs, has proved, and
 * every proof missed in the previous period has been marked (or the time to mark it is over); or
 * until the period's end. Then moves the clock to the next period and reports what happened in this
 * one. `running(host)` says whether a host's process runs (a stopped one cannot prove). Requests
 * that have ended, failed or been cancelled are left out.
 */
export async function runPeriod(
  requests: RequestView | readonly RequestView[],
  running: (host: string) => boolean,
  options: {
    onWait?: (pending: string[]) => void;
    maxWaitMs?: number;
    /** Also wait (within the period) for a host to fill each slot in repair. */
    waitForRepairs?: boolean;
    /** Also wait (within the period) for the slots of requests that have not started yet. */
    waitForFills?: boolean;
  } = {},
): Promise<PeriodReport> {
  const views = Array.isArray(requests) ? requests : [requests as RequestView];
  if (views.length === 0) throw new Error("runPeriod needs a request");
  const devnet = views[0]!.devnet;
  const chain = devnet.chain;
  const length: bigint = devnet.period;
  const timeout = BigInt(devnet.timings.timeout);
  const period: bigint = (await chain.now()) / length;
  const periodStart = period * length;
  const active: RequestView[] = [];
  // Requests that end inside this period: a proof after the end is refused and nobody can mark it
  // missing, so none is due (nor waited for, nor reported) in this period.
  const cutShort = new Set<RequestView>();
  for (const view of views) {
    const over = view.events("RequestFailed").length + view.events("RequestCancelled").length > 0;
    const end = await view.endsAt();
    if (over || end <= periodStart) continue;
    active.push(view);
    if (end < periodStart + length) cutShort.add(view);
  }
  const deadline = Date.now() + (options.maxWaitMs ?? 3 * Number(length) * 1000);
  for (;;) {
    await devnet.observer.poll();
    const now = await chain.now();
    if (now / length !== period || Date.now() > deadline) break;
    const pending: string[] = [];
    for (const view of active) {
      const label = views.length > 1 ? `${view.requestId.slice(0, 8)}/` : "";
      for (const holder of view.holders()) {
        if (!holder || holder.filledAt / length >= period) continue;
        const name = devnet.nameOf(holder.host);
        const due = !cutShort.has(view);
        if (due && running(holder.host) && view.proofsIn(holder.slotId, period).length === 0) {
          pending.push(`proof of slot ${label}${holder.slotIndex} (${name})`);
        }
        const previous = period - 1n;
        const missedPrevious =
          holder.filledAt / length < previous &&
          view.proofsIn(holder.slotId, previous).length === 0;
        const markWindowOpen = now < (previous + 1n) * length + timeout;
        if (missedPrevious && markWindowOpen && !view.markOf(holder.slotId, previous)) {
          pending.push(`validator's mark of slot ${label}${holder.slotIndex}`);
        }
      }
      if (
        options.waitForFills &&
        view.events("RequestFulfilled").length === 0 &&
        now < (await view.expiresAt())
      ) {
        pending.push(`fills of ${label || "the request"}`);
      }
      if (options.waitForRepairs) {
        const holders = view.holders();
        const waiting = new Set<number>();
        for (const tenure of view.tenures()) {
          if (!holders[tenure.slotIndex]) waiting.add(tenure.slotIndex);
        }
        for (const index of waiting) pending.push(`repair of slot ${label}${index}`);
      }
    }
    if (pending.length === 0) break;
    options.onWait?.(pending);
    await sleep(500);
  }
  await devnet.observer.poll();
  const report: PeriodReport = { period, slots: [] };
  for (const view of active) {
    if (cutShort.has(view)) continue;
    for (const tenure of view.tenures()) {
      const filledBefore = tenure.filledAt / length < period;
      const heldThrough = tenure.freedAt === undefined || tenure.freedAt / length > period;
      if (!filledBefore || !heldThrough) continue;
      const proved = view.proofsIn(tenure.slotId, period).length > 0;
      report.slots.push({
        requestId: view.requestId,
        slotIndex: tenure.slotIndex,
        host: tenure.host,
        outcome: proved ? "proved" : "missed",
      });
    }
  }
  if ((await chain.now()) / length === period) await chain.toNextPeriod(length);
  return report;
}

/** Creates the availability on each host (POST /sales/availability). */
export async function offerStorage(
  hosts: readonly DevnetNode[],
  availability: AvailabilityParams,
): Promise<void> {
  await Promise.all(hosts.map((host) => host.api.createAvailability(availability)));
}

/**
 * Asks the client to store `cid`; returns the request once it is on chain, and the client's answer
 * (the purchase: manifestCid is the verifiable dataset the hosts store).
 */
export async function requestStorage(
  devnet: Devnet,
  cid: string,
  params: StorageRequestParams,
  client: DevnetNode = devnet.client,
): Promise<{ view: RequestView; purchase: JsonObject }> {
  const answer = await client.api.requestStorage(cid, params);
  const requestId = requestIdFrom(answer);
  await devnet.observer.waitFor(
    "StorageRequested",
    (args) => String(args.requestId).toLowerCase() === requestId.toLowerCase(),
    60_000,
    `the request ${requestId} on chain`,
  );
  return { view: await RequestView.of(devnet, requestId), purchase: answer };
}
