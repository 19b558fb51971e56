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
import { BLOCK_SIZE } from "./constants.js";

export const DIGEST_SIZE = 32;
const LEAF_FLUSH = 2048; // digests gathered before a write: 64 KiB
const WRITE_BATCH = 2 ** 20; // appended bytes gathered into one writev
const MAX_IOVECS = 1024; // pieces per writev (Linux IOV_MAX)
// Appended bytes handed to the file but not yet written, and writes in flight: the writer's memory
// bound. Several writes in flight keep the caller from stalling on one slow write to the page cache.
const MAX_IN_FLIGHT_BYTES = 8 * 2 ** 20;
const MAX_IN_FLIGHT_WRITES = 16;

export function newPackId(): string {
  return randomBytes(12).toString("hex");
}

export function packFiles(dir: string, id: string): { blocks: string; leaves: string } {
  return { blocks: path.join(dir, `${id}.blocks`), leaves: path.join(dir, `${id}.leaves`) };
}

/**
 * Writes one pack: appended bytes and digests in order (uploads), or blocks at positions (parity).
 * Appends do not wait for the disk: they are gathered into 1 MiB `writev` batches, several in
 * flight; a caller streams bytes in and awaits `drain()` only when the writer is `congested`.
 */
export class PackWriter {
  private appended = 0;
  private leafBuffer = new Uint8Array(LEAF_FLUSH * DIGEST_SIZE);
  private leafBuffered = 0;
  private leafPosition = 0;
  private closed = false;
  /** Appended bytes not yet handed to the file, and where they go in it. */
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private batchPosition = 0;
  private readonly writes = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private failure: { error: unknown } | undefined;

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

  /** Blocks appended so far (digests given). */
  get count(): number {
    return this.appended;
  }

  /**
   * The next bytes of the block file. They are kept, not copied, until written: the caller must
   * not change them afterwards. Throws if an earlier write failed.
   */
  appendBytes(bytes: Uint8Array): void {
    this.throwIfFailed();
    this.batch.push(bytes);
    this.batchBytes += bytes.length;
    if (this.batchBytes >= WRITE_BATCH || this.batch.length === MAX_IOVECS) this.writeBatch();
  }

  /** The digest of the block whose last byte was just appended (copied). */
  appendDigest(digest: Uint8Array): void {
    if (digest.length !== DIGEST_SIZE) throw new RangeError(`a digest is ${DIGEST_SIZE} bytes`);
    const end = this.batchPosition + this.batchBytes;
    if (end !== (this.appended + 1) * BLOCK_SIZE) {
      throw new RangeError(
        `a digest must follow exactly one block: ${end} bytes appended for block ${this.appended}`,
      );
    }
    this.appended++;
    this.leafBuffer.set(digest, this.leafBuffered * DIGEST_SIZE);
    if (++this.leafBuffered === LEAF_FLUSH) this.writeLeaves();
  }

  /** True when the caller should await `drain()` before appending more. */
  get congested(): boolean {
    return this.inFlightBytes >= MAX_IN_FLIGHT_BYTES || this.writes.size >= MAX_IN_FLIGHT_WRITES;
  }

  /** Waits until the writer is not congested; throws if a write failed. */
  async drain(): Promise<void> {
    while (this.congested) await Promise.race(this.writes);
    this.throwIfFailed();
  }

  private writeBatch(): void {
    if (this.batchBytes === 0) return;
    const [buffers, bytes, position] = [this.batch, this.batchBytes, this.batchPosition];
    this.batch = [];
    this.batchBytes = 0;
    this.batchPosition += bytes;
    this.track(this.blocks.writev(buffers, position), bytes);
  }

  private writeLeaves(): void {
    if (this.leafBuffered === 0) return;
    const bytes = this.leafBuffered * DIGEST_SIZE;
    this.track(this.leaves.write(this.leafBuffer, 0, bytes, this.leafPosition), bytes);
    this.leafPosition += bytes;
    this.leafBuffer = new Uint8Array(LEAF_FLUSH * DIGEST_SIZE); // the old one is being written
    this.leafBuffered = 0;
  }

  /** Follows a write to its end; the first failure is kept and thrown by the next call. */
  private track(write: Promise<{ bytesWritten: number }>, bytes: number): void {
    this.inFlightBytes += bytes;
    const done = write
      .then(({ bytesWritten }) => {
        if (bytesWritten !== bytes)
          throw new Error(`short write to pack ${this.id}: ${bytesWritten} of ${bytes} bytes`);
      })
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.inFlightBytes -= bytes;
        this.writes.delete(done);
      });
    this.writes.add(done);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Writes a block at a position; for packs filled out of order (parity). Not mixed with append. */
  async writeAt(position: number, block: Uint8Array, digest: Uint8Array): Promise<void> {
    checkBlock(block, digest);
    await this.blocks.write(block, 0, BLOCK_SIZE, position * BLOCK_SIZE);
    await this.leaves.write(digest, 0, DIGEST_SIZE, position * DIGEST_SIZE);
  }

  /** Makes the pack durable (data and digests on disk) and closes it. */
  async finish(): Promise<void> {
    this.writeBatch();
    this.writeLeaves();
    await Promise.all(this.writes);
    this.throwIfFailed();
    if (this.batchPosition !== this.appended * BLOCK_SIZE) {
      throw new RangeError(
        `pack ${this.id} has ${this.batchPosition} bytes for ${this.appended} blocks`,
      );
    }
    await Promise.all([this.blocks.datasync(), this.leaves.datasync()]);
    await this.close();
    await syncDirectory(this.dir);
  }

  /** Closes and deletes the pack: nothing of a failed write is left behind. */
  async discard(): Promise<void> {
    await Promise.all(this.writes);
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

  /** `count` blocks from `position` on, concatenated, read with one call. */
  async readBlocks(position: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array(count * BLOCK_SIZE);
    const { bytesRead } = await this.blocks.read(out, 0, out.length, position * BLOCK_SIZE);
    if (bytesRead !== out.length) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `pack ${this.id} is truncated within blocks ${position} to ${position + count - 1}`,
      );
    }
    return out;
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
