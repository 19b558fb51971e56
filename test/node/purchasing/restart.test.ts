import path from "node:path";
import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";
import { network } from "hardhat";
import { MarketplaceClient } from "../../../node/src/chain/marketplace-client.js";
import {
  type PurchaseRecord,
  PurchaseStore,
  pendingPurchase,
  type PurchaseView,
} from "../../../node/src/purchasing/purchase.js";
import { LevelStore } from "../../../node/src/store/database.js";
import {
  type Deployed,
  maxPrice,
  requestIdOf,
  testbed,
} from "../../contracts/marketplace/testbed.js";
import { localWallet } from "../chain/accounts.js";
import {
  datasetBytes,
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

describe("purchasing: a restarted node resumes every purchase from the chain", function () {
  this.timeout(120_000);

  let d: Deployed;
  let dataDir: string;
  let marketplaceAddress: string;
  const key = () => localWallet(1, ethers.provider).privateKey;
  const start = () =>
    startClientNode({
      provider: ethers.provider,
      ethPrivateKey: key(),
      marketplaceAddress,
      dataDir,
    });
  let t: Awaited<ReturnType<typeof startClientNode>> | undefined;
  let cid: string;

  before(async function () {
    d = await bed.deploy();
    marketplaceAddress = await d.marketplace.getAddress();
    t = await start();
    dataDir = t.dataDir;
    cid = await uploadBytes(t.url, datasetBytes(3, 3));
  });

  after(async function () {
    await t?.stop();
    if (dataDir) await removeDir(dataDir);
  });

  async function restart() {
    await t!.stop();
    t = undefined;
    t = await start();
    return t.node.marketplace!.purchasing!;
  }

  async function request(terms = TERMS): Promise<PurchaseView> {
    const { status, json } = await postJson(`${t!.url}/storage/request/${cid}`, terms);
    expect(status, JSON.stringify(json)).to.equal(201);
    return json as unknown as PurchaseView;
  }

  /** Writes a purchase record into the stopped node's database, as a crash would have left it. */
  async function writeRecord(record: PurchaseRecord) {
    const db = await LevelStore.open(path.join(dataDir, "db"));
    try {
      await new PurchaseStore(db).save(record);
    } finally {
      await db.close();
    }
  }

  it("sees slots filled and the request started while it was down", async function () {
    const purchase = await request();
    await t!.stop();
    t = undefined;
    await bed.fillAll(d, requestOf(purchase));
    t = await start();
    const purchasing = t.node.marketplace!.purchasing!;
    // Reconciled at start, before any poll.
    const resumed = purchasing.get(purchase.id)!;
    expect(resumed.state).to.equal("started");
    expect(resumed.filledSlots).to.deep.equal([0, 1, 2]);
    await purchasing.sync();
    expect(purchasing.get(purchase.id)!.history.map((h) => h.state)).to.deep.equal([
      "pending",
      "submitted",
      "started",
    ]);
  });

  it("cancels and refunds a request that expired while it was down, once", async function () {
    const purchase = await request({ ...TERMS, expiry: 1_000 });
    await t!.stop();
    t = undefined;
    await bed.time.increaseTo(BigInt(purchase.expiresAt!) + 1n);
    const before = await d.token.balanceOf(d.actors.client.address);
    t = await start();
    let purchasing = t.node.marketplace!.purchasing!;
    expect(purchasing.get(purchase.id)!.state).to.equal("cancelled");
    await purchasing.sync();
    const price = maxPrice(requestOf(purchase).ask);
    expect(purchasing.get(purchase.id)!.withdrawals.map((w) => w.amount)).to.deep.equal([
      price.toString(),
    ]);
    expect(await d.token.balanceOf(d.actors.client.address)).to.equal(before + price);

    // Another restart neither withdraws again nor counts the withdrawal twice.
    purchasing = await restart();
    await purchasing.sync();
    const again = purchasing.get(purchase.id)!;
    expect(again.withdrawals).to.have.length(1);
    expect(again.state).to.equal("cancelled");
    expect(await d.token.balanceOf(d.actors.client.address)).to.equal(before + price);
  });

  it("marks a pending purchase whose transaction never went out as errored", async function () {
    const sent = await request();
    await t!.stop();
    t = undefined;
    // The record as saved just before requestStorage, for a request that never reached the chain.
    const requestJson = { ...sent.request, nonce: hexlify(randomBytes(32)) };
    const id = requestIdOf(requestOf({ ...sent, request: requestJson }));
    await writeRecord(
      pendingPurchase({
        id,
        cid: sent.cid,
        manifestCid: sent.manifestCid,
        terms: sent.terms,
        request: requestJson,
        price: sent.price,
      }),
    );
    t = await start();
    const errored = t.node.marketplace!.purchasing!.get(id)!;
    expect(errored.state).to.equal("errored");
    expect(errored.error).to.match(/did not reach the chain before the node stopped/);
  });

  it("finds a pending purchase's request on chain by its id when the transaction did go out", async function () {
    const sent = await request();
    await t!.stop();
    t = undefined;
    const requestJson = { ...sent.request, nonce: hexlify(randomBytes(32)) };
    const onChain = requestOf({ ...sent, request: requestJson });
    // The node crashed after broadcasting: the transaction is mined without it.
    const client = await MarketplaceClient.connect({
      provider: ethers.provider,
      signer: localWallet(1, ethers.provider),
      address: marketplaceAddress,
      transactions: { pollIntervalMs: 10 },
    });
    const { requestId, receipt } = await client.requestStorage(onChain);
    await writeRecord(
      pendingPurchase({
        id: requestId,
        cid: sent.cid,
        manifestCid: sent.manifestCid,
        terms: sent.terms,
        request: requestJson,
        price: sent.price,
      }),
    );
    t = await start();
    const found = t.node.marketplace!.purchasing!.get(requestId)!;
    expect(found.state).to.equal("submitted");
    const block = await ethers.provider.getBlock(receipt.blockNumber);
    expect(found.expiresAt).to.equal(block!.timestamp + Number(onChain.expiry));
    expect(found.endsAt).to.equal(block!.timestamp + Number(onChain.ask.duration));
  });
});
