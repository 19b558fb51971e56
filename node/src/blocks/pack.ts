/**
 * A pack holds the blocks of one run of a tree at fixed positions: `<id>.blocks` has block p at
 * byte p * BLOCK_SIZE, `<id>.leaves` has its SHA-256 digest at byte p * 32. One file per dataset
 * part (not per block) keeps uploads sequential and makes a commit cost one fsync per file; the
 * digests let readers verify every block without trusting the block file.
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, open, rm } from "node:fs/promises";
import path from "node:path";
import { HoldfastError } from "../errors.js";
import type { BlockPool } from "./block-pool.js";
import { BLOCK_SIZE } from "./constants.js";

export const DIGEST_SIZE = 32;
const LEAF_FLUSH = 2048; // digests buffered before a write: 64 KiB
const BLOCK_BATCH = 16; // appended blocks gathered into one writev: 1 MiB

export function newPackId(): string {
  return randomBytes(12).toString("hex");
}

export function packFiles(dir: string, id: string): { blocks: string; leaves: string } {
  return { blocks: path.join(dir, `${id}.blocks`), leaves: path.join(dir, `${id}.leaves`) };
}

/** Writes one pack: sequential appends (uploads) or writes at positions (parity). */
export class PackWriter {
  private appended = 0;
  private leafBuffer = new Uint8Array(LEAF_FLUSH * DIGEST_SIZE);
  private leafBuffered = 0;
  private leafBufferStart = 0;
  private closed = false;
  /** Appended blocks not yet handed to the file, and the one batch write in flight. */
  private batch: Uint8Array[] = [];
  private inFlight: Promise<unknown> = Promise.resolve();

  /** Appended blocks go back here once written (see BlockPool). */
  pool: BlockPool | undefined;

  private constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly blocks: FileHandle,
    private readonly leaves: FileHandle,
  ) {}

  static async create(dir: string, id = newPackId()): Promise<PackWriter> {
    const files = packFiles(dir, id);
    const blocks = await open(files.blocks, "wx");
    try {
      const leaves = await open(files.leaves, "wx");
      return new PackWriter(id, dir, blocks, leaves);
    } catch (error) {
      await blocks.close();
      await rm(files.blocks, { force: true });
      throw error;
    }
  }

  /** Blocks appended so far. */
  get count(): number {
    return this.appended;
  }

  /**
   * Appends a block. The caller must not change `block` afterwards: blocks are gathered into 1 MiB
   * batches written with one writev each, with one batch in flight while the next is hashed.
   */
  async append(block: Uint8Array, digest: Uint8Array): Promise<void> {
    checkBlock(block, digest);
    this.appended++;
    this.batch.push(block);
    if (this.batch.length === BLOCK_BATCH) await this.flushBlocks();
    this.leafBuffer.set(digest, this.leafBuffered * DIGEST_SIZE);
    if (++this.leafBuffered === LEAF_FLUSH) await this.flushLeaves();
  }

  private async flushBlocks(): Promise<void> {
    await this.inFlight;
    if (this.batch.length === 0) return;
    const position = (this.appended - this.batch.length) * BLOCK_SIZE;
    const expected = this.batch.length * BLOCK_SIZE;
    const written = this.batch;
    const write = this.blocks.writev(written, position).then(({ bytesWritten }) => {
      for (const block of written) this.pool?.give(block);
      if (bytesWritten !== expected)
        throw new Error(`short write to pack ${this.id}: ${bytesWritten} of ${expected} bytes`);
    });
    this.batch = [];
    // Errors surface on the next flush or at finish; never left unobserved.
    this.inFlight = write;
    write.catch(() => undefined);
  }

  /** Writes a block at a position; for packs filled out of order (parity). Not mixed with append. */
  async writeAt(position: number, block: Uint8Array, digest: Uint8Array): Promise<void> {
    checkBlock(block, digest);
    await this.blocks.write(block, 0, BLOCK_SIZE, position * BLOCK_SIZE);
    await this.leaves.write(digest, 0, DIGEST_SIZE, position * DIGEST_SIZE);
  }

  private async flushLeaves(): Promise<void> {
    if (this.leafBuffered === 0) return;
    const bytes = this.leafBuffered * DIGEST_SIZE;
    await this.leaves.write(this.leafBuffer, 0, bytes, this.leafBufferStart * DIGEST_SIZE);
    this.leafBufferStart += this.leafBuffered;
    this.leafBuffered = 0;
  }

  /** Makes the pack durable (data and digests on disk) and closes it. */
  async finish(): Promise<void> {
    await this.flushBlocks();
    await this.inFlight;
    await this.flushLeaves();
    await Promise.all([this.blocks.datasync(), this.leaves.datasync()]);
    await this.close();
    await syncDirectory(this.dir);
  }

  /** Closes and deletes the pack: nothing of a failed write is left behind. */
  async discard(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    await this.close().catch(() => undefined);
    await removePack(this.dir, this.id);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.blocks.close(), this.leaves.close()]);
  }
}

function checkBlock(block: Uint8Array, digest: Uint8Array): void {
  if (block.length !== BLOCK_SIZE || digest.length !== DIGEST_SIZE) {
    throw new RangeError(`a block is ${BLOCK_SIZE} bytes and its digest ${DIGEST_SIZE}`);
  }
}

/** Reads blocks and digests of a committed pack. Bytes are returned as stored: callers verify. */
export class PackReader {
  private constructor(
    readonly id: string,
    private readonly blocks: FileHandle,
    private readonly leaves: FileHandle,
  ) {}

  static async open(dir: string, id: string): Promise<PackReader> {
    const files = packFiles(dir, id);
    const blocks = await open(files.blocks, "r");
    try {
      return new PackReader(id, blocks, await open(files.leaves, "r"));
    } catch (error) {
      await blocks.close();
      throw error;
    }
  }

  async readBlock(position: number, into = new Uint8Array(BLOCK_SIZE)): Promise<Uint8Array> {
    const { bytesRead } = await this.blocks.read(into, 0, BLOCK_SIZE, position * BLOCK_SIZE);
    if (bytesRead !== BLOCK_SIZE) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `pack ${this.id} is truncated at block ${position}`,
      );
    }
    return into;
  }

  /** `count` digests from `position` on, concatenated. */
  async readLeaves(position: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array(count * DIGEST_SIZE);
    const { bytesRead } = await this.leaves.read(out, 0, out.length, position * DIGEST_SIZE);
    if (bytesRead !== out.length) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `the digests of pack ${this.id} are truncated at block ${position}`,
      );
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([this.blocks.close(), this.leaves.close()]);
  }
}

export async function removePack(dir: string, id: string): Promise<void> {
  const files = packFiles(dir, id);
  await Promise.all([rm(files.blocks, { force: true }), rm(files.leaves, { force: true })]);
}

/** fsync on a directory makes created and removed names durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
