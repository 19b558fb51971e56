/**
 * The host role end to end in this process: a client node uploads and protects data and requests
 * storage; a host node with an availability reserves both slots, fetches them over the network,
 * fills them with real dev-circuit proofs, proves in later periods (also after a restart on the
 * same data folder), and is paid exactly what the marketplace owes when the request finishes,
 * after which the slots' data is deleted.
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify, toUtf8Bytes } from "ethers";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { type StorageRequest, slotIdOf } from "../../../node/src/chain/marketplace-client.js";
import { toBytesLE } from "../../../node/src/poseidon2/index.js";
import type { SaleRecord } from "../../../node/src/sales/records.js";
import { fieldFromHex } from "../../../node/src/slots/field.js";
import { releaseSnarkjsWorkers } from "../../../scripts/circuits/snarkjs-runtime.js";
import { type Market, type TestNode, deployMarket, eventually, startMarketNode } from "./market.js";

describe("the host role on Hardhat's chain with real proofs", function () {
  this.timeout(600_000);

  let market: Market;
  let client: TestNode;
  let host: TestNode;
  let request: StorageRequest;
  let requestId: string;
  let slotIds: string[];
  const hostAccount = 2;
  let hostAddress: string;
  let balanceBefore: bigint;

  const sales = () => host.node.marketplace!.sales!;
  const sale = (slotId: string) => sales().get(slotId);
  const chain = () => client.node.marketplace!.client;

  before(async function () {
    market = await deployMarket();
    client = await startMarketNode(market, 1);
    host = await startMarketNode(market, hostAccount, {
      persistence: true,
      circuitDir: market.circuitDir,
      salesWorkers: 2,
      bootstrapNodes: [client.node.p2p.network.multiaddrs[0]!.toString()],
    });
    hostAddress = host.node.marketplace!.client.account!;
    balanceBefore = await chain().tokenBalance(hostAddress);
  });

  after(async function () {
    await host?.destroy();
    await client?.destroy();
    market?.close();
    await releaseSnarkjsWorkers();
  });

  it("takes availabilities over the API", async function () {
    const created = await fetch(`${host.url}/sales/availability`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        totalSize: 4 * BLOCK_SIZE,
        duration: "100000",
        minPricePerBytePerSecond: "1",
        totalCollateral: "1000000000",
      }),
    });
    expect(created.status).to.equal(201);
    const body = (await created.json()) as Record<string, unknown>;
    expect(body).to.include({
      totalSize: String(4 * BLOCK_SIZE),
      freeSize: String(4 * BLOCK_SIZE),
      duration: "100000",
      minPricePerBytePerSecond: "1",
      totalCollateral: "1000000000",
      freeCollateral: "1000000000",
      until: "0",
      enabled: true,
    });
  });

  it("reserves, fetches, proves and fills every slot of a request that matches", async function () {
    // Two blocks, K = 1, M = 1: two slots of two blocks each.
    const uploaded = await fetch(`${client.url}/data`, {
      method: "POST",
      body: new Uint8Array(randomBytes(2 * BLOCK_SIZE - 100)),
      headers: { "content-type": "application/octet-stream" },
    });
    const plainId = ((await uploaded.json()) as { id: string }).id;
    const protect = await fetch(`${client.url}/data/${plainId}/protect`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ecK: 1, ecM: 1 }),
    });
    const { verifiableId } = (await protect.json()) as { verifiableId: string };
    await client.node.p2p.sync();
    const manifest = await client.node.service.manifest(verifiableId);
    const slots = manifest.verifiable!.slotRoots.length;
    expect(slots).to.equal(2);

    request = {
      client: chain().account!,
      ask: {
        proofProbability: 1n,
        pricePerBytePerSecond: 3n,
        collateralPerByte: 2n,
        slots: BigInt(slots),
        slotSize: BigInt((manifest.blocksCount / slots) * BLOCK_SIZE),
        duration: 6n * market.config.proofs.period,
        maxSlotLoss: 0n,
      },
      content: {
        cid: hexlify(toUtf8Bytes(verifiableId)),
        merkleRoot: hexlify(toBytesLE(fieldFromHex(manifest.verifiable!.datasetRoot)!)),
      },
      expiry: 4n * market.config.proofs.period,
      nonce: hexlify(randomBytes(32)),
    };
    ({ requestId } = await chain().requestStorage(request));
    slotIds = [0, 1].map((i) => slotIdOf(requestId, i));

    for (const slotId of slotIds) {
      await eventually(`slot ${slotId} proving`, () =>
        sale(slotId)?.state === "proving" ? true : undefined,
      );
    }
    expect(await chain().requestState(requestId)).to.equal("started");
    for (const [i, slotId] of slotIds.entries()) {
      expect(await chain().getHost(slotId)).to.equal(hostAddress);
      const record = sale(slotId)!;
      expect(record.slotIndex).to.equal(i);
      expect(record.collateral).to.equal(request.ask.collateralPerByte * request.ask.slotSize);
      const states = record.history.map((h) => h.state);
      expect(states.slice(0, 4)).to.deep.equal([
        "matching",
        "reserving",
        "downloading",
        "initialProving",
      ]);
      expect(states.slice(-3)).to.deep.equal(["filling", "filled", "proving"]);
      // A fill proof is made again when its period passed before the fill landed.
      for (const retry of states.slice(4, -3))
        expect(retry).to.be.oneOf(["filling", "initialProving"]);
    }
    // Both sales hold their reservations: the availability's free space and collateral shrank.
    const [availability] = (await (await fetch(`${host.url}/sales/availability`)).json()) as {
      freeSize: string;
      freeCollateral: string;
    }[];
    expect(availability!.freeSize).to.equal(
      String(4 * BLOCK_SIZE - 2 * Number(request.ask.slotSize)),
    );
    const slotJson = (await (
      await fetch(`${host.url}/sales/slots/${slotIds[0]}`)
    ).json()) as Record<string, unknown>;
    expect(slotJson).to.include({ state: "proving", requestId, slotIndex: 0 });
  });

  it("submits the proof each later period requires", async function () {
    const period = (await market.now()) / market.config.proofs.period + 1n;
    await market.timeTo(period * market.config.proofs.period);
    for (const slotId of slotIds) {
      await eventually(`a proof of ${slotId} in period ${period}`, () =>
        (sale(slotId)?.lastProofPeriod ?? -1n) >= period ? true : undefined,
      );
      expect(sale(slotId)!.proofsSubmitted).to.be.greaterThanOrEqual(1);
    }
    const registry = host.node.metrics.registry;
    /** The sample `series` (a histogram's `<name>_count`, or the metric itself) with `labels`. */
    const value = async (name: string, labels: Record<string, string> = {}, series = name) => {
      const metric = (await registry.getSingleMetric(name)!.get()).values.find(
        (v) =>
          ((v as { metricName?: string }).metricName ?? name) === series &&
          Object.entries(labels).every(([k, l]) => v.labels[k] === l),
      );
      return metric?.value ?? 0;
    };
    expect(await value("holdfast_sales_proofs_submitted_total")).to.be.greaterThanOrEqual(2);
    expect(
      await value(
        "holdfast_sales_proving_seconds",
        { kind: "period" },
        "holdfast_sales_proving_seconds_count",
      ),
    ).to.be.greaterThanOrEqual(2);
    expect(await value("holdfast_sales_collateral_locked_tokens")).to.equal(
      Number(2n * request.ask.collateralPerByte * request.ask.slotSize),
    );
    expect(await value("holdfast_sales_slots", { state: "proving" })).to.equal(2);
  });

  it("stopped while proving, resumes on the same data folder and proves the period", async function () {
    const before = slotIds.map((id) => sale(id)!);
    const period = (await market.now()) / market.config.proofs.period + 1n;
    await market.timeTo(period * market.config.proofs.period);
    // The proving loop looks every 250 ms and a dev proof takes seconds: stop while it proves.
    await eventually("a proof under way", () =>
      host.node.marketplace!.sales!.periodProofsInProgress > 0 ? true : undefined,
    );
    await host.stop();
    const unproven = slotIds.filter((id) => (sale(id)!.lastProofPeriod ?? -1n) < period);
    expect(unproven.length, "the stop came before every proof of the period").to.be.greaterThan(0);
    host = await startMarketNode(market, hostAccount, {
      dataDir: host.dataDir,
      persistence: true,
      circuitDir: market.circuitDir,
      salesWorkers: 2,
      bootstrapNodes: [client.node.p2p.network.multiaddrs[0]!.toString()],
    });
    for (const [i, slotId] of slotIds.entries()) {
      const record = await eventually(`the period's proof of ${slotId} after the restart`, () => {
        const r = sale(slotId);
        return r && (r.lastCheckedPeriod ?? -1n) >= period ? r : undefined;
      });
      expect(record.state).to.equal("proving");
      expect(record.lastProofPeriod, `missed: ${record.proofsMissed}`).to.equal(period);
      expect(record.proofsSubmitted).to.be.greaterThan(before[i]!.proofsSubmitted);
    }
  });

  it("frees the slots when the request finishes and is paid exactly what it is owed", async function () {
    const usedBytes = async () =>
      ((await (await fetch(`${host.url}/space`)).json()) as { usedBytes: number }).usedBytes;
    const usedBefore = await usedBytes();
    const end = await chain().requestEnd(requestId);
    await market.timeTo(end + 1n);
    const ended: SaleRecord[] = [];
    for (const slotId of slotIds) {
      ended.push(
        await eventually(`slot ${slotId} finished`, () => {
          const r = sale(slotId);
          return r?.state === "finished" ? r : undefined;
        }),
      );
    }
    const pricePerSlotPerSecond = request.ask.pricePerBytePerSecond * request.ask.slotSize;
    const collateral = request.ask.collateralPerByte * request.ask.slotSize;
    let earned = 0n;
    for (const record of ended) {
      expect(record.payout).to.equal((end - record.filledAt!) * pricePerSlotPerSecond + collateral);
      earned += record.payout! - record.collateral!;
      expect(await chain().slotState(record.slotId)).to.equal("paid");
    }
    expect(await chain().tokenBalance(hostAddress)).to.equal(balanceBefore + earned);
    // Their reservations are released.
    const [availability] = (await (await fetch(`${host.url}/sales/availability`)).json()) as {
      freeSize: string;
      freeCollateral: string;
    }[];
    expect(availability).to.include({
      freeSize: String(4 * BLOCK_SIZE),
      freeCollateral: "1000000000",
    });
    const metrics =
      await host.node.metrics.registry.getSingleMetricAsString("holdfast_sales_slots");
    expect(metrics).to.include('holdfast_sales_slots{state="finished"} 2');
    // The slots' data is deleted, and its bytes no longer count against the storage quota.
    for (const record of ended)
      await eventually(`slot ${record.slotIndex}'s data deleted`, () =>
        host.node.p2p.storedSlot(record.manifestCid!, record.slotIndex) ? undefined : true,
      );
    expect(await usedBytes()).to.be.at.most(usedBefore - 2 * Number(request.ask.slotSize));
  });
});
