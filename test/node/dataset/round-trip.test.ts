import { createHash, randomBytes } from "node:crypto";
import { readdir, truncate } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { sha256TreeRoot, treeCidFromRoot } from "../../../node/src/blocks/sha256-tree.js";
import { isHoldfastError } from "../../../node/src/errors.js";
import { type TestStore, chunksOf, collect, openTestStore } from "./helpers.js";

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(isHoldfastError(error) ? error.code : error).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe("data service: upload and download", function () {
  let store: TestStore;
  beforeEach(async function () {
    store = await openTestStore();
  });
  afterEach(async function () {
    await store.cleanup();
  });

  const sizes: [string, number][] = [
    ["an empty file", 0],
    ["1 byte", 1],
    ["one block minus one byte", BLOCK_SIZE - 1],
    ["exactly one block", BLOCK_SIZE],
    ["one block plus one byte", BLOCK_SIZE + 1],
    ["exactly three blocks", 3 * BLOCK_SIZE],
    ["5 MiB and a bit", 5 * 2 ** 20 + 12345],
  ];
  for (const [what, size] of sizes) {
    it(`round-trips ${what}`, async function () {
      const bytes = new Uint8Array(randomBytes(size));
      const { cid, manifest } = await store.service.upload(chunksOf(bytes, 7777), {
        filename: "f.bin",
      });
      expect(manifest.datasetSize).to.equal(size);
      expect(manifest.blocksCount).to.equal(Math.max(1, Math.ceil(size / BLOCK_SIZE)));
      const { stream } = await store.service.download(cid);
      expect((await collect(stream)).equals(Buffer.from(bytes))).to.equal(true);
    });
  }

  it("gives the same bytes the same tree id, stores them once, and survives a restart", async function () {
    const bytes = new Uint8Array(randomBytes(3 * BLOCK_SIZE));
    const a = await store.service.upload(chunksOf(bytes), { filename: "a" });
    const b = await store.service.upload(chunksOf(bytes), { filename: "b" });
    expect(a.cid).to.not.equal(b.cid);
    expect(a.manifest.treeCid).to.equal(b.manifest.treeCid);
    expect(store.service.space().storedBlocks).to.equal(3);
    expect(await readdir(path.join(store.dir, "packs"))).to.have.length(2); // one pack + digests
    await store.reopen();
    expect((await store.service.list()).map((d) => d.manifestCid).sort()).to.deep.equal(
      [a.cid, b.cid].sort(),
    );
    await store.service.delete(a.cid);
    expect(
      (await collect((await store.service.download(b.cid)).stream)).equals(Buffer.from(bytes)),
    ).to.equal(true);
    await store.service.delete(b.cid);
    expect(await readdir(path.join(store.dir, "packs"))).to.deep.equal([]);
    expect(store.service.space().usedBytes).to.equal(0);
  });

  it("detects a corrupted block of a plain dataset instead of returning it", async function () {
    const { cid } = await store.service.upload(
      chunksOf(new Uint8Array(randomBytes(2 * BLOCK_SIZE))),
    );
    const [pack] = (await readdir(path.join(store.dir, "packs"))).filter((f) =>
      f.endsWith(".blocks"),
    );
    const { open } = await import("node:fs/promises");
    const handle = await open(path.join(store.dir, "packs", pack!), "r+");
    await handle.write(Uint8Array.of(0xff ^ 1), 0, 1, BLOCK_SIZE + 5);
    await handle.close();
    const { stream } = await store.service.download(cid);
    await expectCode(collect(stream), "ERR_CORRUPT_BLOCK");
  });

  it("serves every intact block of a truncated pack before failing, reading in runs or not", async function () {
    const bytes = new Uint8Array(randomBytes(40 * BLOCK_SIZE));
    const { cid } = await store.service.upload(chunksOf(bytes, BLOCK_SIZE));
    const [pack] = (await readdir(path.join(store.dir, "packs"))).filter((f) =>
      f.endsWith(".blocks"),
    );
    // Block 20 is cut in half: a download reads blocks 17 to 32 as one run, which comes up short.
    await truncate(path.join(store.dir, "packs", pack!), 20 * BLOCK_SIZE + 100);
    const { stream } = await store.service.download(cid);
    const received: Uint8Array[] = [];
    try {
      for await (const chunk of stream) received.push(Buffer.from(chunk));
      expect.fail("expected ERR_CORRUPT_BLOCK");
    } catch (error) {
      expect(isHoldfastError(error, "ERR_CORRUPT_BLOCK"), String(error)).to.equal(true);
    }
    expect(
      Buffer.concat(received).equals(Buffer.from(bytes.subarray(0, 20 * BLOCK_SIZE))),
    ).to.equal(true);
  });

  it("refuses uploads beyond the quota or the size limit and leaves nothing behind", async function () {
    const small = await openTestStore(3 * (BLOCK_SIZE + 32));
    try {
      await expectCode(
        small.service.upload(chunksOf(new Uint8Array(4 * BLOCK_SIZE))),
        "ERR_QUOTA_EXCEEDED",
      );
      expect(await readdir(path.join(small.dir, "packs"))).to.deep.equal([]);
      expect(small.service.space()).to.include({ usedBytes: 0, reservedBytes: 0 });
      await small.service.upload(chunksOf(new Uint8Array(3 * BLOCK_SIZE)));
    } finally {
      await small.cleanup();
    }
    const limited = await openTestStore(2 ** 30, 1000);
    try {
      await expectCode(
        limited.service.upload(chunksOf(new Uint8Array(1001))),
        "ERR_UPLOAD_TOO_LARGE",
      );
      expect(await limited.service.list()).to.deep.equal([]);
    } finally {
      await limited.cleanup();
    }
  });

  it("rejects bad and unknown ids", async function () {
    await expectCode(store.service.download("not-a-cid"), "ERR_INVALID_CID");
    const { cid } = await store.service.upload(chunksOf(new Uint8Array(10)));
    await store.service.delete(cid);
    await expectCode(store.service.download(cid), "ERR_NOT_FOUND");
    await expectCode(store.service.delete(cid), "ERR_NOT_FOUND");
  });

  it("stops an upload whose signal fires and keeps nothing", async function () {
    const controller = new AbortController();
    async function* slow() {
      yield new Uint8Array(BLOCK_SIZE * 2);
      controller.abort();
      yield new Uint8Array(10);
    }
    await expectCode(
      store.service.upload(slow(), {}, { signal: controller.signal }),
      "ERR_ABORTED",
    );
    expect(await readdir(path.join(store.dir, "packs"))).to.deep.equal([]);
    expect(store.service.space().reservedBytes).to.equal(0);
  });
});

/** The tree id of `bytes` computed directly: zero-padded 64 KiB blocks (at least one), SHA-256 each. */
function referenceTreeCid(bytes: Uint8Array): string {
  const count = Math.max(1, Math.ceil(bytes.length / BLOCK_SIZE));
  const leaves = Array.from({ length: count }, (_, i) => {
    const block = new Uint8Array(BLOCK_SIZE);
    block.set(bytes.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE));
    return new Uint8Array(createHash("sha256").update(block).digest());
  });
  return treeCidFromRoot(sha256TreeRoot(leaves)).toString();
}

async function* chunksOfLengths(bytes: Uint8Array, lengths: () => number) {
  for (let at = 0; at < bytes.length;) {
    const length = lengths();
    yield bytes.subarray(at, at + length);
    at += length;
  }
}

describe("data service: uploads whose chunks cut blocks in odd ways", function () {
  let store: TestStore;
  before(async function () {
    store = await openTestStore();
  });
  after(async function () {
    await store.cleanup();
  });

  const B = BLOCK_SIZE;
  const cases: [string, number, () => () => number][] = [
    ["1 byte in 1-byte chunks", 1, () => () => 1],
    ["2 bytes in 1-byte chunks", 2, () => () => 1],
    ["one block in chunks of block minus one", B, () => () => B - 1],
    ["two blocks in chunks of block plus one", 2 * B, () => () => B + 1],
    ["three blocks in chunks of exactly one block", 3 * B, () => () => B],
    ["three blocks and a byte in one chunk", 3 * B + 1, () => () => 3 * B + 1],
    [
      "two blocks as block minus one, 2, block minus one",
      2 * B,
      () => {
        const lengths = [B - 1, 2, B - 1];
        return () => lengths.shift()!;
      },
    ],
    [
      "40 blocks (several write batches) in chunks of 1 byte to 3 blocks, empty ones between",
      40 * B + 333,
      () => {
        let n = 0;
        return () => (n++ % 5 === 0 ? 0 : 1 + Math.floor(Math.random() * 3 * B));
      },
    ],
    ["200 KiB in chunks of 1000 bytes", 200 * 1024, () => () => 1000],
  ];
  for (const [what, size, lengths] of cases) {
    it(`stores ${what} under the reference tree id and returns it`, async function () {
      const bytes = new Uint8Array(randomBytes(size));
      const { cid, manifest } = await store.service.upload(chunksOfLengths(bytes, lengths()));
      expect(manifest.datasetSize).to.equal(size);
      expect(manifest.blocksCount).to.equal(Math.max(1, Math.ceil(size / B)));
      expect(manifest.treeCid).to.equal(referenceTreeCid(bytes));
      const { stream } = await store.service.download(cid);
      expect((await collect(stream)).equals(Buffer.from(bytes))).to.equal(true);
      expect(store.service.space().reservedBytes).to.equal(0);
    });
  }

  it("gives an empty stream the tree id of one zero block", async function () {
    const { manifest } = await store.service.upload(chunksOf(new Uint8Array(0)));
    expect(manifest).to.include({ datasetSize: 0, blocksCount: 1 });
    expect(manifest.treeCid).to.equal(referenceTreeCid(new Uint8Array(0)));
  });

  it("keeps nothing when the source fails part way", async function () {
    const before = (await readdir(path.join(store.dir, "packs"))).sort();
    const used = store.service.space().usedBytes;
    async function* failing() {
      yield new Uint8Array(randomBytes(20 * B + 5));
      throw new Error("the client went away");
    }
    try {
      await store.service.upload(failing());
      expect.fail("expected the source's error");
    } catch (error) {
      expect((error as Error).message).to.equal("the client went away");
    }
    expect((await readdir(path.join(store.dir, "packs"))).sort()).to.deep.equal(before);
    expect(store.service.space()).to.include({ usedBytes: used, reservedBytes: 0 });
  });
});
