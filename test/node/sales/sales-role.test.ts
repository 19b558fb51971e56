/**
 * The host role around the state machine: sales started from marketplace events through the slot
 * queue, a running sale aborted by its request's cancellation, and what a restart resumes, with
 * the scripted chain of fakes.ts on a real LevelDB. Also the role's HTTP API.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance } from "fastify";
import { pino } from "pino";
import { handleError } from "../../../node/src/api/errors.js";
import { salesRoutes } from "../../../node/src/api/routes/sales.js";
import type { LogPoller } from "../../../node/src/chain/log-poller.js";
import type { MarketplaceEvent } from "../../../node/src/chain/marketplace-client.js";
import { NodeMetrics } from "../../../node/src/metrics/metrics.js";
import { SaleStore } from "../../../node/src/sales/sale-store.js";
import { Sales } from "../../../node/src/sales/sales.js";
import { encodeRecord } from "../../../node/src/sales/records.js";
import { LevelStore } from "../../../node/src/store/database.js";
import { eventually } from "./market.js";
import {
  FakeChain,
  FakeData,
  FakeProver,
  HOST,
  MANIFEST_CID,
  slotIdOf,
  testRequest,
} from "./fakes.js";

const AVAILABILITY = {
  totalSize: 1_000_000n,
  duration: 10_000n,
  minPricePerBytePerSecond: 1n,
  totalCollateral: 10_000_000n,
  until: 0n,
  enabled: true,
};

const where = { blockNumber: 1, transactionHash: "0x", logIndex: 0 };

describe("host role", function () {
  let dir: string;
  let db: LevelStore;
  let chain: FakeChain;
  let data: FakeData;
  let prover: FakeProver;
  let role: Sales | undefined;
  let pending: MarketplaceEvent[];

  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-sales-role-"));
    db = await LevelStore.open(dir);
    chain = new FakeChain();
    data = new FakeData();
    prover = new FakeProver();
    pending = [];
  });

  afterEach(async function () {
    await role?.stop();
    role = undefined;
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(): Promise<Sales> {
    role = await Sales.open({
      chain,
      data,
      prover,
      db,
      logger: pino({ level: "silent" }),
      metrics: new NodeMetrics(() => ({ usedBytes: 0, storedBlocks: 0 })),
      workers: 2,
      pollIntervalMs: 20,
      retryDelayMs: 10,
      events: (onEvents) =>
        ({
          pollOnce: async () => {
            const events = pending.splice(0);
            await onEvents(events);
            return events.length;
          },
        }) as unknown as LogPoller,
    });
    return role;
  }

  async function restart(): Promise<Sales> {
    await role?.stop();
    role = undefined;
    await db.close();
    db = await LevelStore.open(dir);
    return open();
  }

  const stateOf = (slotId: string) => role!.get(slotId)?.state;

  it("sells every slot of a requested storage it can take, up to proving", async function () {
    const request = testRequest();
    const requestId = chain.addRequest(request);
    await (await open()).availabilities.create(AVAILABILITY);
    pending.push({
      ...where,
      name: "StorageRequested",
      requestId,
      ask: request.ask,
      expiry: 20_000n,
    });
    for (const index of [0, 1]) {
      await eventually(`slot ${index} proving`, () =>
        stateOf(slotIdOf(requestId, index)) === "proving" ? true : undefined,
      );
    }
    expect(chain.calls.filter((c) => c.startsWith("fillSlot")).sort()).to.deep.equal([
      "fillSlot 0 131072",
      "fillSlot 1 131072",
    ]);
  });

  it("ignores requests that expired before it saw them", async function () {
    const request = testRequest();
    const requestId = chain.addRequest(request);
    await (await open()).availabilities.create(AVAILABILITY);
    pending.push({
      ...where,
      name: "StorageRequested",
      requestId,
      ask: request.ask,
      expiry: 10_000n,
    });
    await role!.poll();
    await role!.whenIdle();
    expect(role!.list()).to.deep.equal([]);
  });

  it("offers a slot freed for repair again", async function () {
    const request = testRequest();
    const requestId = chain.addRequest(request, "started");
    await (await open()).availabilities.create(AVAILABILITY);
    const slotId = slotIdOf(requestId, 1);
    chain.slotStates.set(slotId, "repair");
    pending.push({ ...where, name: "SlotFreed", requestId, slotIndex: 1n });
    await eventually("the repaired slot proving", () =>
      stateOf(slotId) === "proving" ? true : undefined,
    );
    expect(role!.get(slotId)).to.include({ repair: true, collateral: 131_072n - 13_107n });
  });

  it("a running sale whose request is cancelled is aborted and ends cancelled, releasing its reservation", async function () {
    const request = testRequest();
    const requestId = chain.addRequest(request);
    await (await open()).availabilities.create(AVAILABILITY);
    let open_: () => void = () => {};
    data.gate = new Promise((resolve) => (open_ = resolve));
    const slotId = slotIdOf(requestId, 0);
    role!.queueRequest(
      {
        requestId,
        slotSize: 65_536n,
        duration: 1_000n,
        pricePerBytePerSecond: 5n,
        collateralPerByte: 2n,
        expiry: 20_000n,
      },
      1,
    );
    await eventually("downloading", () => (stateOf(slotId) === "downloading" ? true : undefined));
    chain.requestStates.set(requestId, "cancelled");
    pending.push({ ...where, name: "RequestCancelled", requestId });
    await eventually("cancelled", () => (stateOf(slotId) === "cancelled" ? true : undefined));
    expect(role!.availabilities.reservations()).to.deep.equal([]);
    expect(role!.availabilities.list()[0]!.freeSize).to.equal(AVAILABILITY.totalSize);
    open_();
  });

  it("at start, releases reservations no running sale holds", async function () {
    const sales = await open();
    await sales.availabilities.create(AVAILABILITY);
    const request = testRequest();
    const requestId = chain.addRequest(request);
    // A crash between ending a sale and releasing its reservation cannot happen (one batch), but
    // a reservation left by anything else must not lock the space forever.
    const terms = {
      slotSize: 500n,
      duration: 10n,
      pricePerBytePerSecond: 1n,
      collateralPerByte: 1n,
    };
    await sales.availabilities.reserve("orphan", terms, 0n, () => []);
    const ended = SaleStore.create({ slotId: slotIdOf(requestId, 0), requestId, slotIndex: 0 });
    await sales.availabilities.reserve(ended.slotId, terms, 0n, () => [
      {
        type: "put",
        key: `sales/slot/${ended.slotId}`,
        value: encodeRecord({ ...ended, state: "errored" }),
      },
    ]);
    expect(sales.availabilities.reservations()).to.have.length(2);
    const restarted = await restart();
    expect(restarted.availabilities.reservations()).to.deep.equal([]);
    expect(restarted.availabilities.list()[0]!.freeSize).to.equal(AVAILABILITY.totalSize);
  });

  it("at start, deletes the slot data that ended sales left stored", async function () {
    await open();
    const requestId = chain.addRequest(testRequest());
    // A sale that held slot 1 and finished, but whose data was not deleted (a crash right after
    // saving its end, or a version that kept data), and one that was ignored without fetching.
    const held = SaleStore.create({
      slotId: slotIdOf(requestId, 1),
      requestId,
      slotIndex: 1,
      manifestCid: MANIFEST_CID,
    });
    const finished = SaleStore.next(SaleStore.next(held, { state: "proving" }), {
      state: "finished",
    });
    const ignored = SaleStore.next(
      SaleStore.create({
        slotId: slotIdOf(requestId, 0),
        requestId,
        slotIndex: 0,
        manifestCid: MANIFEST_CID,
      }),
      { state: "ignored" },
    );
    await db.write(
      [finished, ignored].map((r) => ({
        type: "put" as const,
        key: `sales/slot/${r.slotId}`,
        value: encodeRecord(r),
      })),
      { sync: true },
    );
    data.held.add(0).add(1);
    await restart();
    expect(data.deleted).to.deep.equal([1]);
    expect([...data.held]).to.deep.equal([0]);
  });

  it("after a restart, a sale that filled before the crash proves the period's proof", async function () {
    const request = testRequest();
    const requestId = chain.addRequest(request);
    const sales = await open();
    await sales.availabilities.create(AVAILABILITY);
    const slotId = slotIdOf(requestId, 0);
    data.gate = new Promise(() => {}); // the first run never gets past downloading
    sales.queueRequest(
      {
        requestId,
        slotSize: 65_536n,
        duration: 1_000n,
        pricePerBytePerSecond: 5n,
        collateralPerByte: 2n,
        expiry: 20_000n,
      },
      1,
    );
    await eventually("downloading", () => (stateOf(slotId) === "downloading" ? true : undefined));
    // Say the node crashed after filling: the chain holds the slot for this host, the data is here.
    data.gate = undefined;
    data.held.add(0);
    chain.hosts.set(slotId, HOST);
    chain.slotStates.set(slotId, "filled");
    chain.proofRequired = true;
    const restarted = await restart();
    await eventually("a proof submitted", () =>
      (restarted.get(slotId)?.proofsSubmitted ?? 0) > 0 ? true : undefined,
    );
    expect(
      restarted
        .get(slotId)!
        .history.map((h) => h.state)
        .slice(-3),
    ).to.deep.equal(["downloading", "filled", "proving"]);
    expect(restarted.get(slotId)!.collateral).to.equal(131_072n);
  });

  describe("API", function () {
    let app: FastifyInstance;

    beforeEach(async function () {
      const sales = await open();
      // As the node's server: no type coercion, no dropped properties.
      app = Fastify({
        ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
      });
      app.setErrorHandler(handleError);
      await app.register(swagger, {
        openapi: { openapi: "3.1.0", info: { title: "t", version: "0" } },
      });
      await app.register(salesRoutes(sales), { prefix: "/api/v1" });
    });

    afterEach(async function () {
      await app.close();
    });

    const post = (body: unknown) =>
      app.inject({ method: "POST", url: "/api/v1/sales/availability", payload: body as object });
    const body = {
      totalSize: "1000",
      duration: 3600,
      minPricePerBytePerSecond: "2",
      totalCollateral: "100000000000000000000000",
    };

    it("documents its routes in the OpenAPI document", async function () {
      await app.ready();
      const paths = Object.keys((app.swagger() as { paths: object }).paths);
      expect(paths).to.include.members([
        "/api/v1/sales/availability",
        "/api/v1/sales/availability/{id}",
        "/api/v1/sales/slots",
        "/api/v1/sales/slots/{slotId}",
      ]);
    });

    it("creates, lists and changes availabilities", async function () {
      const created = await post(body);
      expect(created.statusCode).to.equal(201);
      const a = created.json<Record<string, unknown>>();
      expect(a).to.deep.include({
        totalSize: "1000",
        freeSize: "1000",
        duration: "3600",
        minPricePerBytePerSecond: "2",
        totalCollateral: "100000000000000000000000",
        freeCollateral: "100000000000000000000000",
        until: "0",
        enabled: true,
      });
      const list = await app.inject({ method: "GET", url: "/api/v1/sales/availability" });
      expect(list.json()).to.deep.equal([a]);
      const patched = await app.inject({
        method: "PATCH",
        url: `/api/v1/sales/availability/${String(a.id)}`,
        payload: { enabled: false, until: "1900000000" },
      });
      expect(patched.statusCode).to.equal(200);
      expect(patched.json()).to.deep.include({
        enabled: false,
        until: "1900000000",
        totalSize: "1000",
      });
    });

    it("refuses bad fields with 400 and changes nothing", async function () {
      const bad: unknown[] = [
        { ...body, totalSize: "0" },
        { ...body, totalSize: "-1" },
        { ...body, totalSize: "ten" },
        { ...body, duration: -1 },
        { ...body, duration: 1.5 },
        { ...body, duration: String(2n ** 64n) },
        { ...body, extra: 1 },
        { ...body, enabled: "yes" },
        { totalSize: "1" },
      ];
      for (const payload of bad) {
        const response = await post(payload);
        expect(response.statusCode, JSON.stringify(payload)).to.equal(400);
        expect(response.json<{ error: { code: string } }>().error.code).to.equal(
          "ERR_INVALID_ARGUMENT",
        );
      }
      const list = await app.inject({ method: "GET", url: "/api/v1/sales/availability" });
      expect(list.json()).to.deep.equal([]);
    });

    it("refuses to shrink an availability below what sales reserved, and unknown ids", async function () {
      const a = (await post(body)).json<{ id: string }>();
      const terms = {
        slotSize: 600n,
        duration: 10n,
        pricePerBytePerSecond: 2n,
        collateralPerByte: 1n,
      };
      await role!.availabilities.reserve("slot", terms, 0n, () => []);
      const shrink = await app.inject({
        method: "PATCH",
        url: `/api/v1/sales/availability/${a.id}`,
        payload: { totalSize: "599" },
      });
      expect(shrink.statusCode).to.equal(400);
      expect(shrink.json<{ error: { message: string } }>().error.message).to.equal(
        "totalSize 599 is below the 600 bytes reserved by running sales",
      );
      const unknown = await app.inject({
        method: "PATCH",
        url: "/api/v1/sales/availability/nope",
        payload: { enabled: false },
      });
      expect(unknown.statusCode).to.equal(404);
      const empty = await app.inject({
        method: "PATCH",
        url: `/api/v1/sales/availability/${a.id}`,
        payload: {},
      });
      expect(empty.statusCode).to.equal(400);
    });

    it("lists sales and shows one, with amounts as decimal strings", async function () {
      const request = testRequest();
      const requestId = chain.addRequest(request);
      await role!.availabilities.create(AVAILABILITY);
      role!.queueRequest(
        {
          requestId,
          slotSize: 65_536n,
          duration: 1_000n,
          pricePerBytePerSecond: 5n,
          collateralPerByte: 2n,
          expiry: 20_000n,
        },
        1,
      );
      const slotId = slotIdOf(requestId, 0);
      await eventually("proving", () => (stateOf(slotId) === "proving" ? true : undefined));
      const list = await app.inject({ method: "GET", url: "/api/v1/sales/slots" });
      expect(list.json<unknown[]>()).to.have.length(1);
      const one = await app.inject({ method: "GET", url: `/api/v1/sales/slots/${slotId}` });
      expect(one.statusCode).to.equal(200);
      expect(one.json()).to.deep.include({
        slotId,
        requestId,
        slotIndex: 0,
        state: "proving",
        collateral: "131072",
        slotSize: "65536",
        pricePerBytePerSecond: "5",
        proofsSubmitted: 0,
        proofsMissed: 0,
        filledAt: "10000",
      });
      const missing = await app.inject({
        method: "GET",
        url: `/api/v1/sales/slots/0x${"ab".repeat(32)}`,
      });
      expect(missing.statusCode).to.equal(404);
      const bad = await app.inject({ method: "GET", url: "/api/v1/sales/slots/xyz" });
      expect(bad.statusCode).to.equal(400);
    });
  });
});
