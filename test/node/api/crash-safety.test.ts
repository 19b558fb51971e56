/**
 * Crash safety with a real node process: killed with SIGKILL in the middle of an upload, and at
 * each step of an upload's commit, then restarted on the same data folder. Runs the built node
 * (`npm test` builds first).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { request } from "node:http";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { type Running, startNode, stopNode } from "./process.js";

async function upload(url: string, bytes: Uint8Array): Promise<string> {
  const response = await fetch(`${url}/data`, { method: "POST", body: bytes });
  expect(response.status).to.equal(201);
  return ((await response.json()) as { id: string }).id;
}

async function listIds(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/data`)).json()) as { datasets: { id: string }[] };
  return body.datasets.map((d) => d.id).sort();
}

async function download(url: string, id: string): Promise<Buffer> {
  const response = await fetch(`${url}/data/${id}`);
  expect(response.status).to.equal(200);
  return Buffer.from(await response.arrayBuffer());
}

describe("crash safety of a real node process", function () {
  this.timeout(120_000);
  let dataDir: string;
  let node: Running | undefined;
  const first = new Uint8Array(randomBytes(2 * 2 ** 20 + 99));
  let firstId: string;

  before(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-crash-"));
    node = await startNode(dataDir);
    firstId = await upload(node.url, first);
  });
  afterEach(async function () {
    if (node) await stopNode(node);
    node = undefined;
  });
  after(async function () {
    await rm(dataDir, { recursive: true, force: true });
  });

  /** After a restart: exactly `ids` are listed, download intact, and no stray files remain. */
  async function expectOnly(ids: string[], contents: Map<string, Uint8Array>): Promise<void> {
    node = await startNode(dataDir);
    expect(await listIds(node.url)).to.deep.equal([...ids].sort());
    for (const id of ids)
      expect((await download(node.url, id)).equals(Buffer.from(contents.get(id)!))).to.equal(true);
    const packFiles = await readdir(path.join(dataDir, "packs"));
    const space = (await (await fetch(`${node.url}/space`)).json()) as { storedBlocks: number };
    const expectedBlocks = [...contents.entries()]
      .filter(([id]) => ids.includes(id))
      .reduce((n, [, b]) => n + Math.max(1, Math.ceil(b.length / 65536)), 0);
    expect(space.storedBlocks).to.equal(expectedBlocks);
    expect(packFiles).to.have.length(2 * ids.length); // blocks + digests per dataset, nothing else
  }

  it("a node killed in the middle of an upload restarts with only the completed datasets", async function () {
    const running = node!;
    // Stream 24 MiB slowly; kill the node once 6 MiB have gone out.
    const chunk = new Uint8Array(randomBytes(256 * 1024));
    await new Promise<void>((resolve) => {
      const req = request(`${running.url}/data`, {
        method: "POST",
        headers: { "content-length": 96 * chunk.length },
      });
      req.on("error", () => resolve());
      let sent = 0;
      const pump = () => {
        if (sent === 24) {
          running.child.kill("SIGKILL");
          return;
        }
        sent++;
        req.write(chunk, () => setTimeout(pump, 5));
      };
      pump();
    });
    expect(await running.exited).to.equal("SIGKILL");
    node = undefined;
    await expectOnly([firstId], new Map([[firstId, first]]));
  });

  it("a crash after the blocks are durable but before the commit leaves nothing visible", async function () {
    node = await startNode(dataDir, { HOLDFAST_CRASH_AT: "upload:before-commit" });
    const bytes = new Uint8Array(randomBytes(300_000));
    await fetch(`${node.url}/data`, { method: "POST", body: bytes }).then(
      () => expect.fail("the node answered although it should have died"),
      () => undefined,
    );
    expect(await node.exited).to.equal("SIGKILL");
    node = undefined;
    await expectOnly([firstId], new Map([[firstId, first]]));
  });

  it("a crash right after the commit keeps the dataset", async function () {
    node = await startNode(dataDir, { HOLDFAST_CRASH_AT: "upload:after-commit" });
    const bytes = new Uint8Array(randomBytes(300_000));
    await fetch(`${node.url}/data`, { method: "POST", body: bytes }).then(
      () => expect.fail("the node answered although it should have died"),
      () => undefined,
    );
    expect(await node.exited).to.equal("SIGKILL");
    node = undefined;
    // The id is what the node would have answered: the same bytes upload to the same id.
    node = await startNode(dataDir);
    const ids = await listIds(node.url);
    expect(ids).to.have.length(2);
    const secondId = ids.find((id) => id !== firstId)!;
    expect((await download(node.url, secondId)).equals(Buffer.from(bytes))).to.equal(true);
    expect(await upload(node.url, bytes)).to.equal(secondId);
    await stopNode(node);
    node = undefined;
    await expectOnly(
      [firstId, secondId],
      new Map([
        [firstId, first],
        [secondId, bytes],
      ]),
    );
  });
});
