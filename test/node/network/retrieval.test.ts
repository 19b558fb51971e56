/**
 * Retrieval through real nodes in this process (the API and the data layer included), where
 * protected datasets can be made: the built node has no fast Poseidon2 yet, these use the
 * reference implementation.
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { startTestNode } from "../api/helpers.js";
import { cidOf } from "./helpers.js";

type TestNode = Awaited<ReturnType<typeof startTestNode>>;

describe("retrieval between in-process nodes", function () {
  this.timeout(120_000);
  const nodes: TestNode[] = [];

  after(async function () {
    await Promise.allSettled(nodes.map((n) => n.stop()));
  });

  async function start(bootstrap?: TestNode): Promise<TestNode> {
    const bootstrapNodes = bootstrap ? [bootstrap.node.p2p.network.multiaddrs[0]!.toString()] : [];
    const node = await startTestNode({ bootstrapNodes, networkTimeout: 2000 });
    nodes.push(node);
    return node;
  }

  it("downloads a verifiable dataset, rebuilding blocks no one has, and stores it under the same id", async function () {
    const owner = await start();
    const data = new Uint8Array(randomBytes(12 * 64 * 1024 - 777));
    const uploaded = await fetch(`${owner.url}/data`, {
      method: "POST",
      body: data,
      headers: {
        "content-type": "text/plain",
        "content-disposition": 'attachment; filename="a.txt"',
      },
    });
    const plainId = ((await uploaded.json()) as { id: string }).id;
    const protect = await fetch(`${owner.url}/data/${plainId}/protect`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ecK: 3, ecM: 2 }),
    });
    expect(protect.status).to.equal(201);
    const { verifiableId } = (await protect.json()) as { verifiableId: string };

    // 12 blocks, K = 3, M = 2: five slots of 4 blocks, slots 0-2 data, 3-4 parity. Four hosts hold
    // slots 0, 1, 3 and 4; then the owner leaves, so no one has the data blocks of slot 2 and the
    // download must rebuild them from three of the other slots.
    const hosts = [await start(owner), await start(owner), await start(owner), await start(owner)];
    await owner.node.p2p.sync();
    const slots = [0, 1, 3, 4];
    const used = async (n: TestNode) =>
      ((await (await fetch(`${n.url}/space`)).json()) as { usedBytes: number }).usedBytes;
    for (const [i, host] of hosts.entries()) {
      const before = await used(host);
      const job = await host.node.p2p.retrieval.fetchSlot(verifiableId, slots[i]!);
      expect(job.rebuilt).to.equal(0);
      // A stored slot counts against the quota: 4 blocks and the tree's 20 leaf digests.
      expect((await used(host)) - before).to.equal(4 * 64 * 1024 + 20 * 32);
      await host.node.p2p.sync();
    }
    await owner.stop();

    const fetcher = await start(hosts[0]);
    const response = await fetch(`${fetcher.url}/data/${verifiableId}/network/stream`);
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-type")).to.equal("text/plain");
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.equals(Buffer.from(data))).to.equal(true);
    const list = (await (await fetch(`${fetcher.url}/data`)).json()) as {
      datasets: { id: string }[];
    };
    expect(list.datasets.map((d) => d.id)).to.include(verifiableId);
    const local = await fetch(`${fetcher.url}/data/${verifiableId}`);
    expect(Buffer.from(await local.arrayBuffer()).equals(Buffer.from(data))).to.equal(true);
  });

  it("a host that deletes one of its slots gives the bytes back and still serves the other", async function () {
    const owner = await start();
    const data = new Uint8Array(randomBytes(12 * 64 * 1024));
    const uploaded = await fetch(`${owner.url}/data`, { method: "POST", body: data });
    const plainId = ((await uploaded.json()) as { id: string }).id;
    const protect = await fetch(`${owner.url}/data/${plainId}/protect`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ecK: 2, ecM: 1 }),
    });
    const { verifiableId } = (await protect.json()) as { verifiableId: string };
    // 12 blocks, K = 2, M = 1: three slots of 6 blocks. The host holds slot 1 and slot 2 (parity).
    const host = await start(owner);
    await owner.node.p2p.sync();
    for (const slot of [1, 2]) await host.node.p2p.retrieval.fetchSlot(verifiableId, slot);
    await host.node.p2p.sync();
    const used = async () =>
      ((await (await fetch(`${host.url}/space`)).json()) as { usedBytes: number }).usedBytes;
    const before = await used();

    const freed = await host.node.p2p.deleteSlot(verifiableId, 1);
    expect(freed).to.be.at.least(6 * 64 * 1024);
    expect(await used()).to.equal(before - freed);
    expect(host.node.p2p.storedSlot(verifiableId, 1)).to.equal(undefined);
    expect(host.node.p2p.storedSlot(verifiableId, 2)).to.not.equal(undefined);
    expect(await host.node.p2p.deleteSlot(verifiableId, 1)).to.equal(0);

    // With the owner gone, a new node gets slot 2 from the host alone: its blocks, and the manifest
    // and tree leaves the deleted slot shared with it, are still served.
    await owner.stop();
    const next = await start(host);
    const fetched = await next.node.p2p.retrieval.fetchSlot(verifiableId, 2);
    expect(fetched.rebuilt).to.equal(0);
  });

  it("answers unknown ids with 404 and bad ids with 400", async function () {
    const node = await start();
    const unknown = cidOf(Uint8Array.of(1, 2, 3), 0x0200).toString();
    const missing = await fetch(`${node.url}/data/${unknown}/network/stream`);
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).to.equal(
      "ERR_BLOCKS_UNAVAILABLE",
    );
    const bad = await fetch(`${node.url}/data/not-a-cid/network/stream`);
    expect(bad.status).to.equal(400);
    const badSlot = await fetch(`${node.url}/data/${unknown}/network`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ slot: -1 }),
    });
    expect(badSlot.status).to.equal(400);
    const noJob = await fetch(`${node.url}/data/${unknown}/network`);
    expect(noJob.status).to.equal(404);
  });
});
