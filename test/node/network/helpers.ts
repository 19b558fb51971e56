import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import type {
  BlockSink,
  BlockSource,
  TreeSource,
  TreeVerifier,
} from "../../../node/src/network/interfaces.js";
import type { NetworkMetrics } from "../../../node/src/network/metrics.js";
import { Network, type NetworkOptions } from "../../../node/src/network/network.js";
import { parseNetworkAddressOptions } from "../../../node/src/network/options.js";

/** Codex's block codec (codex-block, 0xcd02), as the node's data layer uses. */
const BLOCK_CODEC = 0xcd02;

export function cidOf(bytes: Uint8Array, codec = BLOCK_CODEC): CID {
  const digest = createHash("sha256").update(bytes).digest();
  return CID.createV1(codec, Digest.create(0x12, digest));
}

export interface TestBlock {
  cid: CID;
  bytes: Uint8Array;
}

export function randomBlocks(count: number, size = 64 * 1024): TestBlock[] {
  return Array.from({ length: count }, () => {
    const bytes = new Uint8Array(randomBytes(size));
    return { cid: cidOf(bytes), bytes };
  });
}

/** An in-memory block store; `get` can be overridden per test to misbehave. */
export class MemoryBlockStore implements BlockSource, BlockSink {
  readonly blocks = new Map<string, Uint8Array>();
  puts = 0;

  constructor(blocks: readonly TestBlock[] = []) {
    for (const b of blocks) this.blocks.set(b.cid.toString(), b.bytes);
  }

  async has(cid: CID) {
    return this.blocks.has(cid.toString());
  }

  async get(cid: CID) {
    return this.blocks.get(cid.toString());
  }

  async put(cid: CID, bytes: Uint8Array) {
    this.puts++;
    this.blocks.set(cid.toString(), bytes);
  }
}

/** Temporary directories and started networks, cleaned up by `cleanup()` in an after hook. */
export class TestNetworks {
  readonly #dirs: string[] = [];
  readonly #networks: Network[] = [];

  async dir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-net-"));
    this.#dirs.push(dir);
    return dir;
  }

  async start(
    store: BlockSource & BlockSink,
    options: Partial<Omit<NetworkOptions, "addresses">> & {
      bootstrapNodes?: string[];
      metrics?: NetworkMetrics;
      trees?: TreeSource;
      verifyTree?: TreeVerifier;
    } = {},
  ): Promise<Network> {
    const { bootstrapNodes, metrics, trees, verifyTree, ...rest } = options;
    const network = await Network.create(
      { source: store, sink: store, metrics, trees, verifyTree },
      {
        dataDir: await this.dir(),
        addresses: parseNetworkAddressOptions({
          listenAddrs: ["/ip4/127.0.0.1/tcp/0"],
          bootstrapNodes,
        }),
        ...rest,
      },
    );
    this.#networks.push(network);
    await network.start();
    return network;
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.#networks.splice(0).map((n) => n.stop()));
    await Promise.allSettled(
      this.#dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })),
    );
  }
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
