/**
 * A scripted chain, slot data and prover for unit tests of the sales state logic: each test sets
 * the chain's answers and checks what the state machine does with them. The integration test
 * (host.test.ts) runs the same machine on the real contracts, network and prover.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import {
  type RequestState,
  type SlotState,
  type StorageRequest,
  requestIdOf,
  slotIdOf,
} from "../../../node/src/chain/marketplace-client.js";
import { TransactionError } from "../../../node/src/chain/transaction-manager.js";
import type { Manifest } from "../../../node/src/manifest/manifest.js";
import type { Groth16ProofArg } from "../../../node/src/proof/groth16-encoding.js";
import type { ProvableSlot } from "../../../node/src/proof/slot-tree.js";
import { AvailabilityStore } from "../../../node/src/sales/availability-store.js";
import type {
  SalesChain,
  SlotData,
  SlotProofRequest,
  SlotProver,
} from "../../../node/src/sales/ports.js";
import { SalesMetrics } from "../../../node/src/sales/metrics.js";
import { SaleMachine } from "../../../node/src/sales/sale-machine.js";
import { Registry } from "prom-client";
import { SaleStore } from "../../../node/src/sales/sale-store.js";
import { LevelStore } from "../../../node/src/store/database.js";
import { hexlify, toUtf8Bytes } from "ethers";
import { fieldToHex } from "../../../node/src/slots/field.js";
import { toBytesLE } from "../../../node/src/poseidon2/index.js";

export const HOST = "0x00000000000000000000000000000000000000a1";
export const OTHER_HOST = "0x00000000000000000000000000000000000000b2";
export const MANIFEST_CID = "zDvZRwzmCvtiyubW9AecnxgLnXK8GrBvpQJBDzToxmzDN6Nrc2CZ";

/** A revert as the TransactionManager reports it. */
export const revert = (name: string) =>
  new TransactionError("REVERTED", "test", `${name}()`, undefined);

/** A request for two slots of 1000 bytes whose dataset root is 77 (slot roots 11 and 22). */
export function testRequest(overrides: Partial<StorageRequest["ask"]> = {}): StorageRequest {
  return {
    client: "0x00000000000000000000000000000000000000c3",
    ask: {
      proofProbability: 1n,
      pricePerBytePerSecond: 5n,
      collateralPerByte: 2n,
      slots: 2n,
      slotSize: 65_536n,
      duration: 1_000n,
      maxSlotLoss: 0n,
      ...overrides,
    },
    content: { cid: hexlify(toUtf8Bytes(MANIFEST_CID)), merkleRoot: hexlify(toBytesLE(77n)) },
    expiry: 500n,
    nonce: `0x${"11".repeat(32)}`,
  };
}

export const PROOF: Groth16ProofArg = {
  a: { x: 1n, y: 2n },
  b: { x: { real: 3n, imag: 4n }, y: { real: 5n, imag: 6n } },
  c: { x: 7n, y: 8n },
};

/** Everything the fake chain answers; tests change fields between steps. */
export class FakeChain implements SalesChain {
  readonly account = HOST;
  readonly period = 100n;
  readonly repairRewardPercentage = 10;
  time = 10_000n;
  requests = new Map<string, StorageRequest>();
  requestStates = new Map<string, RequestState>();
  slotStates = new Map<string, SlotState>();
  hosts = new Map<string, string>();
  canReserve = true;
  eligibleAt = 0n;
  proofRequired = false;
  proofWillBeRequired = false;
  /** Errors the next call of a transaction throws (then it succeeds). */
  failNext = new Map<string, Error>();
  /** Calls of transactions, in order: "reserveSlot 0", "fillSlot 0 200", ... */
  calls: string[] = [];
  payments = new Map<string, bigint>();
  /** Runs during the next submitProof, before it is checked (to move time). */
  beforeSubmit: (() => void) | undefined;

  addRequest(request: StorageRequest, state: RequestState = "new"): string {
    const id = requestIdOf(request);
    this.requests.set(id, request);
    this.requestStates.set(id, state);
    return id;
  }

  async now() {
    return this.time;
  }
  async getRequest(id: string) {
    return this.requests.get(id);
  }
  async requestState(id: string) {
    return this.requestStates.get(id) ?? "new";
  }
  async requestEnd(id: string) {
    return 9_900n + (this.requests.get(id)?.ask.duration ?? 0n);
  }
  async slotState(slotId: string) {
    return this.slotStates.get(slotId) ?? "free";
  }
  async getHost(slotId: string) {
    return this.hosts.get(slotId);
  }
  async currentPeriod() {
    return this.time / this.period;
  }
  /** The slots' challenge now; submitProof refuses a proof made against another one. */
  challenge = `0x${"00".repeat(32)}`;
  async getChallenge() {
    return this.challenge;
  }
  async isProofRequired() {
    return this.proofRequired;
  }
  async willProofBeRequired() {
    return this.proofWillBeRequired;
  }
  async canReserveSlot() {
    return this.canReserve;
  }
  async reservationEligibleAt() {
    return this.eligibleAt;
  }
  #fail(name: string) {
    const error = this.failNext.get(name);
    if (error) {
      this.failNext.delete(name);
      throw error;
    }
  }
  async reserveSlot(requestId: string, slotIndex: bigint) {
    this.calls.push(`reserveSlot ${slotIndex}`);
    this.#fail("reserveSlot");
    void requestId;
  }
  async fillSlot(
    requestId: string,
    slotIndex: bigint,
    _proof: Groth16ProofArg,
    collateral: bigint,
  ) {
    this.calls.push(`fillSlot ${slotIndex} ${collateral}`);
    this.#fail("fillSlot");
    const slotId = slotIdOf(requestId, slotIndex);
    this.hosts.set(slotId, HOST);
    this.slotStates.set(slotId, "filled");
    return { blockNumber: 42, timestamp: this.time };
  }
  async submitProof(slotId: string, proof: Groth16ProofArg) {
    this.beforeSubmit?.();
    this.beforeSubmit = undefined;
    this.calls.push(`submitProof ${slotId.slice(0, 6)}`);
    this.#fail("submitProof");
    if (proof.a.x !== BigInt(this.challenge)) throw revert("Proofs_InvalidProof");
  }
  async freeSlot(slotId: string) {
    this.calls.push(`freeSlot ${slotId.slice(0, 6)}`);
    this.#fail("freeSlot");
    const paid = this.payments.get(slotId);
    this.slotStates.set(slotId, "paid");
    return { paid };
  }
  async slotPayment(slotId: string) {
    return this.payments.get(slotId);
  }
}

/** A slot whose root is `root`; its cells are never read (the fake prover does not sample). */
export const fakeSlot = (root: bigint): ProvableSlot => ({
  root,
  cellCount: 64,
  cell: () => Promise.reject(new Error("not sampled in unit tests")),
});

/** The verifiable manifest of the test request's dataset: slot roots 11 and 22, dataset root 77. */
export function testManifest(
  overrides: Partial<NonNullable<Manifest["verifiable"]>> = {},
): Manifest {
  return {
    treeCid: MANIFEST_CID,
    blocksCount: 2,
    blockSize: 65_536,
    datasetSize: 65_536,
    protected: { ecK: 1, ecM: 1, originalTreeCid: MANIFEST_CID, originalBlocksCount: 1 },
    verifiable: {
      cellSize: 2048,
      slotBlocks: 1,
      slotRoots: [fieldToHex(11n), fieldToHex(22n)],
      datasetRoot: fieldToHex(77n),
      ...overrides,
    },
  };
}

export class FakeData implements SlotData {
  readonly held = new Set<number>();
  manifest = testManifest();
  roots = [11n, 22n];
  fetchError: Error | undefined;
  fetches = 0;
  /** When set, fetches wait for it (or for their abort). */
  gate: Promise<void> | undefined;

  async fetch(_cid: string, slotIndex: number, signal?: AbortSignal) {
    this.fetches++;
    if (this.gate) {
      await new Promise<void>((resolve, reject) => {
        signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
        void this.gate!.then(resolve);
      });
    }
    if (this.fetchError) throw this.fetchError;
    this.held.add(slotIndex);
  }
  async stored(_cid: string, slotIndex: number) {
    if (!this.held.has(slotIndex)) return undefined;
    return { manifest: this.manifest, slot: fakeSlot(this.roots[slotIndex]!) };
  }
  /** Slot indices whose data a release deleted, in order. */
  readonly deleted: number[] = [];
  async release(_cid: string, slotIndex: number, unused: () => boolean) {
    if (!unused() || !this.held.delete(slotIndex)) return;
    this.deleted.push(slotIndex);
  }
}

export class FakeProver implements SlotProver {
  readonly requests: { request: SlotProofRequest; urgent: boolean }[] = [];
  /** Runs while "proving" (to move time, or fail). */
  during: (() => void) | undefined;

  /** The proof it returns answers the challenge it was asked for (FakeChain checks that). */
  async prove(request: SlotProofRequest, options: { urgent: boolean }) {
    this.requests.push({ request, urgent: options.urgent });
    this.during?.();
    return { ...PROOF, a: { ...PROOF.a, x: BigInt(request.challenge) } };
  }
  async close() {}
}

export interface Harness {
  db: LevelStore;
  dir: string;
  chain: FakeChain;
  data: FakeData;
  prover: FakeProver;
  availabilities: AvailabilityStore;
  sales: SaleStore;
  machine: SaleMachine;
  metrics: SalesMetrics;
  registry: Registry;
  close(): Promise<void>;
}

const silent = pino({ level: "silent" });

/** The state machine over a real LevelDB in a temporary folder, with the fakes above. */
export async function harness(
  dir?: string,
  parts: Partial<Pick<Harness, "chain" | "data" | "prover">> = {},
): Promise<Harness> {
  const folder = dir ?? (await mkdtemp(path.join(os.tmpdir(), "holdfast-sales-unit-")));
  const db = await LevelStore.open(path.join(folder, "db"));
  const chain = parts.chain ?? new FakeChain();
  const data = parts.data ?? new FakeData();
  const prover = parts.prover ?? new FakeProver();
  const availabilities = await AvailabilityStore.open(db);
  const sales = await SaleStore.open(db, availabilities);
  const registry = new Registry();
  const metrics = new SalesMetrics(registry, () => sales.list());
  const machine = new SaleMachine({
    metrics,
    chain,
    data,
    prover,
    availabilities,
    sales,
    log: silent,
    retryDelayMs: 1,
  });
  return {
    db,
    dir: folder,
    chain,
    data,
    prover,
    availabilities,
    sales,
    machine,
    metrics,
    registry,
    async close() {
      await db.close();
      if (!dir) await rm(folder, { recursive: true, force: true });
    },
  };
}

export { slotIdOf };
