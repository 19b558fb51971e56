import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { DatabaseCursorStore } from "../../../node/src/chain/cursor-store.js";
import {
  MarketplaceClient,
  type MarketplaceEvent,
} from "../../../node/src/chain/marketplace-client.js";
import { TransactionError } from "../../../node/src/chain/transaction-manager.js";
import { HoldfastError } from "../../../node/src/errors.js";
import { LevelStore } from "../../../node/src/store/database.js";
import {
  type Deployed,
  exampleRequest,
  maxPrice,
  requestIdOf,
  slotIdOf,
  testbed,
} from "../../contracts/marketplace/testbed.js";
import { localWallet } from "./accounts.js";

const connection = await network.create();
const bed = testbed(connection);
const { ethers } = connection;

/** Hardhat account 1 is the testbed's client; the client signs locally with its key. */
const clientWallet = () => localWallet(1, ethers.provider);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("MarketplaceClient on Hardhat's EVM", function () {
  this.timeout(120_000);

  let d: Deployed;
  let address: string;

  before(async function () {
    d = await bed.deploy();
    address = await d.marketplace.getAddress();
  });

  const connect = (options: Partial<Parameters<typeof MarketplaceClient.connect>[0]> = {}) =>
    MarketplaceClient.connect({
      provider: ethers.provider,
      signer: clientWallet(),
      address,
      confirmations: 0,
      transactions: { pollIntervalMs: 10 },
      ...options,
    });

  describe("connect", function () {
    it("reads the marketplace's configuration, token and account", async function () {
      const client = await connect();
      expect(client.address).to.equal(address);
      expect(client.tokenAddress).to.equal(await d.token.getAddress());
      expect(client.account).to.equal(d.actors.client.address);
      expect(client.chainId).to.equal((await ethers.provider.getNetwork()).chainId);
      expect(client.config.proofs.period).to.equal(d.config.proofs.period);
      expect(client.config.proofs.zkeyHash).to.equal(d.config.proofs.zkeyHash);
      expect(client.config.collateral.slashPercentage).to.equal(20);
      expect(client.config.requestDurationLimit).to.equal(d.config.requestDurationLimit);
    });

    it("refuses an address without code (ERR_CHAIN)", async function () {
      const error = await rejection(connect({ address: d.actors.stranger.address }));
      expect(error).to.be.instanceOf(HoldfastError);
      expect((error as HoldfastError).code).to.equal("ERR_CHAIN");
      expect((error as Error).message).to.match(/no contract at marketplace address/);
    });

    it("refuses a contract that is not a marketplace (ERR_CHAIN)", async function () {
      const error = await rejection(connect({ address: await d.token.getAddress() }));
      expect((error as HoldfastError).code).to.equal("ERR_CHAIN");
      expect((error as Error).message).to.match(/does not answer as a Holdfast marketplace/);
    });

    it("refuses text that is no address (ERR_INVALID_ARGUMENT)", async function () {
      const error = await rejection(connect({ address: "0x1234" }));
      expect((error as HoldfastError).code).to.equal("ERR_INVALID_ARGUMENT");
    });
  });

  describe("requests, reads and reverts", function () {
    it("requestStorage approves the price, sends, and returns the id the contract emits", async function () {
      const client = await connect();
      const request = exampleRequest(client.account!);
      const before = await client.tokenBalance(client.account!);
      const { requestId, receipt } = await client.requestStorage(request);
      const emitted = receipt.logs
        .map((log) => client.decodeEvent(log))
        .filter((e): e is MarketplaceEvent => e?.name === "StorageRequested");
      expect(emitted).to.have.length(1);
      expect(emitted[0]!.name === "StorageRequested" && emitted[0]!.requestId).to.equal(requestId);
      expect(requestId).to.equal(requestIdOf(request));
      expect(await client.tokenBalance(client.account!)).to.equal(before - maxPrice(request.ask));

      // Reads of the new request.
      expect(await client.getRequest(requestId)).to.deep.equal(request);
      expect(await client.requestState(requestId)).to.equal("new");
      const createdAt = BigInt((await ethers.provider.getBlock(receipt.blockNumber))!.timestamp);
      expect(await client.requestExpiry(requestId)).to.equal(createdAt + request.expiry);
      expect(await client.requestEnd(requestId)).to.equal(createdAt + request.ask.duration);
      expect(await client.myRequests()).to.include(requestId);
      const slotId = slotIdOf(requestId, 0n);
      expect(await client.slotState(slotId)).to.equal("free");
      expect(await client.getHost(slotId)).to.equal(undefined);
      expect(await client.currentCollateral(slotId)).to.equal(0n);
      expect(await client.now()).to.equal(
        BigInt((await ethers.provider.getBlock("latest"))!.timestamp),
      );
      const now = await client.now();
      expect(await client.currentPeriod()).to.equal(client.periodOf(now));
      expect(client.periodEnd(client.periodOf(now))).to.equal(
        (now / d.config.proofs.period + 1n) * d.config.proofs.period,
      );
    });

    it("concurrent requests of one account each get their own allowance", async function () {
      const client = await connect();
      // The dearer request first: its approval must not be replaced by the cheaper one's.
      const dear = exampleRequest(client.account!);
      dear.ask.pricePerBytePerSecond = 10n;
      const cheap = exampleRequest(client.account!);
      const results = await Promise.all([
        client.requestStorage(dear),
        client.requestStorage(cheap),
      ]);
      expect(results.map((r) => r.requestId)).to.deep.equal([
        requestIdOf(dear),
        requestIdOf(cheap),
      ]);
      expect(await client.requestState(requestIdOf(dear))).to.equal("new");
      expect(await client.requestState(requestIdOf(cheap))).to.equal("new");
    });

    it("getRequest of an unknown id is undefined; requestState of one reverts", async function () {
      const client = await connect();
      const unknown = `0x${"ab".repeat(32)}`;
      expect(await client.getRequest(unknown)).to.equal(undefined);
      expect(String(await rejection(client.requestState(unknown)))).to.match(
        /Marketplace_UnknownRequest/,
      );
    });

    it("reports a revert with the contract's custom error name", async function () {
      const client = await connect();
      const request = exampleRequest(client.account!);
      request.ask.maxSlotLoss = request.ask.slots + 1n;
      const error = await rejection(client.requestStorage(request));
      expect(error).to.be.instanceOf(TransactionError);
      expect((error as TransactionError).code).to.equal("REVERTED");
      expect((error as TransactionError).reason).to.equal("Marketplace_InvalidMaxSlotLoss()");

      const { requestId } = await client.requestStorage(exampleRequest(client.account!));
      const early = await rejection(client.withdrawFunds(requestId));
      expect((early as TransactionError).reason).to.equal("Marketplace_InvalidState()");
      // Another account is not the request's client.
      const stranger = await connect({ signer: localWallet(8, ethers.provider) });
      const foreign = await rejection(stranger.withdrawFunds(requestId));
      expect((foreign as TransactionError).reason).to.equal("Marketplace_InvalidClientAddress()");
    });

    it("a client without a signer reads but does not send", async function () {
      const client = await connect({ signer: undefined });
      expect(client.account).to.equal(undefined);
      expect(await client.tokenBalance(d.actors.client.address)).to.be.a("bigint");
      const error = await rejection(client.requestStorage(exampleRequest(d.actors.client.address)));
      expect((error as HoldfastError).code).to.equal("ERR_INVALID_ARGUMENT");
    });
  });

  describe("events", function () {
    let dir: string;
    let db: LevelStore;

    beforeEach(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-events-"));
      db = await LevelStore.open(dir);
    });

    afterEach(async function () {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });

    const where = (e: MarketplaceEvent) => `${e.blockNumber}/${e.logIndex}`;

    it("delivers decoded events once each, in order, across a restart on the same cursor store", async function () {
      const startBlock = (await ethers.provider.getBlockNumber()) + 1;
      const client = await connect({ maxLogRange: 3 });
      const delivered: MarketplaceEvent[] = [];
      const poller = () =>
        client.events({
          cursorKey: "test",
          store: new DatabaseCursorStore(db),
          startBlock,
          onEvents: async (events) => void delivered.push(...events),
        });

      // Before the "restart": a request, two slots filled.
      const request = exampleRequest(client.account!);
      const { requestId } = await client.requestStorage(request);
      await bed.fillSlot(d, request, 0n, d.actors.hosts[0]!);
      await bed.fillSlot(d, request, 1n, d.actors.hosts[1]!);
      await poller().pollOnce();
      expect(delivered.map((e) => e.name)).to.deep.equal([
        "StorageRequested",
        "SlotFilled",
        "SlotFilled",
      ]);
      const first = delivered[0]!;
      expect(first.name === "StorageRequested" && first.requestId).to.equal(requestId);
      expect(first.name === "StorageRequested" && first.ask).to.deep.equal(request.ask);

      // After it, a new poller over the same database continues where the cursor is.
      await bed.fillSlot(d, request, 2n, d.actors.hosts[2]!);
      await bed.fillSlot(d, request, 3n, d.actors.hosts[3]!);
      const afterRestart = poller();
      await afterRestart.pollOnce();
      await afterRestart.pollOnce(); // nothing new
      expect(delivered.map((e) => e.name)).to.deep.equal([
        "StorageRequested",
        "SlotFilled",
        "SlotFilled",
        "SlotFilled",
        "SlotFilled",
        "RequestFulfilled",
      ]);
      const slots = delivered.flatMap((e) => (e.name === "SlotFilled" ? [e.slotIndex] : []));
      expect(slots).to.deep.equal([0n, 1n, 2n, 3n]);

      // The same events as the chain's whole log, without repeats or gaps.
      const all = (await ethers.provider.getLogs({ address, fromBlock: startBlock }))
        .map((log) => client.decodeEvent(log))
        .filter((e): e is MarketplaceEvent => e !== undefined);
      expect(delivered.map(where)).to.deep.equal(all.map(where));
      expect(new Set(delivered.map(where)).size).to.equal(delivered.length);
    });

    it("does not move the cursor past events whose handler failed: they come again", async function () {
      const startBlock = (await ethers.provider.getBlockNumber()) + 1;
      const client = await connect();
      await client.requestStorage(exampleRequest(client.account!));
      let fail = true;
      const seen: string[] = [];
      const poller = client.events({
        cursorKey: "failing",
        store: new DatabaseCursorStore(db),
        startBlock,
        onEvents: async (events) => {
          if (fail && events.length > 0) throw new Error("handler down");
          seen.push(...events.map(where));
        },
      });
      expect(String(await rejection(poller.pollOnce()))).to.match(/handler down/);
      fail = false;
      await poller.pollOnce();
      expect(seen).to.have.length(1);
    });

    it("waits for confirmations before delivering", async function () {
      const startBlock = (await ethers.provider.getBlockNumber()) + 1;
      const client = await connect({ confirmations: 2 });
      await client.requestStorage(exampleRequest(client.account!));
      const seen: MarketplaceEvent[] = [];
      const poller = client.events({
        cursorKey: "confirmed",
        store: new DatabaseCursorStore(db),
        startBlock,
        onEvents: async (events) => void seen.push(...events),
      });
      await poller.pollOnce();
      expect(seen).to.have.length(0);
      await bed.mineBlocks(2);
      await poller.pollOnce();
      expect(seen.map((e) => e.name)).to.deep.equal(["StorageRequested"]);
    });
  });
});
