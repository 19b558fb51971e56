/**
 * The persisted slot trees of a verifiable dataset: every layer of every slot tree, so that a cell
 * proof needs one block's hashing (its block tree) and a few reads, never the whole slot. Slot s
 * starts at byte s * nodesPerSlot * 32; within it the layers follow each other, leaves first, each
 * node 32 bytes little-endian.
 */
import { type FileHandle, open } from "node:fs/promises";
import { HoldfastError } from "../errors.js";
import { fieldFromBytesLE, fieldToBytesLE } from "./field.js";

const NODE = 32;

/** Layer sizes of the keyed tree over `leaves` leaves (a single leaf is still compressed once). */
export function layerSizes(leaves: number): number[] {
  const sizes = [leaves];
  while (sizes.length === 1 || sizes.at(-1)! > 1) sizes.push(Math.ceil(sizes.at(-1)! / 2));
  return sizes;
}

export class SlotTreeLayout {
  readonly sizes: number[];
  readonly offsets: number[];
  readonly nodesPerSlot: number;

  constructor(readonly leavesPerSlot: number) {
    this.sizes = layerSizes(leavesPerSlot);
    let offset = 0;
    this.offsets = this.sizes.map((size) => {
      const at = offset;
      offset += size;
      return at;
    });
    this.nodesPerSlot = offset;
  }

  fileBytes(slots: number): number {
    return slots * this.nodesPerSlot * NODE;
  }

  nodeOffset(slot: number, level: number, index: number): number {
    return (slot * this.nodesPerSlot + this.offsets[level]! + index) * NODE;
  }
}

export async function writeSlotTree(
  handle: FileHandle,
  layout: SlotTreeLayout,
  slot: number,
  layers: readonly (readonly bigint[])[],
): Promise<void> {
  if (
    layers.length !== layout.sizes.length ||
    layers.some((l, i) => l.length !== layout.sizes[i])
  ) {
    throw new RangeError("the slot tree does not have the layout's shape");
  }
  const bytes = new Uint8Array(layout.nodesPerSlot * NODE);
  let at = 0;
  for (const layer of layers) {
    for (const node of layer) {
      bytes.set(fieldToBytesLE(node), at);
      at += NODE;
    }
  }
  await handle.write(bytes, 0, bytes.length, layout.nodeOffset(slot, 0, 0));
}

/** Reads a leaf's path (siblings from the leaf up, 0 for an odd node) and the slot root. */
export async function readSlotTreePath(
  file: string,
  layout: SlotTreeLayout,
  slot: number,
  leafIndex: number,
): Promise<{ leaf: bigint; path: bigint[]; root: bigint }> {
  const handle = await open(file, "r");
  try {
    const read = async (level: number, index: number) => {
      const buffer = new Uint8Array(NODE);
      const { bytesRead } = await handle.read(
        buffer,
        0,
        NODE,
        layout.nodeOffset(slot, level, index),
      );
      if (bytesRead !== NODE) {
        throw new HoldfastError("ERR_CORRUPT_BLOCK", `slot tree file ${file} is truncated`);
      }
      return fieldFromBytesLE(buffer);
    };
    const path: bigint[] = [];
    let index = leafIndex;
    for (let level = 0; level < layout.sizes.length - 1; level++) {
      const sibling = index ^ 1;
      path.push(sibling < layout.sizes[level]! ? await read(level, sibling) : 0n);
      index >>= 1;
    }
    return { leaf: await read(0, leafIndex), path, root: await read(layout.sizes.length - 1, 0) };
  } finally {
    await handle.close();
  }
}
