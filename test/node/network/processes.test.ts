/**
 * Several `holdfast start` processes on 127.0.0.1: discovery, block exchange, a provider killed
 * mid-transfer, a malicious provider, slot repair. Runs the built node (`npm test` builds first).
 * Every child process is killed in an after hook, whatever happened.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { expect } from "chai";

const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");
const bin = path.join(repoRoot, "node", "bin", "holdfast.js");
const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");

interface NodeProcess {
  child: ChildProcess;
  url: string;
  peerId: string;
  addrs: string[];
  metricsPort: number;
  exited: Promise<unknown>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

async function startNode(args: string[] = []): Promise<NodeProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-p2p-"));
  dirs.push(dataDir);
  const child = spawn(
    process.execPath,
    [
      bin,
      "start",
      "--data-dir",
      dataDir,
      "--api-port",
      "0",
      "--metrics-port",
      "0",
      "--listen-addrs",
      "/ip4/127.0.0.1/tcp/0",
      "--log-level",
      "info",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const seen: Record<string, Record<string, unknown>> = {};
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      for (const msg of ["API listening", "peer-to-peer listening", "metrics listening"]) {
        if (line.includes(`"msg":"${msg}"`))
          seen[msg] = JSON.parse(line) as Record<string, unknown>;
      }
      if (Object.keys(seen).length === 3) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`node exited: ${stderr}`)));
  });
  return {
    child,
    url: `${seen["API listening"]!.address as string}/api/v1`,
    peerId: seen["peer-to-peer listening"]!.peerId as string,
    addrs: seen["peer-to-peer listening"]!.addrs as string[],
    metricsPort: seen["metrics listening"]!.port as number,
    exited,
  };
}

async function kill(node: NodeProcess): Promise<void> {
  node.child.kill("SIGKILL");
  await node.exited;
}

const bootstrapArg = (node: NodeProcess) => ["--bootstrap-node", node.addrs[0]!];

async function upload(node: NodeProcess, bytes: Uint8Array): Promise<string> {
  const response = await fetch(`${node.url}/data`, { method: "POST", body: bytes });
  expect(response.status).to.equal(201);
  return ((await response.json()) as { id: string }).id;
}

async function metric(node: NodeProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && !line.startsWith("#")) total += Number(line.split(" ").at(-1));
  }
  return total;
}

/** Starts a background fetch and waits for its outcome. */
async function fetchInBackground(
  node: NodeProcess,
  id: string,
  slot?: number,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${node.url}/data/${id}/network`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(slot === undefined ? {} : { slot }),
  });
  expect(response.status, await response.clone().text()).to.equal(202);
  const query = slot === undefined ? "" : `?slot=${slot}`;
  for (;;) {
    const job = (await (await fetch(`${node.url}/data/${id}/network${query}`)).json()) as Record<
      string,
      unknown
    >;
    if (job.state !== "running") return job;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until the node has announced what it stores (its periodic sync runs every 2 s). */
const settle = () => new Promise((r) => setTimeout(r, 3_000));

describe("peer-to-peer between node processes on 127.0.0.1", function () {
  this.timeout(180_000);

  after(async function () {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("reports its peer id and addresses, connects on request and refuses bad input", async function () {
    const a = await startNode();
    const b = await startNode();
    const peer = (await (await fetch(`${a.url}/peer`)).json()) as { id: string; addrs: string[] };
    expect(peer.id).to.equal(a.peerId);
    expect(peer.addrs.every((addr) => addr.endsWith(`/p2p/${a.peerId}`))).to.equal(true);
    const connect = (body: unknown, id = a.peerId) =>
      fetch(`${b.url}/connect/${id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await connect({ addrs: peer.addrs })).status).to.equal(200);
    const badPeer = await connect({ addrs: peer.addrs }, "not-a-peer-id");
    expect(badPeer.status).to.equal(400);
    expect(((await badPeer.json()) as { error: { code: string } }).error.code).to.equal(
      "ERR_INVALID_PEER_ID",
    );
    const badAddr = await connect({ addrs: ["127.0.0.1:1"] });
    expect(badAddr.status).to.equal(400);
    expect(((await badAddr.json()) as { error: { code: string } }).error.code).to.equal(
      "ERR_INVALID_MULTIADDR",
    );
    await kill(a);
    await kill(b);
  });

  it("refuses invalid network options with a clear error", async function () {
    const child = spawn(
      process.execPath,
      [bin, "start", "--bootstrap-node", "/ip4/1.2.3.4/tcp/1"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).to.equal(2);
    expect(stderr).to.match(/--bootstrap-node: bootstrap node .* must end with \/p2p\/<peer id>/);
  });

  it("downloads through discovery alone, survives a provider killed mid-transfer and a malicious one", async function () {
    const boot = await startNode();
    const uploader = await startNode(bootstrapArg(boot));
    // 32 MiB: more than the downloader's 16 MiB look-ahead, so the kill lands mid-transfer.
    const data = new Uint8Array(randomBytes(32 * 2 ** 20 + 12345));
    const id = await upload(uploader, data);
    await settle();

    // A second provider fetches the dataset from the network in the background.
    const mirror = await startNode(bootstrapArg(boot));
    const job = await fetchInBackground(mirror, id);
    expect(job.state, JSON.stringify(job.error)).to.equal("done");
    await settle();

    const manifest = (await (await fetch(`${uploader.url}/data/${id}/manifest`)).json()) as {
      treeCid: string;
    };
    const rogueChild = spawn(
      tsx,
      [
        path.join(import.meta.dirname, "fixtures", "rogue-provider.ts"),
        boot.addrs[0]!,
        id,
        manifest.treeCid,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    children.push(rogueChild);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: rogueChild.stdout! }).once("line", () => resolve());
      rogueChild.once("exit", (c) => reject(new Error(`rogue provider exited with ${c}`)));
    });

    const downloader = await startNode(bootstrapArg(boot));
    const response = await fetch(`${downloader.url}/data/${id}/network/stream`);
    expect(response.status).to.equal(200);
    const reader = response.body!.getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    let killed = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      if (!killed && received > 2 * 2 ** 20) {
        killed = true;
        await kill(uploader);
      }
    }
    expect(killed).to.equal(true);
    expect(Buffer.concat(chunks).equals(Buffer.from(data))).to.equal(true);
    // Stored as it went: the node now serves it locally under the same id.
    const local = await fetch(`${downloader.url}/data/${id}`);
    expect(local.status).to.equal(200);
    expect(Buffer.from(await local.arrayBuffer()).equals(Buffer.from(data))).to.equal(true);
    expect(await metric(downloader, "holdfast_network_bad_blocks_total")).to.be.greaterThan(0);
    expect(await metric(downloader, "holdfast_network_discovery_queries_total")).to.be.greaterThan(
      0,
    );
    expect(
      await metric(downloader, 'holdfast_network_blocks_total{direction="received"}'),
    ).to.be.at.least(512);
    expect(
      await metric(mirror, 'holdfast_network_blocks_total{direction="sent"}'),
    ).to.be.greaterThan(0);
    rogueChild.stdin!.end();
    for (const node of [boot, mirror, downloader]) await kill(node);
  });

  it("repairs a slot whose only holder is gone, from the other slots", async function () {
    const boot = await startNode();
    const owner = await startNode(bootstrapArg(boot));
    const data = new Uint8Array(randomBytes(16 * 64 * 1024 - 1000)); // 16 blocks
    const plainId = await upload(owner, data);
    const protect = await fetch(`${owner.url}/data/${plainId}/protect`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ecK: 2, ecM: 1 }),
    });
    expect(protect.status, await protect.clone().text()).to.equal(201);
    const { verifiableId } = (await protect.json()) as { verifiableId: string };
    await settle();

    // Three hosts, each fetching exactly its slot (8 blocks) from the owner.
    const hosts = await Promise.all([0, 1, 2].map(() => startNode(bootstrapArg(boot))));
    for (const [slot, host] of hosts.entries()) {
      const job = await fetchInBackground(host, verifiableId, slot);
      expect(job.state, JSON.stringify(job.error)).to.equal("done");
      expect(job.rebuilt).to.equal(0);
    }
    await settle();

    // The owner and the only holder of slot 1 vanish.
    await kill(owner);
    await kill(hosts[1]!);

    const repairer = await startNode([...bootstrapArg(boot), "--network-timeout", "3000"]);
    const repaired = await fetchInBackground(repairer, verifiableId, 1);
    expect(repaired.state, JSON.stringify(repaired.error)).to.equal("done");
    expect(repaired.rebuilt).to.equal(8);
    await settle();

    // The repaired slot is served: with slot 0's holder gone too, a new host gets slot 1 from the
    // repairer alone, every block checked against its id, nothing rebuilt.
    await kill(hosts[0]!);
    const next = await startNode([...bootstrapArg(boot), "--network-timeout", "3000"]);
    const fetched = await fetchInBackground(next, verifiableId, 1);
    expect(fetched.state, JSON.stringify(fetched.error)).to.equal("done");
    expect(fetched.rebuilt).to.equal(0);
    for (const node of [boot, hosts[2]!, repairer, next]) await kill(node);
  });
});
