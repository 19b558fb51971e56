/**
 * The block time a chain actually shows: the average over its recent blocks. The parameters file's
 * minBlockTimeMs is a promise about the chain; a chain that has been faster than it on average has
 * certainly broken it, so `npm run deploy` refuses to deploy there.
 */

/** What is read: block numbers and timestamps over JSON-RPC. */
export interface BlockReader {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/**
 * Average milliseconds between consecutive blocks over the last `span` blocks (fewer on a young
 * chain), or undefined when the chain has fewer than two blocks.
 */
export async function averageBlockTimeMs(
  provider: BlockReader,
  span = 256,
): Promise<{ averageMs: number; blocks: number } | undefined> {
  const latest = Number(BigInt((await provider.request({ method: "eth_blockNumber" })) as string));
  const blocks = Math.min(span, latest);
  if (blocks < 1) return undefined;
  const timestampOf = async (n: number) => {
    const block = (await provider.request({
      method: "eth_getBlockByNumber",
      params: [`0x${n.toString(16)}`, false],
    })) as { timestamp: string } | null;
    if (block === null) throw new Error(`the chain has no block ${n}`);
    return Number(BigInt(block.timestamp));
  };
  const elapsed = (await timestampOf(latest)) - (await timestampOf(latest - blocks));
  return { averageMs: (elapsed * 1000) / blocks, blocks };
}
