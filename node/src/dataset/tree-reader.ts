/**
 * Reads the blocks of a stored tree by index, wherever its segments put them, and verifies them:
 * first that the stored digests hash to the tree's CID (`verifyRoot`), then each block against its
 * digest. Bytes from disk are never trusted before that.
 */
import { ZERO_BLOCK, ZERO_BLOCK_DIGEST, parseCid, sha256 } from "../blocks/cid.js";
import { BLOCK_SIZE } from "../blocks/constants.js";
import { DIGEST_SIZE, PackReader } from "../blocks/pack.js";
import { Sha256TreeBuilder } from "../blocks/sha256-tree.js";
import { HoldfastError, throwIfAborted } from "../errors.js";
import type { Segment, TreeRecord } from "../store/records.js";

const LEAF_CHUNK = 2048;
const RUN_BLOCKS = 16; // blocks read together (1 MiB) when reading in order

interface Run {
  pack: string;
  start: number;
  count: number;
  bytes: Promise<Uint8Array>;
}

interface Located {
  segment: Segment;
  offset: number;
}

export class TreeReader {
  private readonly packs = new Map<string, Promise<PackReader>>();
  private leafCache: { pack: string; start: number; bytes: Uint8Array } | undefined;
  /** Reading in index order (a download) reads runs of blocks with one call; others read one. */
  private run: Run | undefined;
  private lastIndex = -2;

  /**
   * `readRuns`: read blocks asked for in index order in runs (a download). Off for long-lived
   * readers, which would otherwise keep a run's buffer.
   */
  constructor(
    private readonly packsDir: string,
    readonly record: TreeRecord,
    private readonly options: { readRuns?: boolean } = {},
  ) {}

  get blocksCount(): number {
    return this.record.blocksCount;
  }

  private locate(index: number): Located {
    if (!Number.isInteger(index) || index < 0 || index >= this.record.blocksCount) {
      throw new RangeError(`block ${index} is outside tree ${this.record.treeCid}`);
    }
    let start = 0;
    for (const segment of this.record.segments) {
      const count = "pack" in segment ? segment.count : segment.zero;
      if (index < start + count) return { segment, offset: index - start };
      start += count;
    }
    throw new Error(`internal: the segments of tree ${this.record.treeCid} are too short`);
  }

  private pack(id: string): Promise<PackReader> {
    let reader = this.packs.get(id);
    if (!reader) {
      reader = PackReader.open(this.packsDir, id);
      this.packs.set(id, reader);
      reader.catch(() => this.packs.delete(id)); // a missing pack may be retried, not cached
    }
    return reader;
  }

  /** The stored SHA-256 digest of block `index` (trusted only after verifyRoot). */
  async digest(index: number): Promise<Uint8Array> {
    const { segment, offset } = this.locate(index);
    if (!("pack" in segment)) return ZERO_BLOCK_DIGEST;
    const cache = this.leafCache;
    if (
      !cache ||
      cache.pack !== segment.pack ||
      offset < cache.start ||
      offset >= cache.start + cache.bytes.length / DIGEST_SIZE
    ) {
      const start = offset - (offset % LEAF_CHUNK);
      const count = Math.min(LEAF_CHUNK, segment.count - start);
      const bytes = await (await this.pack(segment.pack)).readLeaves(start, count);
      this.leafCache = { pack: segment.pack, start, bytes };
    }
    const at = (offset - this.leafCache!.start) * DIGEST_SIZE;
    return this.leafCache!.bytes.subarray(at, at + DIGEST_SIZE);
  }

  /** Checks that the stored digests hash to the tree CID; throws ERR_CORRUPT_BLOCK otherwise. */
  async verifyRoot(signal?: AbortSignal): Promise<void> {
    const builder = new Sha256TreeBuilder();
    try {
      for (let i = 0; i < this.record.blocksCount; i++) {
        if (i % LEAF_CHUNK === 0) throwIfAborted(signal);
        builder.push(await this.digest(i));
      }
    } catch (error) {
      if (error instanceof HoldfastError && error.code === "ERR_ABORTED") throw error;
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `the block index of tree ${this.record.treeCid} is unreadable`,
        { cause: error },
      );
    }
    const expected = parseCid(this.record.treeCid).multihash.digest;
    if (!Buffer.from(builder.root()).equals(Buffer.from(expected))) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `the stored block index does not match tree ${this.record.treeCid}`,
      );
    }
  }

  /**
   * The block's bytes, checked against its digest: ERR_CORRUPT_BLOCK if missing or altered. With
   * `readRuns`, blocks read in index order come from runs read with one call (views into the run).
   */
  async readVerified(index: number): Promise<Uint8Array> {
    const { segment, offset } = this.locate(index);
    const sequential = this.options.readRuns === true && index === this.lastIndex + 1;
    this.lastIndex = index;
    if (!("pack" in segment)) return ZERO_BLOCK.slice();
    let block: Uint8Array;
    try {
      const one = async () =>
        (await this.pack(segment.pack)).readBlock(offset, new Uint8Array(BLOCK_SIZE));
      // A run that cannot be read whole (a truncated pack) falls back to this block alone.
      block = sequential
        ? await this.fromRun(segment.pack, segment.count, offset).catch(one)
        : await one();
    } catch (error) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `block ${index} of tree ${this.record.treeCid} is unreadable`,
        { cause: error },
      );
    }
    const expected = await this.digest(index);
    if (!Buffer.from(sha256(block)).equals(Buffer.from(expected))) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `block ${index} of tree ${this.record.treeCid} does not match its id`,
      );
    }
    return block;
  }

  private async fromRun(pack: string, packBlocks: number, offset: number): Promise<Uint8Array> {
    let run = this.run;
    if (!run || run.pack !== pack || offset < run.start || offset >= run.start + run.count) {
      const count = Math.min(RUN_BLOCKS, packBlocks - offset);
      const bytes = this.pack(pack).then((reader) => reader.readBlocks(offset, count));
      bytes.catch(() => undefined); // observed by every reader of the run
      run = { pack, start: offset, count, bytes };
      this.run = run;
    }
    // The run's last block lets the run go: no buffer is kept once it is read.
    if (offset === run.start + run.count - 1 && this.run === run) this.run = undefined;
    const at = (offset - run.start) * BLOCK_SIZE;
    return (await run.bytes).subarray(at, at + BLOCK_SIZE);
  }

  async close(): Promise<void> {
    const readers = await Promise.allSettled(this.packs.values());
    this.packs.clear();
    await Promise.all(readers.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)));
  }
}
