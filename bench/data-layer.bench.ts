/**
 * The data layer's speeds: upload and download of 100 MiB through the REST API (with two peers
 * for upload, measured in the same run: this machine's SHA-256 speed, since every block is hashed
 * once, and a bare node:http server that receives the same request and hashes it block by block
 * without storing it, which is what any Node server must do), Reed-Solomon encoding and decoding,
 * and slot plus dataset root building (Poseidon2-bound).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request } from "node:http";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { BlockSplitter } from "../node/src/blocks/chunker.js";
import { BLOCK_SIZE } from "../node/src/blocks/constants.js";
import { DROP_SINK, protectDataset } from "../node/src/dataset/protect.js";
import { ReedSolomon } from "../node/src/erasure/reed-solomon.js";
import { defaultConfig } from "../node/src/config/options.js";
import { HoldfastNode } from "../node/src/node.js";
import { blockRootsInThread, defaultHashing } from "../node/src/slots/default-hashing.js";
import { type BenchRow, type Benchmark, opsPerSecond } from "./harness.js";

const MiB = 2 ** 20;

function uploadBody(url: string, data: Uint8Array, chunk = MiB): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { "content-length": data.length } },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () =>
          res.statusCode === 201
            ? resolve((JSON.parse(body) as { id: string }).id)
            : reject(new Error(body)),
        );
      },
    );
    req.on("error", reject);
    let at = 0;
    const pump = () => {
      while (at < data.length) {
        const piece = data.subarray(at, Math.min(at + chunk, data.length));
        at += piece.length;
        if (!req.write(piece)) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

function downloadAll(url: string, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(`${url}/data/${id}`, (res) => {
      let bytes = 0;
      res.on("data", (d: Buffer) => (bytes += d.length));
      res.on("end", () => resolve(bytes));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/**
 * The ingest peer: a bare node:http server that cuts the body into blocks and hashes each one, as
 * the upload does, but stores nothing. Answers 201 with the number of blocks as the id.
 */
async function startIngestPeer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void (async () => {
      let hash = createHash("sha256");
      const splitter = new BlockSplitter({
        piece: (bytes) => hash.update(bytes),
        blockEnd: () => {
          hash.digest();
          hash = createHash("sha256");
        },
      });
      for await (const chunk of req) splitter.push(chunk as Buffer);
      res.writeHead(201).end(JSON.stringify({ id: String(splitter.end()) }));
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** CPU seconds of this process (every thread) since `since`. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

const bench: Benchmark = {
  name: "data-layer",
  description: "upload/download through the API (100 MiB), erasure coding, slot and dataset roots",
  async run(log) {
    const rows: BenchRow[] = [];
    const block = randomBytes(BLOCK_SIZE);
    const sha =
      (opsPerSecond(() => createHash("sha256").update(block).digest(), 1500) * BLOCK_SIZE) / 1e6;
    rows.push({
      subject: "node:crypto sha256 (peer)",
      metric: "64 KiB blocks",
      value: sha,
      unit: "MB/s",
    });

    const dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-bench-"));
    const node = await HoldfastNode.start(
      {
        ...defaultConfig(),
        dataDir,
        apiPort: 0,
        apiBindAddress: "127.0.0.1",
        metricsPort: undefined,
        metricsBindAddress: "127.0.0.1",
        logLevel: "warn",
        storageQuota: 4 * 2 ** 30,
        maxUploadSize: undefined,
        listenAddrs: ["/ip4/127.0.0.1/tcp/0"],
        announceAddrs: [],
        bootstrapNodes: [],
        networkTimeout: 30_000,
      },
      { logger: pino({ level: "warn" }), hashing: defaultHashing() },
    );
    const ingest = await startIngestPeer();
    try {
      const url = `${node.apiUrl}/api/v1`;
      const data = new Uint8Array(randomBytes(100 * MiB));
      const ingests: number[] = [];
      const uploads: number[] = [];
      const uploadCpu: number[] = [];
      const downloads: number[] = [];
      // Memory must stay flat whatever the upload size: sample the process's RSS while uploading.
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      // Peer and upload alternate, so that both see the same load on a shared machine.
      for (let round = 0; round < 5; round++) {
        data[0] = round; // a new dataset each round, not a duplicate
        let start = performance.now();
        await uploadBody(ingest.url, data);
        ingests.push(mbps(data.length, performance.now() - start));
        const cpu = process.cpuUsage();
        start = performance.now();
        const id = await uploadBody(`${url}/data`, data);
        uploads.push(mbps(data.length, performance.now() - start));
        uploadCpu.push(1000 * cpuSeconds(cpu));
        start = performance.now();
        const bytes = await downloadAll(url, id);
        if (bytes !== data.length) throw new Error(`downloaded ${bytes} bytes`);
        downloads.push(mbps(bytes, performance.now() - start));
        log(
          `round ${round}: ingest peer ${ingests.at(-1)!.toFixed(0)} MB/s, upload ${uploads.at(-1)!.toFixed(0)} MB/s ` +
            `(${uploadCpu.at(-1)!.toFixed(0)} ms CPU), download ${downloads.at(-1)!.toFixed(0)} MB/s`,
        );
      }
      clearInterval(sampler);
      const best = (xs: number[]) => Math.max(...xs);
      rows.push({
        subject: "node:http ingest + SHA-256 (peer)",
        metric: "100 MiB in 64 KiB blocks, not stored (best of 5)",
        value: best(ingests),
        unit: "MB/s",
        ratio: { to: "sha256", value: best(ingests) / sha },
      });
      rows.push({
        subject: "POST /api/v1/data",
        metric: "upload 100 MiB (best of 5)",
        value: best(uploads),
        unit: "MB/s",
        ratio: { to: "sha256", value: best(uploads) / sha },
      });
      rows.push({
        subject: "POST /api/v1/data",
        metric: "upload 100 MiB vs the ingest peer (best of 5 each)",
        value: best(uploads),
        unit: "MB/s",
        ratio: { to: "ingest", value: best(uploads) / best(ingests) },
      });
      rows.push({
        subject: "POST /api/v1/data",
        metric:
          "CPU time of the process per 100 MiB upload, all threads, client included (least of 5)",
        value: Math.min(...uploadCpu),
        unit: "ms",
      });
      rows.push({
        subject: "POST + GET, 3 x 100 MiB",
        metric: "peak RSS growth of the node process (client included)",
        value: (peak - baseline) / MiB,
        unit: "MiB",
      });
      rows.push({
        subject: "GET /api/v1/data/{id}",
        metric: "download 100 MiB, verified (best of 5)",
        value: best(downloads),
        unit: "MB/s",
      });
    } finally {
      await ingest.close();
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    }

    for (const [k, m] of [
      [4, 2],
      [10, 5],
      [32, 16],
    ] as const) {
      const code = new ReedSolomon(k, m);
      const shards = Array.from({ length: k }, () => new Uint8Array(randomBytes(BLOCK_SIZE)));
      const parity = code.encode(shards);
      const encode = (opsPerSecond(() => code.encode(shards, parity), 1000) * k * BLOCK_SIZE) / 1e6;
      const lost: (Uint8Array | null)[] = [...shards, ...parity];
      for (let i = 0; i < m; i++) lost[i] = null;
      const decode = (opsPerSecond(() => code.decode(lost), 1000) * k * BLOCK_SIZE) / 1e6;
      rows.push({
        subject: `Reed-Solomon K=${k} M=${m}`,
        metric: "encode (data bytes)",
        value: encode,
        unit: "MB/s",
      });
      rows.push({
        subject: `Reed-Solomon K=${k} M=${m}`,
        metric: `decode, ${m} data shards lost`,
        value: decode,
        unit: "MB/s",
      });
    }

    // Slot and dataset roots: 8 MiB protected 4+2 (12 MiB of blocks hashed), storing nothing.
    const original = Array.from({ length: 128 }, () => new Uint8Array(randomBytes(BLOCK_SIZE)));
    const digests = original.map((b) => new Uint8Array(createHash("sha256").update(b).digest()));
    // Peer: the Poseidon2 library's batch block hashing on one thread, same run. Besides wall
    // time, hashing is measured per CPU-second of this process (all its threads): that is the
    // speed per core, which neighbours on a shared machine affect far less than wall time.
    // The first calls compile the kernel and run it unoptimised: warm up before timing. The
    // worker pool is started only afterwards, so its start-up is not charged to the peer.
    blockRootsInThread(original.slice(0, 8));
    const peerStart = performance.now();
    const peerCpu = process.cpuUsage();
    blockRootsInThread(original.slice(0, 32));
    const peer = mbps(32 * BLOCK_SIZE, performance.now() - peerStart);
    const peerPerCore = (32 * BLOCK_SIZE) / 1e6 / cpuSeconds(peerCpu);
    rows.push({
      subject: "poseidon2 blockTreeRoots (peer)",
      metric: "one thread, 64 KiB blocks",
      value: peer,
      unit: "MB/s",
    });
    rows.push({
      subject: "poseidon2 blockTreeRoots (peer)",
      metric: "one thread, per CPU-second",
      value: peerPerCore,
      unit: "MB/s",
    });
    const hashing = defaultHashing();
    try {
      await hashing.roots.blockRoots(original.slice(0, 16)); // start and warm up the workers
      const start = performance.now();
      const cpu = process.cpuUsage();
      await protectDataset(
        {
          count: original.length,
          read: async (i) => original[i]!,
          digest: async (i) => digests[i]!,
        },
        { ecK: 4, ecM: 2 },
        hashing,
        DROP_SINK,
      );
      const ms = performance.now() - start;
      const cpuUsed = cpuSeconds(cpu);
      const hashed = (original.length * 6) / 4;
      const rootSpeed = mbps(hashed * BLOCK_SIZE, ms);
      rows.push({
        subject: "protect 8 MiB, K=4 M=2",
        metric: `slot + dataset roots (blocks hashed, ${os.availableParallelism()} worker threads)`,
        value: rootSpeed,
        unit: "MB/s",
        ratio: { to: "blockTreeRoots", value: rootSpeed / peer },
      });
      const perCore = (hashed * BLOCK_SIZE) / 1e6 / cpuUsed;
      rows.push({
        subject: "protect 8 MiB, K=4 M=2",
        metric: "slot + dataset roots per CPU-second (all threads): per core",
        value: perCore,
        unit: "MB/s",
        ratio: { to: "blockTreeRoots per CPU-second", value: perCore / peerPerCore },
      });
      rows.push({
        subject: "protect 8 MiB, K=4 M=2",
        metric: "original data protected",
        value: mbps(original.length * BLOCK_SIZE, ms),
        unit: "MB/s",
      });
    } catch (error) {
      log(`slot roots not measured: ${(error as Error).message}`);
    } finally {
      await hashing.roots.close();
    }
    return rows;
  },
};
export default bench;
