import { HoldfastError, throwIfAborted } from "../errors.js";
import type { BlockPool } from "./block-pool.js";
import { BLOCK_SIZE } from "./constants.js";

export interface ChunkOptions {
  /** Bytes beyond this fail the stream with ERR_UPLOAD_TOO_LARGE. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Updated as bytes arrive: the true size of the stream once it has ended. */
  progress?: { bytes: number };
  /** Where block buffers come from; the consumer gives them back once written. */
  pool?: BlockPool;
}

/**
 * Cuts a byte stream into BLOCK_SIZE blocks. The last block is zero-padded (the manifest keeps the
 * true size) and an empty stream still yields one all-zero block, so every dataset has at least one
 * block and every tree is defined. Holds one block at a time; each yielded block is the caller's
 * (taken from `pool` if given, else a new buffer).
 */
export async function* chunkBlocks(
  source: AsyncIterable<Uint8Array>,
  options: ChunkOptions = {},
): AsyncGenerator<Uint8Array> {
  const maxBytes = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const nextBlock = () => options.pool?.take() ?? new Uint8Array(BLOCK_SIZE);
  let block = nextBlock();
  let filled = 0;
  let total = 0;
  let emitted = 0;
  for await (const chunk of source) {
    throwIfAborted(options.signal);
    total += chunk.length;
    if (options.progress) options.progress.bytes = total;
    if (total > maxBytes) {
      throw new HoldfastError(
        "ERR_UPLOAD_TOO_LARGE",
        `the upload exceeds the limit of ${maxBytes} bytes`,
      );
    }
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(BLOCK_SIZE - filled, chunk.length - offset);
      block.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === BLOCK_SIZE) {
        yield block;
        emitted++;
        block = nextBlock();
        filled = 0;
      }
    }
  }
  if (filled > 0 || emitted === 0) yield block; // the rest of the block is still zero
}
