import { BLOCK_SIZE } from "./constants.js";

/**
 * Recycles block buffers between the chunker and the pack writer, so that an upload reuses a few
 * MiB of buffers instead of allocating (and garbage collecting) one per block.
 */
export class BlockPool {
  private readonly free: Uint8Array[] = [];

  constructor(private readonly maxFree = 64) {}

  take(): Uint8Array {
    const block = this.free.pop();
    if (!block) return new Uint8Array(BLOCK_SIZE);
    block.fill(0); // a recycled block must not carry old bytes into a short last block
    return block;
  }

  give(block: Uint8Array): void {
    if (block.length === BLOCK_SIZE && this.free.length < this.maxFree) this.free.push(block);
  }
}
