import { expect } from "chai";
import type { Log, Provider } from "ethers";
import { network } from "hardhat";
import {
  LogPoller,
  type LogPollerOptions,
  MemoryCursorStore,
} from "../../../node/src/chain/log-poller.js";

describe("LogPoller", function () {
  // Mints in 30 separate blocks, so the Transfer logs span a range wider than the poller's.
  async function setup() {
    const { ethers, networkHelpers } = await network.create();
    const [owner] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", [owner!.address, 0n]);
    const startBlock = await ethers.provider.getBlockNumber();
    for (let i = 1; i <= 30; i++) await token.mint(owner!.address, BigInt(i));
    const transferTopic = token.interface.getEvent("Transfer").topicHash;
    const received: Log[] = [];
    const options = (overrides: Partial<LogPollerOptions>): LogPollerOptions => ({
      cursorKey: "token",
      store: new MemoryCursorStore(),
      address: token.target as string,
      topics: [transferTopic],
      startBlock,
      confirmations: 0,
      onLogs: async (logs) => void received.push(...logs),
      ...overrides,
    });
    return { ethers, networkHelpers, received, options };
  }

  const amounts = (logs: readonly Log[]) => logs.map((l) => BigInt(l.data));
  const oneTo = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i + 1));

  /** Wraps a provider, replacing its getLogs. */
  function withGetLogs(
    provider: Provider,
    getLogs: (filter: { fromBlock: number; toBlock: number }) => Promise<Log[]>,
  ) {
    return new Proxy(provider, {
      get(target, prop, receiver) {
        if (prop === "getLogs") return getLogs;
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === "function"
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
  }

  it("delivers every confirmed log once, in chain order, across many small ranges", async function () {
    const { ethers, received, options } = await setup();
    const poller = new LogPoller(ethers.provider, options({ maxBlockRange: 4 }));
    expect(await poller.pollOnce()).to.equal(30);
    expect(await poller.pollOnce()).to.equal(0);
    expect(amounts(received)).to.deep.equal(oneTo(30));
  });

  it("holds back logs younger than the confirmation depth", async function () {
    const { ethers, networkHelpers, received, options } = await setup();
    const poller = new LogPoller(ethers.provider, options({ confirmations: 5 }));
    expect(await poller.pollOnce()).to.equal(25);
    await networkHelpers.mine(5);
    expect(await poller.pollOnce()).to.equal(5);
    expect(amounts(received)).to.deep.equal(oneTo(30));
  });

  it("resumes from its persisted cursor after a restart, re-delivering the range whose handler failed", async function () {
    const { ethers, received, options } = await setup();
    const store = new MemoryCursorStore();
    let failOn = 10n;
    const onLogs = async (logs: readonly Log[]) => {
      if (amounts(logs).includes(failOn)) throw new Error("handler crashed");
      received.push(...logs);
    };
    const first = new LogPoller(ethers.provider, options({ store, maxBlockRange: 3, onLogs }));
    await first.pollOnce().then(
      () => expect.fail("the handler's error must surface"),
      (e: Error) => expect(e.message).to.equal("handler crashed"),
    );
    const beforeCrash = received.length;
    expect(beforeCrash).to.be.lessThan(10);
    expect(amounts(received)).to.deep.equal(oneTo(beforeCrash));

    failOn = -1n;
    const restarted = new LogPoller(ethers.provider, options({ store, maxBlockRange: 3, onLogs }));
    expect(await restarted.pollOnce()).to.equal(30 - beforeCrash);
    expect(amounts(received)).to.deep.equal(oneTo(30)); // nothing lost, nothing twice
  });

  it("splits a range the provider refuses, and keeps the narrower range afterwards", async function () {
    const { ethers, received, options } = await setup();
    // Like public RPC endpoints, this provider refuses log queries wider than 5 blocks.
    const widths: number[] = [];
    const limited = withGetLogs(ethers.provider, async (filter) => {
      const width = filter.toBlock - filter.fromBlock + 1;
      widths.push(width);
      if (width > 5)
        throw Object.assign(new Error("query exceeds max block range 5"), { code: -32005 });
      return ethers.provider.getLogs(filter);
    });
    const poller = new LogPoller(limited, options({ maxBlockRange: 100 }));
    expect(await poller.pollOnce()).to.equal(30);
    expect(amounts(received)).to.deep.equal(oneTo(30));
    expect(poller.blockRange).to.be.at.most(5);
    const refusals = widths.filter((w) => w > 5).length;
    expect(refusals).to.be.within(1, 5); // a few halvings, then no more refused queries
  });

  it("passes on errors that are not range refusals, without moving the cursor", async function () {
    const { ethers, options } = await setup();
    const store = new MemoryCursorStore();
    const broken = withGetLogs(ethers.provider, () =>
      Promise.reject(new Error("connection reset")),
    );
    const poller = new LogPoller(broken, options({ store }));
    await poller.pollOnce().then(
      () => expect.fail("must reject"),
      (e: Error) => expect(e.message).to.equal("connection reset"),
    );
    expect(await store.load("token")).to.equal(undefined);
  });

  it("refuses a non-positive block range", async function () {
    const { ethers, options } = await setup();
    expect(() => new LogPoller(ethers.provider, options({ maxBlockRange: 0 }))).to.throw(
      RangeError,
      /maxBlockRange/,
    );
  });
});
