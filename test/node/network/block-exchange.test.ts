import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Stream } from "@libp2p/interface";
import { expect } from "chai";
import { BLOCK_EXCHANGE_PROTOCOL } from "../../../node/src/network/block-exchange/protocol.js";
import {
  FrameDecoder,
  MessageType,
  encodeMessage,
} from "../../../node/src/network/block-exchange/wire.js";
import { isNetworkError } from "../../../node/src/network/errors.js";
import { type HoldfastLibp2p, createLibp2pNode } from "../../../node/src/network/libp2p-node.js";
import { type NetworkMetrics, noopNetworkMetrics } from "../../../node/src/network/metrics.js";
import type { Network } from "../../../node/src/network/network.js";
import { parseNetworkAddressOptions } from "../../../node/src/network/options.js";
import {
  MemoryBlockStore,
  type TestBlock,
  TestNetworks,
  cidOf,
  collect,
  randomBlocks,
} from "./helpers.js";

class CountingMetrics implements NetworkMetrics {
  counts: Record<string, number> = {};
  #inc(name: string, by = 1) {
    this.counts[name] = (this.counts[name] ?? 0) + by;
  }
  blockSent = () => this.#inc("sent");
  blockReceived = () => this.#inc("received");
  badBlock = () => this.#inc("bad");
  requestTimeout = () => this.#inc("timeout");
  peerDropped = () => this.#inc("dropped");
  discoveryQuery = () => this.#inc("queries");
  providersFound = (n: number) => this.#inc("providers", n);
  blockRetrievalSeconds = noopNetworkMetrics.blockRetrievalSeconds;
  downloadSeconds = () => this.#inc("downloads");
  connectedPeers = noopNetworkMetrics.connectedPeers;
}

/** A bare libp2p node that answers the block-exchange protocol with `handler`. */
async function rogue(handler: (stream: Stream) => void): Promise<HoldfastLibp2p> {
  const node = await createLibp2pNode({
    privateKey: await generateKeyPair("Ed25519"),
    addresses: parseNetworkAddressOptions({ listenAddrs: ["/ip4/127.0.0.1/tcp/0"] }),
  });
  await node.start();
  await node.handle(BLOCK_EXCHANGE_PROTOCOL, (stream) => handler(stream));
  return node;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a).equals(Buffer.from(b));
}

describe("block exchange between nodes over TCP on 127.0.0.1", function () {
  const nets = new TestNetworks();
  const rogues: HoldfastLibp2p[] = [];
  const blocks = randomBlocks(48);
  const cids = blocks.map((b) => b.cid);

  afterEach(async function () {
    await Promise.allSettled(rogues.splice(0).map((r) => r.stop()));
    await nets.cleanup();
  });

  async function client(
    providers: (Network | HoldfastLibp2p)[],
    options: Parameters<TestNetworks["start"]>[1] = {},
  ) {
    const store = new MemoryBlockStore();
    const metrics = new CountingMetrics();
    const net = await nets.start(store, { ...options, metrics });
    for (const p of providers) {
      await net.connect(p.peerId, "libp2p" in p ? p.multiaddrs : p.getMultiaddrs());
    }
    const peers = providers.map((p) => p.peerId);
    return { net, store, metrics, peers };
  }

  async function provider(store: MemoryBlockStore = new MemoryBlockStore(blocks)) {
    return nets.start(store);
  }

  it("downloads blocks in order from one provider, storing each verified block", async function () {
    const source = await provider();
    const { net, store, peers } = await client([source]);
    const progress: number[] = [];
    const got = await collect(
      net.download({
        cids,
        providerKeys: [],
        peers,
        onProgress: (p) => progress.push(p.fetched),
      }),
    );
    expect(got.map((b) => b.index)).to.deep.equal(cids.map((_, i) => i));
    got.forEach((b, i) => {
      expect(b.cid.equals(cids[i]!)).to.equal(true);
      expect(sameBytes(b.bytes, blocks[i]!.bytes), `block ${i}`).to.equal(true);
      expect(String(b.from)).to.equal(source.peerId.toString());
    });
    expect(store.puts).to.equal(blocks.length);
    for (const b of blocks)
      expect(sameBytes(store.blocks.get(b.cid.toString()), b.bytes)).to.equal(true);
    expect(progress.at(-1)).to.equal(blocks.length);
  });

  it("fetches from several providers at once", async function () {
    const sources = await Promise.all([provider(), provider(), provider()]);
    const { net, peers } = await client(sources, {
      downloader: { windowPerPeer: 4 },
    });
    const got = await collect(net.download({ cids, providerKeys: [], peers }));
    const servedBy = new Set(got.map((b) => String(b.from)));
    expect(servedBy.size, [...servedBy].join()).to.be.greaterThan(1);
    got.forEach((b, i) => expect(sameBytes(b.bytes, blocks[i]!.bytes)).to.equal(true));
  });

  it("fetches a CID listed several times (zero padding) once and delivers it at each place", async function () {
    const source = await provider();
    const { net, store, peers } = await client([source]);
    const list = [cids[0]!, cids[1]!, cids[0]!, cids[2]!, cids[0]!];
    const got = await collect(net.download({ cids: list, providerKeys: [], peers }));
    expect(got.map((b) => b.cid.toString())).to.deep.equal(list.map(String));
    got.forEach((b) =>
      expect(sameBytes(b.bytes, store.blocks.get(b.cid.toString())!)).to.equal(true),
    );
    expect(store.puts).to.equal(3);
  });

  it("does not fetch blocks it already stores", async function () {
    const source = await provider();
    const { net, store, peers } = await client([source]);
    await store.put(cids[0]!, blocks[0]!.bytes);
    await store.put(cids[5]!, blocks[5]!.bytes);
    store.puts = 0;
    const got = await collect(net.download({ cids, providerKeys: [], peers }));
    expect(got[0]!.from).to.equal("local");
    expect(got[5]!.from).to.equal("local");
    expect(store.puts).to.equal(blocks.length - 2);
  });

  it("detects a peer that serves corrupt blocks, bans it and completes from the others", async function () {
    // The corrupt provider flips one byte of every block it sends.
    const corrupt = new MemoryBlockStore(blocks);
    corrupt.get = async (cid) => {
      const bytes = corrupt.blocks.get(cid.toString());
      if (!bytes) return undefined;
      const bad = bytes.slice();
      bad[100] = bad[100]! ^ 0xff;
      return bad;
    };
    const bad = await provider(corrupt);
    const good = await provider();
    const { net, store, metrics, peers } = await client([bad, good]);
    const got = await collect(net.download({ cids, providerKeys: [], peers }));
    got.forEach((b, i) =>
      expect(sameBytes(b.bytes, blocks[i]!.bytes), `block ${i}`).to.equal(true),
    );
    expect(got.every((b) => String(b.from) === good.peerId.toString())).to.equal(true);
    expect(metrics.counts.bad ?? 0).to.be.greaterThan(0);
    expect(net.scores.isBanned(bad.peerId)).to.equal(true);
    expect(net.scores.isBanned(good.peerId)).to.equal(false);
    // Nothing but verified blocks ever reached the store.
    for (const [key, bytes] of store.blocks) expect(cidOf(bytes).toString()).to.equal(key);
  });

  it("times out a peer that says it has blocks but never sends them, then drops it", async function () {
    // Answers WANT_HAVE with HAVE for everything (so it gets block requests), then goes silent.
    const silent = await rogue((stream) => {
      const decoder = new FrameDecoder();
      stream.addEventListener("message", (event) => {
        for (const message of decoder.push(event.data)) {
          if (message.type === MessageType.WANT_HAVE) {
            stream.send(encodeMessage({ type: MessageType.HAVE, cids: message.cids }));
          }
        }
      });
    });
    rogues.push(silent);
    const good = await provider();
    const { net, metrics, peers } = await client([silent, good], {
      // Long enough that an event-loop stall on a loaded machine does not time out the good peer too.
      downloader: { requestTimeoutMs: 2_000, haveTimeoutMs: 2_000 },
    });
    const got = await collect(net.download({ cids, providerKeys: [], peers }));
    got.forEach((b, i) => expect(sameBytes(b.bytes, blocks[i]!.bytes)).to.equal(true));
    expect(metrics.counts.timeout ?? 0).to.be.greaterThan(0);
    expect(net.scores.score(silent.peerId) < 0 || net.scores.isBanned(silent.peerId)).to.equal(
      true,
    );
  });

  it("cuts off a peer that announces an oversized frame, and completes from the others", async function () {
    // A length prefix of 16 MiB: the client must refuse it without waiting for the body.
    const garbage = await rogue((stream) => {
      stream.addEventListener("message", () => {
        stream.send(Uint8Array.of(0x80, 0x80, 0x80, 0x08, 0x05));
      });
    });
    rogues.push(garbage);
    const good = await provider();
    const { net, peers } = await client([garbage, good]);
    const got = await collect(net.download({ cids, providerKeys: [], peers }));
    got.forEach((b, i) => expect(sameBytes(b.bytes, blocks[i]!.bytes)).to.equal(true));
    expect(net.scores.isBanned(garbage.peerId)).to.equal(true);
  });

  it("the server aborts the stream of a requester that sends an oversized frame", async function () {
    const server = await provider();
    const requester = await rogue(() => {});
    rogues.push(requester);
    const stream = await requester.dialProtocol(server.multiaddrs[0]!, BLOCK_EXCHANGE_PROTOCOL);
    const closed = new Promise<unknown>((resolve) =>
      stream.addEventListener("close", (event) => resolve(event.error)),
    );
    stream.send(Uint8Array.of(0x80, 0x80, 0x80, 0x08));
    const error = await Promise.race([
      closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error("not closed")), 5000)),
    ]);
    expect(error, "the stream was reset").to.not.equal(undefined);
  });

  describe("tree leaves", function () {
    // A stand-in tree for this test of the exchange: its id is a hash over the concatenated leaf
    // digests (the node's real SHA-256 Merkle tree is plugged in by the node's composition).
    const leaves = blocks.map((b) => b.cid.multihash.digest);
    const treeOf = (ls: readonly Uint8Array[]) => cidOf(Buffer.concat(ls), 0xcd03);
    const tree = treeOf(leaves);
    const verifyTree = (t: typeof tree, ls: readonly Uint8Array[]) => treeOf(ls).equals(t);
    const trees = (served: Uint8Array[]) => ({
      async leaves(t: typeof tree, start: number, count: number) {
        return t.equals(tree) ? served.slice(start, start + count) : undefined;
      },
    });

    it("fetches a tree's leaf digests and accepts them only if they rebuild the tree", async function () {
      const liar = await nets.start(new MemoryBlockStore(), {
        trees: trees(leaves.map((l, i) => (i === 7 ? new Uint8Array(32) : l))),
      });
      const honest = await nets.start(new MemoryBlockStore(), { trees: trees(leaves) });
      const { net, peers } = await client([liar, honest], { verifyTree });
      const got = await net.fetchLeaves({ tree, count: leaves.length, providerKeys: [], peers });
      expect(got.map((l) => Buffer.from(l).toString("hex"))).to.deep.equal(
        leaves.map((l) => Buffer.from(l).toString("hex")),
      );
      expect(net.scores.isBanned(liar.peerId)).to.equal(true);
    });

    it("fails with ERR_BLOCKS_UNAVAILABLE when no provider knows the tree", async function () {
      const other = await nets.start(new MemoryBlockStore(), { trees: trees(leaves) });
      const { net, peers } = await client([other], { verifyTree });
      const unknown = cidOf(Uint8Array.of(1), 0xcd03);
      try {
        await net.fetchLeaves({ tree: unknown, count: 3, providerKeys: [], peers });
        expect.fail("expected ERR_BLOCKS_UNAVAILABLE");
      } catch (error) {
        expect(isNetworkError(error, "ERR_BLOCKS_UNAVAILABLE"), String(error)).to.equal(true);
      }
      expect(net.scores.isBanned(other.peerId)).to.equal(false);
    });
  });

  it("stops promptly with ERR_ABORTED when the signal fires", async function () {
    const silent = await rogue(() => {});
    rogues.push(silent);
    const { net, peers } = await client([silent], { downloader: { stallTimeoutMs: 60_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    try {
      await collect(net.download({ cids, providerKeys: [], peers, signal: controller.signal }));
      expect.fail("expected ERR_ABORTED");
    } catch (error) {
      expect(isNetworkError(error, "ERR_ABORTED"), String(error)).to.equal(true);
    }
    expect(Date.now() - started).to.be.lessThan(2000);
  });

  it("fails with ERR_BLOCKS_UNAVAILABLE when no peer has some blocks, or skips them on request", async function () {
    const half: TestBlock[] = blocks.filter((_, i) => i % 2 === 0);
    const source = await provider(new MemoryBlockStore(half));
    // Long enough for the first HAVE answers on a loaded machine, or the error names block 0.
    const { net, peers } = await client([source], { downloader: { stallTimeoutMs: 1_500 } });
    try {
      await collect(net.download({ cids, providerKeys: [], peers }));
      expect.fail("expected ERR_BLOCKS_UNAVAILABLE");
    } catch (error) {
      expect(isNetworkError(error, "ERR_BLOCKS_UNAVAILABLE"), String(error)).to.equal(true);
      expect((error as Error).message).to.match(/no provider delivered block 1 /);
    }
    const got = await collect(net.download({ cids, providerKeys: [], peers, onMissing: "skip" }));
    expect(got).to.have.length(blocks.length);
    got.forEach((b, i) => {
      if (i % 2 === 0) expect(sameBytes(b.bytes, blocks[i]!.bytes), `block ${i}`).to.equal(true);
      else expect(b.bytes, `block ${i}`).to.equal(undefined);
    });
  });
});
