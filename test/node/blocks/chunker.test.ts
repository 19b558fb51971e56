import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { BlockSplitter, chunkBlocks } from "../../../node/src/blocks/chunker.js";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { isHoldfastError } from "../../../node/src/errors.js";

const B = BLOCK_SIZE;

/** The blocks a stream of `bytes` must become: BLOCK_SIZE each, the last zero-padded, at least one. */
function expectedBlocks(bytes: Uint8Array): Uint8Array[] {
  const count = Math.max(1, Math.ceil(bytes.length / B));
  return Array.from({ length: count }, (_, i) => {
    const block = new Uint8Array(B);
    block.set(bytes.subarray(i * B, (i + 1) * B));
    return block;
  });
}

/** Cuts `bytes` into chunks of the given lengths (the last one takes the rest). */
function cut(bytes: Uint8Array, lengths: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const length of lengths) {
    if (at >= bytes.length) break;
    chunks.push(bytes.subarray(at, Math.min(at + length, bytes.length)));
    at += length;
  }
  if (at < bytes.length) chunks.push(bytes.subarray(at));
  return chunks;
}

/** Runs a splitter over chunks; returns each block's pieces. */
function split(chunks: Uint8Array[]): { blocks: Uint8Array[][]; count: number; bytes: number } {
  const blocks: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  const splitter = new BlockSplitter({
    piece: (bytes) => current.push(bytes),
    blockEnd: () => {
      blocks.push(current);
      current = [];
    },
  });
  for (const chunk of chunks) splitter.push(chunk);
  const count = splitter.end();
  expect(current, "pieces after the last block end").to.deep.equal([]);
  return { blocks, count, bytes: splitter.bytes };
}

const joined = (pieces: Uint8Array[]) => Buffer.concat(pieces);

// Sizes around block boundaries, and chunkings that straddle them in odd ways.
const sizes = [0, 1, 2, B - 1, B, B + 1, 2 * B, 2 * B + 1, 3 * B, 5 * B + 12345];
const chunkings: [string, (size: number) => number[]][] = [
  ["one chunk", (size) => [size]],
  ["chunks of 7777", (size) => Array(Math.ceil(size / 7777)).fill(7777) as number[]],
  ["chunks of exactly one block", (size) => Array(Math.ceil(size / B)).fill(B) as number[]],
  [
    "chunks of one block plus one byte",
    (size) => Array(Math.ceil(size / B)).fill(B + 1) as number[],
  ],
  [
    "block minus one, 2, block minus one, ...",
    (size) =>
      Array(size)
        .fill(0)
        .map((_, i) => (i % 2 ? 2 : B - 1)),
  ],
  ["one byte, then two blocks at a time", (size) => [1, ...(Array(size).fill(2 * B) as number[])]],
  [
    "random lengths from 1 to 3 blocks",
    (size) =>
      Array(size)
        .fill(0)
        .map(() => 1 + Math.floor(Math.random() * 3 * B)),
  ],
];

describe("block splitter", function () {
  for (const size of sizes) {
    const bytes = new Uint8Array(randomBytes(size));
    for (const [name, lengths] of chunkings) {
      it(`cuts ${size} bytes in ${name} into padded blocks`, function () {
        const chunks = cut(bytes, size === 0 ? [] : lengths(size));
        const { blocks, count, bytes: total } = split(chunks);
        const expected = expectedBlocks(bytes);
        expect(total).to.equal(size);
        expect(count).to.equal(expected.length);
        expect(blocks).to.have.length(expected.length);
        blocks.forEach((pieces, i) => {
          expect(joined(pieces).equals(expected[i]!), `block ${i}`).to.equal(true);
        });
      });
    }
  }

  it("hands on views of the chunks, not copies, and skips empty chunks", function () {
    const bytes = new Uint8Array(randomBytes(B + 10));
    const chunks = [bytes.subarray(0, 100), new Uint8Array(0), bytes.subarray(100)];
    const { blocks } = split(chunks);
    const data = blocks.flat().filter((piece) => piece.buffer === bytes.buffer);
    expect(data.map((p) => p.byteOffset)).to.deep.equal([0, 100, B]);
    expect(blocks.flat().every((piece) => piece.length > 0)).to.equal(true);
  });

  it("makes one all-zero block of an empty stream", function () {
    const { blocks, count } = split([]);
    expect(count).to.equal(1);
    expect(joined(blocks[0]!).equals(new Uint8Array(B))).to.equal(true);
  });
});

describe("chunkBlocks", function () {
  async function* from(chunks: Uint8Array[]) {
    yield* chunks;
  }

  for (const size of [0, 1, B, 2 * B + 1]) {
    it(`yields whole padded blocks for ${size} bytes in chunks of 7777`, async function () {
      const bytes = new Uint8Array(randomBytes(size));
      const progress = { bytes: 0 };
      const blocks: Uint8Array[] = [];
      for await (const block of chunkBlocks(from(cut(bytes, Array(size).fill(7777) as number[])), {
        progress,
      })) {
        blocks.push(block);
      }
      expect(blocks.map((b) => Buffer.from(b))).to.deep.equal(
        expectedBlocks(bytes).map((b) => Buffer.from(b)),
      );
      expect(progress.bytes).to.equal(size);
      // Each block is its own buffer: changing one changes no other and no input.
      if (blocks.length > 1) expect(blocks[0]!.buffer).to.not.equal(blocks[1]!.buffer);
      expect(blocks.every((b) => b.buffer !== bytes.buffer)).to.equal(true);
    });
  }

  it("fails with ERR_UPLOAD_TOO_LARGE past maxBytes", async function () {
    const chunks = cut(new Uint8Array(3 * B), [B, B, B]);
    const seen: Uint8Array[] = [];
    try {
      for await (const block of chunkBlocks(from(chunks), { maxBytes: 2 * B })) seen.push(block);
      expect.fail("expected ERR_UPLOAD_TOO_LARGE");
    } catch (error) {
      expect(isHoldfastError(error, "ERR_UPLOAD_TOO_LARGE"), String(error)).to.equal(true);
    }
    expect(seen).to.have.length(2);
  });
});
