/**
 * Streams a dataset's original bytes from its verified tree. A block that is missing or does not
 * match its id fails a plain dataset; in a protected one it is rebuilt from the other blocks of its
 * codeword (any K of K + M), and the rebuilt block is checked against its id too.
 */
import { sha256 } from "../blocks/cid.js";
import { BLOCK_SIZE } from "../blocks/constants.js";
import { HoldfastError, isHoldfastError, throwIfAborted } from "../errors.js";
import { type EcLayout, codewordIndex, ecLayout } from "../erasure/layout.js";
import { ReedSolomon } from "../erasure/reed-solomon.js";
import { type Manifest, originalBlocksCount } from "../manifest/manifest.js";

/** What the download needs of a tree: verified reads and the stored digests. */
export interface VerifiedBlocks {
  readVerified(index: number): Promise<Uint8Array>;
  digest(index: number): Promise<Uint8Array>;
}

export interface ReadOptions {
  signal?: AbortSignal;
  onRecovered?: (index: number) => void;
}

export async function* readDataset(
  blocks: VerifiedBlocks,
  manifest: Manifest,
  options: ReadOptions = {},
): AsyncGenerator<Uint8Array> {
  const count = originalBlocksCount(manifest);
  const layout = manifest.protected
    ? ecLayout(count, manifest.protected.ecK, manifest.protected.ecM)
    : undefined;
  const code = layout ? new ReedSolomon(layout.ecK, layout.ecM) : undefined;
  const lastLength = manifest.datasetSize - (count - 1) * BLOCK_SIZE;
  // One block read ahead: the disk read of the next block overlaps sending this one.
  const readAhead = (index: number) => {
    const read = blocks.readVerified(index);
    read.catch(() => undefined); // observed when awaited below
    return read;
  };
  let next = readAhead(0);
  for (let index = 0; index < count; index++) {
    throwIfAborted(options.signal);
    const current = next;
    if (index + 1 < count) next = readAhead(index + 1);
    let block: Uint8Array;
    try {
      block = await current;
    } catch (error) {
      if (!layout || !code || !isHoldfastError(error, "ERR_CORRUPT_BLOCK")) throw error;
      block = await recoverBlock(blocks, layout, code, index);
      options.onRecovered?.(index);
    }
    yield index === count - 1 ? block.subarray(0, lastLength) : block;
  }
}

/** Rebuilds block `index` from the other blocks of its codeword. */
export async function recoverBlock(
  blocks: VerifiedBlocks,
  layout: EcLayout,
  code: ReedSolomon,
  index: number,
): Promise<Uint8Array> {
  const step = index % layout.steps;
  const shards: (Uint8Array | null)[] = [];
  let available = 0;
  for (let j = 0; j < layout.ecK + layout.ecM; j++) {
    const at = codewordIndex(layout, step, j);
    // Stop reading once K blocks are in hand: the rest stay null and are not needed.
    if (at === index || available === layout.ecK) {
      shards.push(null);
      continue;
    }
    const shard = await blocks.readVerified(at).catch((error: unknown) => {
      if (isHoldfastError(error, "ERR_CORRUPT_BLOCK")) return null;
      throw error;
    });
    if (shard) available++;
    shards.push(shard);
  }
  if (available < layout.ecK) {
    throw new HoldfastError(
      "ERR_DECODE_FAILED",
      `block ${index} is lost and only ${available} of the ${layout.ecK} blocks needed to rebuild it are intact`,
    );
  }
  const data = code.decode(shards);
  // Data shards come out of the decoder; a parity shard (a parity slot being repaired) is encoded
  // again from them.
  const shard = Math.floor(index / layout.steps);
  const block = shard < layout.ecK ? data[shard]! : code.encode(data)[shard - layout.ecK]!;
  if (!Buffer.from(sha256(block)).equals(Buffer.from(await blocks.digest(index)))) {
    throw new HoldfastError(
      "ERR_DECODE_FAILED",
      `the rebuilt block ${index} does not match its id`,
    );
  }
  return block;
}
