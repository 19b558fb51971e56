import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { DIGEST_SIZE, PackReader, PackWriter, packFiles } from "../../../node/src/blocks/pack.js";

const B = BLOCK_SIZE;
const sha = (bytes: Uint8Array) => new Uint8Array(createHash("sha256").update(bytes).digest());

describe("pack writer: appends", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-pack-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** Appends `blocks` as pieces of the given length (respecting flow control), then finishes. */
  async function write(blocks: Uint8Array[], pieceLength: number): Promise<PackWriter> {
    const pack = await PackWriter.create(dir);
    for (const block of blocks) {
      for (let at = 0; at < B; at += pieceLength) {
        pack.appendBytes(block.subarray(at, Math.min(at + pieceLength, B)));
        if (pack.congested) await pack.drain();
      }
      pack.appendDigest(sha(block));
    }
    await pack.finish();
    return pack;
  }

  async function expectStored(pack: PackWriter, blocks: Uint8Array[]): Promise<void> {
    const files = packFiles(dir, pack.id);
    expect((await stat(files.blocks)).size).to.equal(blocks.length * B);
    expect((await stat(files.leaves)).size).to.equal(blocks.length * DIGEST_SIZE);
    const reader = await PackReader.open(dir, pack.id);
    try {
      const leaves = await reader.readLeaves(0, blocks.length);
      for (let i = 0; i < blocks.length; i++) {
        expect(Buffer.from(await reader.readBlock(i)).equals(blocks[i]!), `block ${i}`).to.equal(
          true,
        );
        expect(
          Buffer.from(leaves.subarray(i * DIGEST_SIZE, (i + 1) * DIGEST_SIZE)).equals(
            sha(blocks[i]!),
          ),
          `digest ${i}`,
        ).to.equal(true);
      }
    } finally {
      await reader.close();
    }
  }

  // 300 blocks: several write batches, more than the bytes allowed in flight, and more than one
  // 2048-digest leaf write would need only past 2048; pieces of 1000 bytes exceed 1024 per batch.
  for (const [count, piece] of [
    [1, B],
    [3, 1000],
    [300, B],
    [40, 777],
  ] as const) {
    it(`stores ${count} blocks appended in pieces of ${piece} bytes`, async function () {
      const blocks = Array.from({ length: count }, () => new Uint8Array(randomBytes(B)));
      const pack = await write(blocks, piece);
      expect(pack.count).to.equal(count);
      await expectStored(pack, blocks);
    });
  }

  it("stores more than 2048 digests (several leaf writes)", async function () {
    this.timeout(60_000);
    const one = new Uint8Array(randomBytes(B));
    const blocks = Array.from({ length: 2100 }, () => one);
    const pack = await write(blocks, B);
    expect((await stat(packFiles(dir, pack.id).leaves)).size).to.equal(2100 * DIGEST_SIZE);
    const reader = await PackReader.open(dir, pack.id);
    try {
      const leaves = await reader.readLeaves(0, 2100);
      for (const i of [0, 2047, 2048, 2099]) {
        const digest = leaves.subarray(i * DIGEST_SIZE, (i + 1) * DIGEST_SIZE);
        expect(Buffer.from(digest).equals(sha(one)), `digest ${i}`).to.equal(true);
      }
    } finally {
      await reader.close();
    }
  });

  it("becomes congested when writes pile up and drains again", async function () {
    const pack = await PackWriter.create(dir);
    const block = new Uint8Array(B);
    let appended = 0;
    while (!pack.congested && appended < 1000) {
      pack.appendBytes(block);
      pack.appendDigest(sha(block));
      appended++;
    }
    expect(pack.congested, "congested after bounded appends").to.equal(true);
    expect(appended).to.be.below(1000);
    await pack.drain();
    expect(pack.congested).to.equal(false);
    await pack.finish();
    expect(pack.count).to.equal(appended);
  });

  it("refuses a digest that does not end exactly one block", async function () {
    const pack = await PackWriter.create(dir);
    pack.appendBytes(new Uint8Array(B - 1));
    expect(() => pack.appendDigest(new Uint8Array(DIGEST_SIZE))).to.throw(RangeError);
    pack.appendBytes(new Uint8Array(2));
    expect(() => pack.appendDigest(new Uint8Array(DIGEST_SIZE))).to.throw(RangeError);
    expect(() => pack.appendDigest(new Uint8Array(31))).to.throw(RangeError);
    await pack.discard();
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it("refuses to finish with bytes that are not whole blocks with digests", async function () {
    const pack = await PackWriter.create(dir);
    pack.appendBytes(new Uint8Array(B));
    pack.appendDigest(new Uint8Array(DIGEST_SIZE));
    pack.appendBytes(new Uint8Array(10));
    try {
      await pack.finish();
      expect.fail("expected a RangeError");
    } catch (error) {
      expect(error).to.be.instanceOf(RangeError);
    }
    await pack.discard();
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it("discards a pack with writes in flight and leaves no file", async function () {
    const pack = await PackWriter.create(dir);
    const block = new Uint8Array(randomBytes(B));
    for (let i = 0; i < 64; i++) {
      pack.appendBytes(block);
      pack.appendDigest(sha(block));
    }
    await pack.discard();
    expect(await readdir(dir)).to.deep.equal([]);
  });
});
