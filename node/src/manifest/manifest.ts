/**
 * A manifest describes a dataset and is itself stored as a block; its CID is the id users get.
 * Three kinds share one shape: a plain upload; a protected dataset (erasure coded, with the
 * original tree); a verifiable one (also the slot roots and dataset root the proofs commit to).
 * Encoded as JSON with a fixed key order, so the same dataset always gets the same id.
 */
import { BLOCK_SIZE, CODEC } from "../blocks/constants.js";
import { type CID, cidFromDigest, parseCid, sha256 } from "../blocks/cid.js";
import { HoldfastError, isHoldfastError } from "../errors.js";
import { ecLayout } from "../erasure/layout.js";
import { CELL_SIZE, slotGeometry } from "../slots/geometry.js";
import { fieldFromHex } from "../slots/field.js";

export const MANIFEST_FORMAT = "holdfast-manifest/1";

export interface ProtectedInfo {
  ecK: number;
  ecM: number;
  originalTreeCid: string;
  originalBlocksCount: number;
}

export interface VerifiableInfo {
  cellSize: number;
  /** Blocks per slot after padding to a power of two (cells per slot = 32 times this). */
  slotBlocks: number;
  /** Poseidon2 slot roots, one per slot, as 0x-hex of 32 little-endian bytes. */
  slotRoots: string[];
  datasetRoot: string;
}

export interface Manifest {
  /** SHA-256 Merkle tree over the blocks this manifest names. */
  treeCid: string;
  blocksCount: number;
  blockSize: number;
  /** Bytes of the original content: what a download returns. */
  datasetSize: number;
  filename?: string;
  mimetype?: string;
  protected?: ProtectedInfo;
  verifiable?: VerifiableInfo;
}

export type ManifestKind = "basic" | "protected" | "verifiable";

export function manifestKind(manifest: Manifest): ManifestKind {
  if (manifest.verifiable) return "verifiable";
  return manifest.protected ? "protected" : "basic";
}

/** Blocks holding the original content (the first ones of the tree, in every kind). */
export function originalBlocksCount(manifest: Manifest): number {
  return manifest.protected?.originalBlocksCount ?? manifest.blocksCount;
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  const ordered = {
    format: MANIFEST_FORMAT,
    treeCid: manifest.treeCid,
    blocksCount: manifest.blocksCount,
    blockSize: manifest.blockSize,
    datasetSize: manifest.datasetSize,
    filename: manifest.filename,
    mimetype: manifest.mimetype,
    protected: manifest.protected && {
      ecK: manifest.protected.ecK,
      ecM: manifest.protected.ecM,
      originalTreeCid: manifest.protected.originalTreeCid,
      originalBlocksCount: manifest.protected.originalBlocksCount,
    },
    verifiable: manifest.verifiable && {
      cellSize: manifest.verifiable.cellSize,
      slotBlocks: manifest.verifiable.slotBlocks,
      slotRoots: manifest.verifiable.slotRoots,
      datasetRoot: manifest.verifiable.datasetRoot,
    },
  };
  return new TextEncoder().encode(JSON.stringify(ordered));
}

export function manifestCid(bytes: Uint8Array): CID {
  return cidFromDigest(CODEC.manifest, sha256(bytes));
}

/** Decodes and checks a manifest; anything malformed or inconsistent is ERR_INVALID_MANIFEST. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid("it is not JSON", error);
  }
  if (!isObject(raw) || raw.format !== MANIFEST_FORMAT)
    throw invalid(`its format is not ${MANIFEST_FORMAT}`);
  const manifest: Manifest = {
    treeCid: cidField(raw, "treeCid"),
    blocksCount: intField(raw, "blocksCount", 1),
    blockSize: intField(raw, "blockSize", 1),
    datasetSize: intField(raw, "datasetSize", 0),
  };
  if (raw.filename !== undefined) manifest.filename = stringField(raw, "filename");
  if (raw.mimetype !== undefined) manifest.mimetype = stringField(raw, "mimetype");
  if (manifest.blockSize !== BLOCK_SIZE) throw invalid(`its block size is not ${BLOCK_SIZE}`);

  if (raw.protected !== undefined) {
    if (!isObject(raw.protected)) throw invalid("protected is not an object");
    const p = raw.protected;
    manifest.protected = {
      ecK: intField(p, "ecK", 1),
      ecM: intField(p, "ecM", 1),
      originalTreeCid: cidField(p, "originalTreeCid"),
      originalBlocksCount: intField(p, "originalBlocksCount", 1),
    };
  }
  const original = originalBlocksCount(manifest);
  if (Math.max(1, Math.ceil(manifest.datasetSize / BLOCK_SIZE)) !== original) {
    throw invalid(`its size ${manifest.datasetSize} does not fill ${original} blocks`);
  }
  if (manifest.protected) {
    const { ecK, ecM } = manifest.protected;
    const layout = guard(() => ecLayout(original, ecK, ecM));
    if (layout.blocksCount !== manifest.blocksCount) {
      throw invalid(
        `K=${ecK} M=${ecM} over ${original} blocks make ${layout.blocksCount} blocks, not ${manifest.blocksCount}`,
      );
    }
  }
  if (raw.verifiable !== undefined) {
    if (!manifest.protected) throw invalid("a verifiable manifest must be protected");
    if (!isObject(raw.verifiable)) throw invalid("verifiable is not an object");
    const v = raw.verifiable;
    const layout = ecLayout(original, manifest.protected.ecK, manifest.protected.ecM);
    const verifiable: VerifiableInfo = {
      cellSize: intField(v, "cellSize", 1),
      slotBlocks: intField(v, "slotBlocks", 1),
      slotRoots: Array.isArray(v.slotRoots)
        ? v.slotRoots.map((r) => rootField(r, "slotRoots"))
        : [],
      datasetRoot: rootField(v.datasetRoot, "datasetRoot"),
    };
    if (verifiable.cellSize !== CELL_SIZE) throw invalid(`its cell size is not ${CELL_SIZE}`);
    if (verifiable.slotBlocks !== slotGeometry(layout.steps).paddedSlotBlocks) {
      throw invalid("its slot size does not match its layout");
    }
    if (verifiable.slotRoots.length !== layout.slots)
      throw invalid(`it needs ${layout.slots} slot roots`);
    manifest.verifiable = verifiable;
  }
  return manifest;
}

function invalid(why: string, cause?: unknown): HoldfastError {
  return new HoldfastError("ERR_INVALID_MANIFEST", `invalid manifest: ${why}`, { cause });
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw isHoldfastError(error) ? invalid(error.message, error) : error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function intField(object: Record<string, unknown>, key: string, min: number): number {
  const value = object[key];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`${key} must be an integer >= ${min}`);
  }
  return value;
}

function stringField(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  if (typeof value !== "string" || value.length > 1024)
    throw invalid(`${key} must be a short string`);
  return value;
}

function cidField(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  if (typeof value !== "string") throw invalid(`${key} must be a CID string`);
  try {
    parseCid(value);
  } catch (error) {
    throw invalid(`${key} is not a CIDv1 with SHA-256`, error);
  }
  return value;
}

function rootField(value: unknown, key: string): string {
  if (typeof value !== "string" || fieldFromHex(value) === undefined) {
    throw invalid(`${key} must hold 0x-hex field elements (32 bytes little-endian, below r)`);
  }
  return value;
}
