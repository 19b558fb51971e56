/**
 * Child process for bench/p2p.bench.ts, so that each node of a measured transfer has its own
 * process (and event loop), as real nodes do.
 *
 *   tsx bench/p2p-peer.ts provider <blocks> <dataDir>   a node serving the benchmark dataset
 *   tsx bench/p2p-peer.ts tcp <bytes>                   a plain TCP server sending <bytes> per client
 *
 * Prints one JSON line with its address when ready; exits when its stdin closes.
 */
import { createCipheriv, createHash } from "node:crypto";
import net from "node:net";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import type { BlockSink, BlockSource } from "../node/src/network/interfaces.js";
import { Network } from "../node/src/network/network.js";
import { parseNetworkAddressOptions } from "../node/src/network/options.js";

export const BLOCK_SIZE = 64 * 1024;
export const RAW_STREAM_PROTOCOL = "/holdfast/bench/raw-stream/1";

/** The benchmark dataset: pseudo-random blocks that every process derives alike, fast (AES-CTR). */
export function benchBlock(index: number): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(index, 12);
  const cipher = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), iv);
  return cipher.update(Buffer.alloc(BLOCK_SIZE));
}

export function benchCid(bytes: Uint8Array): CID {
  return CID.createV1(0xcd02, Digest.create(0x12, createHash("sha256").update(bytes).digest()));
}

class MapStore implements BlockSource, BlockSink {
  readonly blocks = new Map<string, Uint8Array>();
  async has(cid: CID) {
    return this.blocks.has(cid.toString());
  }
  async get(cid: CID) {
    return this.blocks.get(cid.toString());
  }
  async put(cid: CID, bytes: Uint8Array) {
    this.blocks.set(cid.toString(), bytes);
  }
}

async function provider(count: number, dataDir: string) {
  const store = new MapStore();
  for (let i = 0; i < count; i++) {
    const bytes = benchBlock(i);
    await store.put(benchCid(bytes), bytes);
  }
  const network = await Network.create(
    { source: store, sink: store },
    { dataDir, addresses: parseNetworkAddressOptions({ listenAddrs: ["/ip4/127.0.0.1/tcp/0"] }) },
  );
  await network.start();
  // The same libp2p connection without the block exchange: sends DATASET bytes on each stream.
  await network.libp2p.handle(RAW_STREAM_PROTOCOL, async (stream) => {
    const chunk = new Uint8Array(BLOCK_SIZE);
    for (let sent = 0; sent < count * BLOCK_SIZE; sent += chunk.length) {
      if (!stream.send(chunk)) await stream.onDrain();
    }
    await stream.close();
  });
  process.stdout.write(
    `${JSON.stringify({ peerId: network.peerId.toString(), addr: network.multiaddrs[0]!.toString() })}\n`,
  );
  return () => network.stop();
}

async function tcp(bytes: number) {
  const chunk = Buffer.alloc(BLOCK_SIZE, 1);
  const server = net.createServer((socket) => {
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", write);
      }
      socket.end();
    };
    write();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [mode, arg, dataDir] = process.argv.slice(2);
  const stop = mode === "provider" ? await provider(Number(arg), dataDir!) : await tcp(Number(arg));
  process.stdin.resume();
  process.stdin.on("end", () => void stop().then(() => process.exit(0)));
}
