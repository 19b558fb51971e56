import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import path from "node:path";
import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { startTestNode } from "./helpers.js";

type TestNode = Awaited<ReturnType<typeof startTestNode>>;

async function upload(url: string, body: Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/data`, {
    method: "POST",
    body,
    headers: { "content-type": "application/octet-stream", ...headers },
  });
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown> & { error?: { code: string } },
  };
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

async function expectNothingStored(t: TestNode): Promise<void> {
  expect(await readdir(path.join(t.dataDir, "packs"))).to.deep.equal([]);
  const space = (await (await fetch(`${t.url}/space`)).json()) as {
    usedBytes: number;
    reservedBytes: number;
  };
  expect(space).to.include({ usedBytes: 0, reservedBytes: 0 });
  expect(
    ((await (await fetch(`${t.url}/data`)).json()) as { datasets: unknown[] }).datasets,
  ).to.deep.equal([]);
}

/** Sends `sent` bytes of a body declared as `declared` bytes, then cuts the connection. */
function abortedUpload(url: string, declared: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${url}/data`, {
      method: "POST",
      headers: { "content-length": declared, "content-type": "application/octet-stream" },
    });
    req.on("error", () => resolve());
    req.write(new Uint8Array(sent), () =>
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100),
    );
  });
}

describe("REST API over HTTP", function () {
  this.timeout(120_000);
  let t: TestNode;
  beforeEach(async function () {
    t = await startTestNode({ storageQuota: 10 * BLOCK_SIZE, maxUploadSize: 8 * BLOCK_SIZE });
  });
  afterEach(async function () {
    await t.stop();
  });

  it("uploads, lists, downloads with headers, and deletes", async function () {
    const bytes = new Uint8Array(randomBytes(BLOCK_SIZE + 7));
    const { status, json } = await upload(t.url, bytes, {
      "content-type": "text/plain; charset=utf-8",
      "content-disposition": 'attachment; filename="notes é.txt"',
    });
    expect(status).to.equal(201);
    const id = json.id as string;
    const list = (await (await fetch(`${t.url}/data`)).json()) as {
      datasets: { id: string; filename: string; kind: string }[];
    };
    expect(list.datasets).to.have.length(1);
    expect(list.datasets[0]).to.include({ id, filename: "notes é.txt", kind: "basic" });
    const download = await fetch(`${t.url}/data/${id}`);
    expect(download.status).to.equal(200);
    expect(download.headers.get("content-type")).to.equal("text/plain");
    expect(download.headers.get("content-length")).to.equal(String(bytes.length));
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(bytes))).to.equal(true);
    const manifest = (await (await fetch(`${t.url}/data/${id}/manifest`)).json()) as {
      datasetSize: number;
    };
    expect(manifest.datasetSize).to.equal(bytes.length);
    expect((await fetch(`${t.url}/data/${id}`, { method: "DELETE" })).status).to.equal(204);
    await expectNothingStored(t);
  });

  it("answers bad ids with 400 and unknown ids with 404, on every route", async function () {
    const { json } = await upload(t.url, new Uint8Array(10));
    const id = json.id as string;
    await fetch(`${t.url}/data/${id}`, { method: "DELETE" });
    for (const [method, suffix] of [
      ["GET", ""],
      ["GET", "/manifest"],
      ["DELETE", ""],
    ] as const) {
      const bad = await fetch(`${t.url}/data/not-a-cid${suffix}`, { method });
      expect(bad.status, `${method} bad`).to.equal(400);
      expect(await errorCode(bad)).to.equal("ERR_INVALID_CID");
      const unknown = await fetch(`${t.url}/data/${id}${suffix}`, { method });
      expect(unknown.status, `${method} unknown`).to.equal(404);
      expect(await errorCode(unknown)).to.equal("ERR_NOT_FOUND");
    }
    const route = await fetch(`${t.url}/nothing-here`);
    expect(route.status).to.equal(404);
    expect(await errorCode(route)).to.equal("ERR_NOT_FOUND");
  });

  it("refuses an oversize body by its declared length (413) and stores nothing", async function () {
    const { status, json } = await upload(t.url, new Uint8Array(8 * BLOCK_SIZE + 1));
    expect(status).to.equal(413);
    expect(json.error!.code).to.equal("ERR_UPLOAD_TOO_LARGE");
    await expectNothingStored(t);
  });

  it("refuses an oversize streamed body without a length (413) and stores nothing", async function () {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 9; i++) controller.enqueue(new Uint8Array(BLOCK_SIZE));
        controller.close();
      },
    });
    const response = await fetch(`${t.url}/data`, {
      method: "POST",
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).to.equal(413);
    expect(await errorCode(response)).to.equal("ERR_UPLOAD_TOO_LARGE");
    await expectNothingStored(t);
  });

  it("refuses an upload beyond the quota (507) and stores nothing of it", async function () {
    const first = await upload(t.url, new Uint8Array(randomBytes(6 * BLOCK_SIZE)));
    expect(first.status).to.equal(201);
    const { status, json } = await upload(t.url, new Uint8Array(randomBytes(5 * BLOCK_SIZE)));
    expect(status).to.equal(507);
    expect(json.error!.code).to.equal("ERR_QUOTA_EXCEEDED");
    const list = (await (await fetch(`${t.url}/data`)).json()) as { datasets: unknown[] };
    expect(list.datasets).to.have.length(1);
    expect(await readdir(path.join(t.dataDir, "packs"))).to.have.length(2);
  });

  it("leaves nothing behind when the client cuts an upload short", async function () {
    await abortedUpload(t.url, 6 * BLOCK_SIZE, 3 * BLOCK_SIZE);
    for (let i = 0; i < 50 && (await readdir(path.join(t.dataDir, "packs"))).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await expectNothingStored(t);
    const aborted = await (await fetch(`http://127.0.0.1:${t.node.metricsPort}/metrics`)).text();
    expect(aborted).to.match(/holdfast_uploads_total\{outcome="ERR_UPLOAD_ABORTED"\} 1/);
  });

  it("rejects a bad filename (400)", async function () {
    const { status, json } = await upload(t.url, new Uint8Array(3), {
      "content-disposition": 'attachment; filename="../etc/passwd"',
    });
    expect(status).to.equal(400);
    expect(json.error!.code).to.equal("ERR_INVALID_ARGUMENT");
    await expectNothingStored(t);
  });

  it("validates protect requests (400, 404) and protects a dataset (201)", async function () {
    const bytes = new Uint8Array(randomBytes(2 * BLOCK_SIZE + 5));
    const id = (await upload(t.url, bytes)).json.id as string;
    const protect = (target: string, body: unknown) =>
      fetch(`${t.url}/data/${target}/protect`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
    for (const body of [
      {},
      { ecK: 2 },
      { ecK: "2", ecM: 1, extra: 1 },
      { ecK: 0, ecM: 1 },
      { ecK: 200, ecM: 100 },
      { ecK: 4, ecM: 1 },
    ]) {
      const response = await protect(id, body);
      expect(response.status, JSON.stringify(body)).to.equal(400);
      expect(["ERR_INVALID_ARGUMENT", "ERR_INVALID_EC_PARAMS"]).to.include(
        await errorCode(response),
      );
    }
    expect((await protect("bogus", { ecK: 2, ecM: 1 })).status).to.equal(400);
    const used = ((await (await fetch(`${t.url}/space`)).json()) as { usedBytes: number })
      .usedBytes;
    await fetch(`${t.url}/data/${id}`, { method: "DELETE" });
    expect((await protect(id, { ecK: 2, ecM: 1 })).status).to.equal(404);
    const again = (await upload(t.url, bytes)).json.id as string;
    expect(
      ((await (await fetch(`${t.url}/space`)).json()) as { usedBytes: number }).usedBytes,
    ).to.equal(used);
    const response = await protect(again, { ecK: 2, ecM: 1 });
    expect(response.status).to.equal(201);
    const result = (await response.json()) as {
      verifiableId: string;
      manifest: { verifiable: { slotRoots: string[] } };
    };
    expect(result.manifest.verifiable.slotRoots).to.have.length(3);
    const download = await fetch(`${t.url}/data/${result.verifiableId}`);
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(bytes))).to.equal(true);
  });

  it("serves an OpenAPI document generated from the route schemas", async function () {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).to.match(/^3\./);
    expect(Object.keys(doc.paths).sort()).to.deep.equal([
      "/api/v1/connect/{peerId}",
      "/api/v1/data",
      "/api/v1/data/{id}",
      "/api/v1/data/{id}/manifest",
      "/api/v1/data/{id}/network",
      "/api/v1/data/{id}/network/stream",
      "/api/v1/data/{id}/protect",
      "/api/v1/debug/info",
      "/api/v1/peer",
      "/api/v1/space",
    ]);
    expect(Object.keys(doc.paths["/api/v1/data"]!).sort()).to.deep.equal(["get", "post"]);
    expect(Object.keys(doc.paths["/api/v1/data/{id}"]!).sort()).to.deep.equal(["delete", "get"]);
  });

  it("reports space, debug info and Prometheus metrics", async function () {
    await upload(t.url, new Uint8Array(randomBytes(100)));
    const space = (await (await fetch(`${t.url}/space`)).json()) as Record<string, number>;
    expect(space).to.include({ quotaBytes: 10 * BLOCK_SIZE, storedBlocks: 1, reservedBytes: 0 });
    const info = (await (await fetch(`${t.url}/debug/info`)).json()) as Record<string, unknown>;
    expect(info).to.include({ datasets: 1, dataDir: t.dataDir });
    expect(info.apiAddress).to.equal(t.node.apiUrl);
    const metrics = await (await fetch(`http://127.0.0.1:${t.node.metricsPort}/metrics`)).text();
    expect(metrics).to.match(/holdfast_uploads_total\{outcome="ok"\} 1/);
    expect(metrics).to.match(/holdfast_stored_blocks 1/);
    expect(metrics).to.match(
      /holdfast_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/data",status="201"\} 1/,
    );
  });
});
