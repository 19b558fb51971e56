import { expect } from "chai";
import { CID } from "multiformats/cid";
import { slotProviderKey } from "../../../node/src/network/discovery.js";
import type { Network } from "../../../node/src/network/network.js";
import { MemoryBlockStore, TestNetworks, cidOf, collect, randomBlocks } from "./helpers.js";

describe("discovery through the DHT on 127.0.0.1", function () {
  this.timeout(60_000);
  const nets = new TestNetworks();
  const blocks = randomBlocks(32);
  const cids = blocks.map((b) => b.cid);
  // Stands for a dataset's manifest id; any CID works as a DHT key.
  const datasetKey = cidOf(new TextEncoder().encode("dataset manifest"), 0x0200);

  after(async function () {
    await nets.cleanup();
  });

  const bootstrapOf = (n: Network) => [n.multiaddrs[0]!.toString()];

  async function waitForPeers(net: Network, count: number) {
    const deadline = Date.now() + 10_000;
    while (net.dhtPeerCount < count) {
      if (Date.now() > deadline) throw new Error("the DHT routing table did not fill");
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("finds providers announced by others and downloads from them without a direct connect", async function () {
    const boot = await nets.start(new MemoryBlockStore());
    const holderA = await nets.start(new MemoryBlockStore(blocks), {
      bootstrapNodes: bootstrapOf(boot),
    });
    const holderB = await nets.start(new MemoryBlockStore(blocks), {
      bootstrapNodes: bootstrapOf(boot),
    });
    await waitForPeers(holderA, 1);
    await waitForPeers(holderB, 1);
    for (const holder of [holderA, holderB]) {
      const announced = holder.whenAnnounced(datasetKey);
      holder.announce([datasetKey]);
      await announced;
    }

    const store = new MemoryBlockStore();
    const fetcher = await nets.start(store, { bootstrapNodes: bootstrapOf(boot) });
    await waitForPeers(fetcher, 1);
    // No dial to the holders here: the DHT finds them (its own queries may connect to them).

    const got = await collect(fetcher.download({ cids, providerKeys: [datasetKey] }));
    got.forEach((b, i) =>
      expect(Buffer.from(b.bytes!).equals(Buffer.from(blocks[i]!.bytes))).to.equal(true),
    );
    const from = new Set(got.map((b) => String(b.from)));
    expect(
      [...from].every((p) => p === holderA.peerId.toString() || p === holderB.peerId.toString()),
    ).to.equal(true);
    expect(store.blocks.size).to.equal(blocks.length);
  });

  it("derives distinct, stable DHT keys per slot", function () {
    const a = slotProviderKey(datasetKey, 0);
    expect(a.equals(slotProviderKey(datasetKey, 0))).to.equal(true);
    expect(a.equals(slotProviderKey(datasetKey, 1))).to.equal(false);
    expect(a.equals(datasetKey)).to.equal(false);
    expect(CID.parse(a.toString()).version).to.equal(1);
    expect(() => slotProviderKey(datasetKey, -1)).to.throw(RangeError);
  });
});
