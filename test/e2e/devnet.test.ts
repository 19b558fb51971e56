import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Devnet } from "../../scripts/devnet/devnet.js";
import { repoRoot } from "../../scripts/lib/paths.js";

const bin = path.join(repoRoot, "node", "bin", "holdfast.js");

/** Runs the real `holdfast` bin as a user would. */
function holdfast(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("devnet: a chain and node processes", function () {
  this.timeout(300_000);

  let devnet: Devnet;
  let work: string;

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "holdfast-devnet-test-"));
    devnet = await Devnet.start({ hosts: 1, validator: false });
  });

  after(async function () {
    const pids = devnet.nodes.map((n) => n.pid).filter((p) => p !== undefined);
    await devnet?.stop();
    expect(await waitUntilGone([...pids, devnet.chain.process.pid], 10_000)).to.deep.equal([]);
    await rm(work, { recursive: true, force: true });
  });

  it("deploys the marketplace with the dev verifier and funds the nodes' accounts", async function () {
    const { chain, deployment } = devnet;
    for (const address of [deployment.token, deployment.verifier, deployment.marketplace]) {
      expect(await chain.provider.getCode(address)).to.not.equal("0x");
    }
    const account = await devnet.client.api.account();
    expect(account.address).to.equal(devnet.client.account!.address);
    expect(account.token).to.equal(deployment.token);
    expect(account.tokenBalance).to.equal((10n ** 24n).toString());
    expect(BigInt(account.ethBalance) > 0n).to.equal(true);
  });

  it("moves chain time to the next period", async function () {
    const period = devnet.period;
    const at = await devnet.chain.toNextPeriod(period);
    expect(at % period).to.equal(0n);
    expect(await devnet.chain.now()).to.be.greaterThanOrEqual(at);
  });

  it("holdfast upload, download and balances work against a node process", async function () {
    const file = path.join(work, "sample.bin");
    const bytes = randomBytes(100_000);
    await writeFile(file, bytes);
    const api = ["--api", devnet.client.api.url];
    const upload = holdfast(["upload", file, ...api]);
    expect(upload.stderr).to.equal("");
    expect(upload.code).to.equal(0);
    const cid = upload.stdout.trim();
    expect(cid).to.match(/^b[a-z2-7]+$/);

    // A host downloads it through the network (it does not hold it) and gets the same bytes.
    const out = path.join(work, "downloaded.bin");
    const download = holdfast(["download", cid, out, "--api", devnet.hosts[0]!.api.url]);
    expect(download.stderr).to.equal("");
    expect(download.code).to.equal(0);
    expect((await readFile(out)).equals(bytes)).to.equal(true);

    const balances = holdfast(["balances", ...api, "--json"]);
    expect(balances.code).to.equal(0);
    const parsed = JSON.parse(balances.stdout) as { address: string; tokenBalance: string };
    expect(parsed.address).to.equal(devnet.client.account!.address);
    expect(parsed.tokenBalance).to.equal((10n ** 24n).toString());
    const human = holdfast(["balances", ...api]);
    expect(human.stdout).to.match(/tokenBalance\s+1000000000000000000000000/);
  });

  it("holdfast availability, request, purchases and slots work against nodes with roles", async function () {
    const host = ["--api", devnet.hosts[0]!.api.url, "--json"];
    const created = holdfast([
      "availability",
      "create",
      "--total-size",
      "10000000",
      "--duration",
      "3600",
      "--min-price-per-byte-per-second",
      "1",
      "--total-collateral",
      "1000000000000",
      ...host,
    ]);
    expect(created.stderr).to.equal("");
    expect(created.code).to.equal(0);
    const availability = JSON.parse(created.stdout) as { id: string; totalSize: string };
    expect(availability.totalSize).to.equal("10000000");
    const listed = JSON.parse(holdfast(["availability", "list", ...host]).stdout) as {
      id: string;
    }[];
    expect(listed.map((a) => a.id)).to.include(availability.id);
    const updated = holdfast([
      "availability",
      "update",
      availability.id,
      "--enabled",
      "false",
      ...host,
    ]);
    expect(updated.code).to.equal(0);
    expect((JSON.parse(updated.stdout) as { enabled: boolean }).enabled).to.equal(false);
    const slots = holdfast(["slots", ...host]);
    expect(slots.code).to.equal(0);
    expect(JSON.parse(slots.stdout)).to.be.an("array");

    const client = ["--api", devnet.client.api.url, "--json"];
    const file = path.join(work, "to-store.bin");
    await writeFile(file, randomBytes(70_000));
    const cid = holdfast(["upload", file, "--api", devnet.client.api.url]).stdout.trim();
    const requested = holdfast([
      "request",
      cid,
      "--duration",
      "600",
      "--price-per-byte-per-second",
      "1",
      "--collateral-per-byte",
      "1",
      "--proof-probability",
      "1",
      "--expiry",
      "300",
      "--nodes",
      "2",
      "--tolerance",
      "1",
      ...client,
    ]);
    expect(requested.stderr).to.equal("");
    expect(requested.code).to.equal(0);
    const purchase = JSON.parse(requested.stdout) as { id: string };
    expect(purchase.id).to.match(/^0x[0-9a-f]{64}$/);
    const purchases = JSON.parse(holdfast(["purchases", ...client]).stdout) as { id: string }[];
    expect(purchases.map((p) => p.id)).to.include(purchase.id);
    const one = holdfast(["purchases", purchase.id, "--api", devnet.client.api.url]);
    expect(one.code).to.equal(0);
    expect(one.stdout).to.include(purchase.id);
  });

  it("user commands print the node's error, or that it is unreachable, and exit 1", async function () {
    const missing = "bagaaieraakv753jbjh4jf65lytispqxw7iyw2dpqmq3mcgiyzledc7pkhdca";
    const out = path.join(work, "never.bin");
    const notFound = holdfast([
      "download",
      missing,
      out,
      "--local",
      "--api",
      devnet.client.api.url,
    ]);
    expect(notFound.code).to.equal(1);
    expect(notFound.stderr).to.include("HTTP 404 ERR_NOT_FOUND");
    expect(await readFile(out).catch(() => undefined)).to.equal(undefined);

    const badCid = holdfast(["download", "not-a-cid", out, "--api", devnet.client.api.url]);
    expect(badCid.code).to.equal(1);
    expect(badCid.stderr).to.include("HTTP 400 ERR_INVALID_CID");

    const unreachable = holdfast(["balances", "--api", "http://127.0.0.1:1"]);
    expect(unreachable.code).to.equal(1);
    expect(unreachable.stderr).to.include("cannot reach the node at http://127.0.0.1:1");

    const usage = holdfast(["request", missing, "--api", devnet.client.api.url, "--nodes", "3"]);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include("--duration is required");
  });

  it("a node killed and started again keeps its data, ports and account", async function () {
    const host = devnet.hosts[0]!;
    const { id } = await host.api.upload(new TextEncoder().encode("kept across a crash"));
    const before = host.pid!;
    await host.kill();
    expect(alive(before)).to.equal(false);
    await host.start();
    expect(host.pid).to.not.equal(before);
    const stream = await host.api.download(id);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).to.equal("kept across a crash");
    expect((await host.api.account()).address).to.equal(host.account!.address);
  });
});

describe("devnet: no process outlives the program", function () {
  this.timeout(300_000);

  const fixture = path.join(import.meta.dirname, "fixtures", "devnet-program.ts");
  const tsx = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");

  /** Starts the fixture program; resolves with it and the pids of its children once they run. */
  async function startProgram(mode: "wait" | "crash") {
    const child = spawn(process.execPath, [tsx, fixture, mode], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = stdout.split("\n").find((l) => l.startsWith("{"));
        if (line && stdout.includes("\n")) resolve((JSON.parse(line) as { pids: number[] }).pids);
      });
      void exited.then((code) => reject(new Error(`the program exited (${code}): ${stderr}`)));
    });
    return { child, pids, exited, stderr: () => stderr };
  }

  it("Ctrl-C (SIGINT) stops the chain and every node", async function () {
    const { child, pids, exited } = await startProgram("wait");
    expect(pids.length).to.equal(3); // chain, client, host
    expect(pids.every(alive)).to.equal(true);
    child.kill("SIGINT");
    expect(await exited).to.equal(130);
    expect(await waitUntilGone(pids, 5_000)).to.deep.equal([]);
  });

  it("an uncaught exception kills the chain and every node", async function () {
    const { pids, exited, stderr } = await startProgram("crash");
    expect(await exited).to.equal(1);
    expect(stderr()).to.include("the program failed on purpose");
    expect(await waitUntilGone(pids, 5_000)).to.deep.equal([]);
  });
});
