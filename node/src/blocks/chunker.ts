import { HoldfastError, throwIfAborted } from "../errors.js";
import { ZERO_BLOCK } from "./cid.js";
import { BLOCK_SIZE } from "./constants.js";

/** Where a BlockSplitter's output goes: the bytes of each block in order, then its end. */
export interface BlockSink {
  /** The next bytes of the current block: a view of the caller's chunk (or of ZERO_BLOCK), not a copy. */
  piece(bytes: Uint8Array): void;
  /** The current block has its BLOCK_SIZE bytes. */
  blockEnd(): void;
}

/**
 * Cuts a byte stream into BLOCK_SIZE blocks without copying: each chunk is handed on as the views
 * of it that fall into one block. The last block is zero-padded (the manifest keeps the true size)
 * and an empty stream still makes one all-zero block, so every dataset has at least one block and
 * every tree is defined.
 */
export class BlockSplitter {
  private filled = 0;
  private total = 0;
  private blocks = 0;

  constructor(private readonly sink: BlockSink) {}

  /** Bytes pushed so far: the true size of the stream once it has ended. */
  get bytes(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    this.total += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(BLOCK_SIZE - this.filled, chunk.length - offset);
      this.sink.piece(take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
      this.filled += take;
      offset += take;
      if (this.filled === BLOCK_SIZE) this.endBlock();
    }
  }

  /** Pads and ends the last block; returns the number of blocks. */
  end(): number {
    if (this.filled > 0 || this.blocks === 0) {
      this.sink.piece(ZERO_BLOCK.subarray(this.filled));
      this.endBlock();
    }
    return this.blocks;
  }

  private endBlock(): void {
    this.filled = 0;
    this.blocks++;
    this.sink.blockEnd();
  }
}

export interface ChunkOptions {
  /** Bytes beyond this fail the stream with ERR_UPLOAD_TOO_LARGE. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Updated as bytes arrive: the true size of the stream once it has ended. */
  progress?: { bytes: number };
}

/**
 * Cuts a byte stream into whole BLOCK_SIZE blocks (BlockSplitter's rules), each a new buffer the
 * caller owns. Holds one block at a time.
 */
export async function* chunkBlocks(
  source: AsyncIterable<Uint8Array>,
  options: ChunkOptions = {},
): AsyncGenerator<Uint8Array> {
  const maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  let block = new Uint8Array(BLOCK_SIZE);
  let filled = 0;
  const done: Uint8Array[] = [];
  const splitter = new BlockSplitter({
    piece(bytes) {
      block.set(bytes, filled);
      filled += bytes.length;
    },
    blockEnd() {
      done.push(block);
      block = new Uint8Array(BLOCK_SIZE);
      filled = 0;
    },
  });
  for await (const chunk of source) {
    throwIfAborted(options.signal);
    if (splitter.bytes + chunk.length > maxBytes) {
      throw new HoldfastError(
        "ERR_UPLOAD_TOO_LARGE",
        `the upload exceeds the limit of ${maxBytes} bytes`,
      );
    }
    splitter.push(chunk);
    if (options.progress) options.progress.bytes = splitter.bytes;
    yield* done.splice(0);
  }
  splitter.end();
  yield* done.splice(0);
}
