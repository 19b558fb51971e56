import type { ManifestKind } from "../manifest/manifest.js";

/** A run of a tree's leaves: blocks of a pack from position 0 on, or zero blocks. */
export type Segment = { pack: string; count: number } | { zero: number };

/** A stored tree: where each of its blocks is. Shared by the datasets that name it. */
export interface TreeRecord {
  treeCid: string;
  blocksCount: number;
  segments: Segment[];
  /** Datasets whose manifest names this tree. */
  refs: number;
}

export interface PackRecord {
  id: string;
  blocks: number;
  /** Trees with a segment in this pack. */
  refs: number;
}

export interface DatasetRecord {
  manifestCid: string;
  treeCid: string;
  kind: ManifestKind;
  datasetSize: number;
  filename?: string;
  mimetype?: string;
  createdAt: string;
  /** Verifiable datasets: the file with the persisted slot trees, and its size. */
  slotTrees?: { file: string; bytes: number };
}

export const KEY = {
  pack: (id: string) => `pack/${id}`,
  tree: (cid: string) => `tree/${cid}`,
  dataset: (cid: string) => `dataset/${cid}`,
  block: (cid: string) => `block/${cid}`,
  prefix: { pack: "pack/", tree: "tree/", dataset: "dataset/" },
} as const;
