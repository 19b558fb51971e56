/**
 * Cells and slots (storage-proof spec, "Three stacked trees"): a 64 KiB block is 32 cells of
 * 2 KiB; a slot's blocks are padded with zero blocks to a power of two, which makes its number of
 * cells a power of two too (32 is one).
 */
import { BLOCK_SIZE } from "../blocks/constants.js";

export const CELL_SIZE = 2048;
export const CELLS_PER_BLOCK = BLOCK_SIZE / CELL_SIZE;
/** log2(CELLS_PER_BLOCK): levels of a block tree, the first levels of every cell's path. */
export const BLOCK_TREE_DEPTH = Math.log2(CELLS_PER_BLOCK);

export interface SlotGeometry {
  /** Blocks of the slot that hold data or parity. */
  slotBlocks: number;
  /** slotBlocks rounded up to a power of two: the slot tree's leaves. */
  paddedSlotBlocks: number;
  cellsPerSlot: number;
}

export function slotGeometry(slotBlocks: number): SlotGeometry {
  let padded = 1;
  while (padded < slotBlocks) padded *= 2;
  return { slotBlocks, paddedSlotBlocks: padded, cellsPerSlot: padded * CELLS_PER_BLOCK };
}
