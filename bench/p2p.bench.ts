import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { multiaddr } from "@multiformats/multiaddr";
import type { CID } from "multiformats/cid";
import { peerIdFromString } from "@libp2p/peer-id";
import type { BlockSink, BlockSource } from "../node/src/network/interfaces.js";
import { Network } from "../node/src/network/network.js";
import { parseNetworkAddressOptions } from "../node/src/network/options.js";
import type { Benchmark, BenchRow } from "./harness.js";
import { BLOCK_SIZE, RAW_STREAM_PROTOCOL, benchBlock, benchCid } from "./p2p-peer.js";

const DATASET_BYTES = 100 * 1024 * 1024;
const BLOCKS = DATASET_BYTES / BLOCK_SIZE;
const peerScript = path.join(import.meta.dirname, "p2p-peer.ts");
const tsx = path.join(import.meta.dirname, "..", "node_modules", ".bin", "tsx");

/** Counts what it is given and keeps nothing: the benchmark measures the network, not a disk. */
class DiscardingSink implements BlockSink, BlockSource {
  bytes = 0;
  async has() {
    return false;
  }
  async get() {
    return undefined;
  }
  async put(_cid: CID, bytes: Uint8Array) {
    this.bytes += bytes.length;
  }
}

async function spawnPeer(
  children: ChildProcess[],
  args: string[],
): Promise<Record<string, string>> {
  const child = spawn(tsx, [peerScript, ...args], { stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`bench peer exited with ${code}`)));
  });
  return JSON.parse(line) as Record<string, string>;
}

/**
 * The best of three runs: the machine is shared, and other jobs only ever slow a run down, so the
 * fastest run is the closest to what the code itself allows. Every variant is measured alike.
 */
async function bestOf(run: () => Promise<number>): Promise<number> {
  let best = 0;
  for (let i = 0; i < 3; i++) best = Math.max(best, await run());
  return best;
}

async function rawTcpMBps(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const started = performance.now();
    const socket = net.connect(port, "127.0.0.1");
    socket.on("data", (chunk) => (got += chunk.length));
    socket.on("error", reject);
    socket.on("end", () => resolve(got / 1e6 / ((performance.now() - started) / 1000)));
  });
}

const bench: Benchmark = {
  name: "p2p",
  description:
    "block exchange over libp2p (TCP + Noise + Yamux) on loopback, 100 MiB of 64 KiB blocks, each node its own process, best of 3 runs; raw TCP loopback as the peer",
  async run(log) {
    const children: ChildProcess[] = [];
    const dirs: string[] = [];
    const dir = async () => {
      const d = await mkdtemp(path.join(os.tmpdir(), "holdfast-bench-p2p-"));
      dirs.push(d);
      return d;
    };
    let network: Network | undefined;
    try {
      log("deriving the dataset's block ids");
      const cids = Array.from({ length: BLOCKS }, (_, i) => benchCid(benchBlock(i)));

      log("raw TCP");
      const { port } = await spawnPeer(children, ["tcp", String(DATASET_BYTES)]);
      await rawTcpMBps(Number(port)); // warm-up
      const raw = await bestOf(() => rawTcpMBps(Number(port)));

      log("starting 3 providers");
      const providers = await Promise.all(
        [0, 1, 2].map(async () => spawnPeer(children, ["provider", String(BLOCKS), await dir()])),
      );
      const sink = new DiscardingSink();
      network = await Network.create(
        { source: sink, sink },
        {
          dataDir: await dir(),
          addresses: parseNetworkAddressOptions({ listenAddrs: ["/ip4/127.0.0.1/tcp/0"] }),
        },
      );
      await network.start();
      const peers = providers.map((p) => peerIdFromString(p.peerId!));
      for (const [i, p] of providers.entries()) {
        await network.connect(peers[i]!, [multiaddr(p.addr!)]);
      }
      const measure = async (from: typeof peers): Promise<number> => {
        sink.bytes = 0;
        const started = performance.now();
        for await (const _ of network!.download({ cids, providerKeys: [], peers: from })) {
          // delivered in order; nothing to do with it
        }
        const seconds = (performance.now() - started) / 1000;
        if (sink.bytes !== DATASET_BYTES) throw new Error(`stored ${sink.bytes} bytes`);
        return DATASET_BYTES / 1e6 / seconds;
      };
      const rawStream = async (): Promise<number> => {
        const started = performance.now();
        const stream = await network!.libp2p.dialProtocol(peers[0]!, RAW_STREAM_PROTOCOL);
        let got = 0;
        for await (const chunk of stream) got += chunk.byteLength;
        if (got !== DATASET_BYTES) throw new Error(`raw stream delivered ${got} bytes`);
        return DATASET_BYTES / 1e6 / ((performance.now() - started) / 1000);
      };
      log("libp2p stream");
      await rawStream();
      const stream = await bestOf(rawStream);
      log("1 provider");
      await measure(peers.slice(0, 1)); // warm-up: JIT, connection windows
      const one = await bestOf(() => measure(peers.slice(0, 1)));
      log("3 providers");
      const three = await bestOf(() => measure(peers));
      const rows: BenchRow[] = [
        { subject: "raw TCP loopback", metric: "100 MiB, 1 connection", value: raw, unit: "MB/s" },
        {
          subject: "libp2p stream (TCP+Noise+Yamux)",
          metric: "100 MiB, 1 stream",
          value: stream,
          unit: "MB/s",
          ratio: { to: "raw TCP", value: stream / raw },
        },
        {
          subject: "block exchange, 1 provider",
          metric: "100 MiB, verified",
          value: one,
          unit: "MB/s",
          ratio: { to: "raw TCP", value: one / raw },
        },
        {
          subject: "block exchange, 3 providers",
          metric: "100 MiB, verified",
          value: three,
          unit: "MB/s",
          ratio: { to: "raw TCP", value: three / raw },
        },
      ];
      return rows;
    } finally {
      await network?.stop();
      for (const child of children) child.stdin?.end();
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              const timer = setTimeout(() => c.kill("SIGKILL"), 5000);
              c.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
            }),
        ),
      );
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  },
};
export default bench;
