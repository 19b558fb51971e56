import { expect } from "chai";
import { toUtf8String } from "ethers";
import { network } from "hardhat";
import type { PurchaseView } from "../../../node/src/purchasing/purchase.js";
import {
  type Deployed,
  collateralPerSlot,
  maxPrice,
  requestIdOf,
  slotIdOf,
  testbed,
} from "../../contracts/marketplace/testbed.js";
import { startTestNode } from "../api/helpers.js";
import { localWallet } from "../chain/accounts.js";
import {
  datasetBytes,
  getJson,
  postJson,
  removeDir,
  requestOf,
  startClientNode,
  uploadBytes,
  TERMS,
} from "./helpers.js";

const connection = await network.create();
const bed = testbed(connection);
const { ethers } = connection;

describe("purchasing: requesting storage and following it on chain", function () {
  this.timeout(120_000);

  let d: Deployed;
  let t: Awaited<ReturnType<typeof startClientNode>>;
  let cid: string;

  before(async function () {
    d = await bed.deploy();
    // The node signs as the testbed's client (Hardhat's account 1), funded by deploy().
    const key = localWallet(1, ethers.provider).privateKey;
    t = await startClientNode({
      provider: ethers.provider,
      ethPrivateKey: key,
      marketplaceAddress: await d.marketplace.getAddress(),
    });
    cid = await uploadBytes(t.url, datasetBytes(3));
  });

  after(async function () {
    await t?.stop();
    if (t) await removeDir(t.dataDir);
  });

  const purchasing = () => t.node.marketplace!.purchasing!;

  it("protects the dataset, requests storage and records the purchase as submitted", async function () {
    const balanceBefore = await d.token.balanceOf(d.actors.client.address);
    const { status, json } = await postJson(`${t.url}/storage/request/${cid}`, TERMS);
    expect(status, JSON.stringify(json)).to.equal(201);
    const purchase = json as unknown as PurchaseView;
    expect(purchase.state).to.equal("submitted");
    expect(purchase.cid).to.equal(cid);
    // 3 blocks in K = 2 data slots: 2 blocks of 64 KiB per slot.
    expect(purchase.request.ask.slotSize).to.equal(String(2 * 65_536));
    expect(purchase.request.ask.slots).to.equal("3");
    expect(purchase.request.ask.maxSlotLoss).to.equal("1");
    const request = requestOf(purchase);
    expect(purchase.id).to.equal(requestIdOf(request));
    expect(purchase.price).to.equal(maxPrice(request.ask).toString());

    // content.cid names the verifiable manifest, whose dataset root is content.merkleRoot.
    expect(toUtf8String(purchase.request.content.cid)).to.equal(purchase.manifestCid);
    const manifest = await t.node.service.manifest(purchase.manifestCid);
    expect(manifest.verifiable?.datasetRoot).to.equal(purchase.request.content.merkleRoot);
    expect(manifest.protected).to.include({ ecK: 2, ecM: 1 });

    // On chain: the request exists as sent and its price left the client's balance.
    const onChain = await d.marketplace.getRequest(purchase.id);
    expect(onChain.client).to.equal(d.actors.client.address);
    expect(onChain.nonce).to.equal(purchase.request.nonce);
    expect(await d.token.balanceOf(d.actors.client.address)).to.equal(
      balanceBefore - maxPrice(request.ask),
    );
    const block = await ethers.provider.getBlock(
      (await ethers.provider.getTransactionReceipt(purchase.txHash!))!.blockNumber,
    );
    expect(purchase.requestedAt).to.equal(block!.timestamp);
    expect(purchase.expiresAt).to.equal(block!.timestamp + 3_600);
    expect(purchase.endsAt).to.equal(block!.timestamp + 86_400);

    const listed = await getJson<PurchaseView[]>(`${t.url}/storage/purchases`);
    expect(listed.json.map((p) => p.id)).to.include(purchase.id);
    const one = await getJson<PurchaseView>(`${t.url}/storage/purchases/${purchase.id}`);
    expect(one.status).to.equal(200);
    expect(one.json.state).to.equal("submitted");
  });

  it("serves the requested dataset: a host fetches a slot by the request's content.cid", async function () {
    const purchase = purchasing().list().at(-1)!;
    const host = await startTestNode({
      bootstrapNodes: [t.node.p2p.network.multiaddrs[0]!.toString()],
      networkTimeout: 30_000,
    });
    try {
      const fetched = await host.node.p2p.retrieval.fetchSlot(
        toUtf8String(purchase.request.content.cid),
        2,
      );
      expect(fetched.blocks).to.equal(2);
    } finally {
      await host.stop();
    }
  });

  it("moves to started when hosts fill every slot, then to finished and withdraws", async function () {
    const { json } = await postJson(`${t.url}/storage/request/${cid}`, TERMS);
    const purchase = json as unknown as PurchaseView;
    const request = requestOf(purchase);
    const fills = await bed.fillAll(d, request);
    await purchasing().sync();
    let now = purchasing().get(purchase.id)!;
    expect(now.state).to.equal("started");
    expect(now.filledSlots).to.deep.equal([0, 1, 2]);

    // Past the end: finished; the client's refund is what no host earned (here nothing).
    await bed.time.increaseTo(BigInt(now.endsAt!) + 1n);
    await purchasing().sync();
    now = purchasing().get(purchase.id)!;
    expect(now.state).to.equal("finished");
    expect(now.withdrawn).to.equal(true);
    // Each slot's host earns from its fill to the end; the client gets the rest of the price.
    const perSecond = request.ask.pricePerBytePerSecond * request.ask.slotSize;
    const earned = fills.reduce(
      (sum, f) => sum + perSecond * (BigInt(now.endsAt!) - f.filledAt),
      0n,
    );
    expect(now.withdrawals).to.have.length(1);
    expect(now.withdrawals[0]!.amount).to.equal((maxPrice(request.ask) - earned).toString());
    expect(await d.marketplace.requestState(purchase.id)).to.equal(3n);
  });

  it("cancels an unfilled request after its expiry and withdraws the exact refund", async function () {
    const { json } = await postJson(`${t.url}/storage/request/${cid}`, { ...TERMS, expiry: 600 });
    const purchase = json as unknown as PurchaseView;
    const request = requestOf(purchase);
    const host = d.actors.hosts[0]!;
    const { filledAt, slotId } = await bed.fillSlot(d, request, 1n, host);
    await purchasing().sync();
    expect(purchasing().get(purchase.id)!.filledSlots).to.deep.equal([1]);

    const client = d.actors.client.address;
    const before = await d.token.balanceOf(client);
    const expiresAt = BigInt(purchase.expiresAt!);
    await bed.time.increaseTo(expiresAt + 1n);
    await purchasing().sync();
    const now = purchasing().get(purchase.id)!;
    expect(now.state).to.equal("cancelled");
    expect(now.history.map((h) => h.state)).to.deep.equal(["pending", "submitted", "cancelled"]);
    // The client gets the price back less what the one host earned from its fill to the expiry.
    const perSecond = request.ask.pricePerBytePerSecond * request.ask.slotSize;
    const refund = maxPrice(request.ask) - perSecond * (expiresAt - filledAt);
    expect(now.withdrawn).to.equal(true);
    expect(now.withdrawals.map((w) => w.amount)).to.deep.equal([refund.toString()]);
    expect(await d.token.balanceOf(client)).to.equal(before + refund);
    expect(await d.marketplace.requestState(purchase.id)).to.equal(2n);

    // The host collects its share and its collateral; the purchase records the payout.
    await d.marketplace.connect(host).freeSlot(slotId);
    await purchasing().sync();
    const paid = purchasing().get(purchase.id)!;
    expect(paid.slotPayouts.map((p) => [p.slotIndex, p.host, p.amount])).to.deep.equal([
      [
        1,
        host.address,
        (perSecond * (expiresAt - filledAt) + collateralPerSlot(request.ask)).toString(),
      ],
    ]);
    // Replayed or repeated events change nothing.
    await purchasing().sync();
    expect(purchasing().get(purchase.id)!.withdrawals).to.have.length(1);
    expect(purchasing().get(purchase.id)!.slotPayouts).to.have.length(1);
  });

  it("fails when more than `tolerance` hosts are removed, and withdraws what is owed", async function () {
    const { json } = await postJson(`${t.url}/storage/request/${cid}`, {
      ...TERMS,
      proofProbability: 1, // a proof every period, so that missing ones can be marked each period
    });
    const purchase = json as unknown as PurchaseView;
    const request = requestOf(purchase);
    await bed.fillAll(d, request);
    await purchasing().sync();
    expect(purchasing().get(purchase.id)!.state).to.equal("started");

    // Two missed proofs remove a host (maxNumberOfSlashes = 2); two removed hosts > tolerance 1.
    for (const slot of [0n, 1n]) {
      for (let i = 0; i < 2; i++) await bed.missProof(d, slotIdOf(purchase.id, slot));
    }
    expect(await d.marketplace.requestState(purchase.id)).to.equal(4n);
    const client = d.actors.client.address;
    const before = await d.token.balanceOf(client);
    await purchasing().sync();
    const now = purchasing().get(purchase.id)!;
    expect(now.state).to.equal("failed");
    expect(now.missedProofs).to.equal(4);
    expect(now.filledSlots).to.deep.equal([2]);
    expect(now.withdrawn).to.equal(true);
    expect(now.withdrawals).to.have.length(1);
    // What the node recorded is what the marketplace paid it.
    expect(await d.token.balanceOf(client)).to.equal(before + BigInt(now.withdrawals[0]!.amount));
    expect(BigInt(now.withdrawals[0]!.amount) > 0n).to.equal(true);
  });

  it("exports purchase metrics", async function () {
    const text = await t.node.metrics.registry.metrics();
    const value = (line: string) => Number(new RegExp(`^${line} (\\S+)$`, "m").exec(text)?.[1]);
    const counts = purchasing()
      .list()
      .reduce<Record<string, number>>((acc, p) => {
        acc[p.state] = (acc[p.state] ?? 0) + 1;
        return acc;
      }, {});
    for (const state of ["submitted", "finished", "cancelled", "failed"]) {
      expect(value(`holdfast_purchases\\{state="${state}"\\}`), state).to.equal(counts[state] ?? 0);
    }
    expect(value(`holdfast_purchases_total\\{state="pending"\\}`)).to.equal(
      purchasing().list().length,
    );
    // Each purchase entered its final state once (the first one expired unfilled meanwhile).
    for (const state of ["finished", "cancelled", "failed"]) {
      expect(value(`holdfast_purchases_total\\{state="${state}"\\}`), state).to.equal(
        counts[state],
      );
    }
    expect(counts).to.deep.equal({ finished: 1, cancelled: 2, failed: 1 });
    const refunded = purchasing()
      .list()
      .flatMap((p) => p.withdrawals)
      .reduce((sum, w) => sum + BigInt(w.amount), 0n);
    expect(value("holdfast_purchases_refunded_tokens")).to.equal(Number(refunded));
    const paid = purchasing()
      .list()
      .reduce((sum, p) => sum + BigInt(p.price), 0n);
    expect(value("holdfast_purchases_paid_tokens")).to.equal(Number(paid));
  });
});

describe("purchasing: the node follows the chain on its own timer", function () {
  this.timeout(120_000);

  it("sees slots filled and the request started without being asked", async function () {
    const d = await bed.deploy();
    const t = await startClientNode({
      provider: ethers.provider,
      ethPrivateKey: localWallet(1, ethers.provider).privateKey,
      marketplaceAddress: await d.marketplace.getAddress(),
      ethPollInterval: 50,
    });
    try {
      const cid = await uploadBytes(t.url, datasetBytes(2, 7));
      const { json } = await postJson(`${t.url}/storage/request/${cid}`, TERMS);
      const purchase = json as unknown as PurchaseView;
      await bed.fillAll(d, requestOf(purchase));
      const deadline = Date.now() + 20_000;
      let state = "";
      while (Date.now() < deadline) {
        ({ state } = (
          await getJson<PurchaseView>(`${t.url}/storage/purchases/${purchase.id}`)
        ).json);
        if (state === "started") break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(state).to.equal("started");
    } finally {
      await t.stop();
      await removeDir(t.dataDir);
    }
  });
});
