/** Size of a network block; every block is exactly this long (the last one of a dataset is zero-padded). */
export const BLOCK_SIZE = 64 * 1024;

/**
 * Multicodec codes. The Codex ones are carried over so that block and tree ids match what Codex
 * computes for the same bytes (multiformats/multicodec table.csv; codex-storage/nim-codex docs).
 */
export const CODEC = {
  /** A 64 KiB data or parity block (codex-block). */
  block: 0xcd02,
  /** The root of a SHA-256 Merkle tree over a dataset's blocks (codex-root). */
  treeRoot: 0xcd03,
  /** A Holdfast manifest: JSON (the multicodec `json`); not Codex's protobuf manifest. */
  manifest: 0x0200,
} as const;

/** Multihash code of SHA2-256. */
export const SHA2_256 = 0x12;
