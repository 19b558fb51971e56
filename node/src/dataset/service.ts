/**
 * The node's data layer as one service: upload, download, protect (erasure coding plus slot and
 * dataset roots), delete, list, space, and cell proofs. It composes the pack files (blocks/), the
 * records (store/), erasure coding (erasure/) and slot trees (slots/); the API and CLI only call it.
 */
import { type FileHandle, mkdir, open, readdir, rm } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { ZERO_BLOCK, parseCid } from "../blocks/cid.js";
import { BLOCK_SIZE } from "../blocks/constants.js";
import { BlockSplitter } from "../blocks/chunker.js";
import { PackWriter, removePack, syncDirectory } from "../blocks/pack.js";
import { Sha256TreeBuilder, treeCidFromRoot } from "../blocks/sha256-tree.js";
import { HoldfastError, throwIfAborted } from "../errors.js";
import { crashPoint } from "../fault.js";
import { ecLayout } from "../erasure/layout.js";
import {
  type Manifest,
  decodeManifest,
  encodeManifest,
  manifestCid,
  originalBlocksCount,
} from "../manifest/manifest.js";
import { fieldToHex } from "../slots/field.js";
import { BLOCK_TREE_DEPTH, CELL_SIZE, CELLS_PER_BLOCK, slotGeometry } from "../slots/geometry.js";
import {
  type BlockRootHasher,
  type Poseidon2Trees,
  blockTreeLayers,
  pathFromLayers,
} from "../slots/hasher.js";
import { SlotTreeLayout, readSlotTreePath, writeSlotTree } from "../slots/slot-tree-file.js";
import type { KeyValueStore } from "../store/database.js";
import type { DatasetRecord, Segment } from "../store/records.js";
import { DatasetRepository, packBytes } from "../store/repository.js";
import { readDataset } from "./download.js";
import { protectDataset } from "./protect.js";
import { TreeReader } from "./tree-reader.js";

export interface DataServiceOptions {
  dataDir: string;
  db: KeyValueStore;
  quotaBytes: number;
  /** Largest accepted upload in bytes; unlimited by default (the quota still applies). */
  maxUploadBytes?: number;
  hashing: { trees: Poseidon2Trees; roots: BlockRootHasher };
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface Space {
  quotaBytes: number;
  usedBytes: number;
  reservedBytes: number;
  availableBytes: number;
  storedBlocks: number;
}

export interface CellProof {
  slotIndex: number;
  cellIndex: number;
  cellsPerSlot: number;
  cell: Uint8Array;
  cellHash: bigint;
  /** Siblings in the cell's block tree (BLOCK_TREE_DEPTH levels), then in the slot tree. */
  blockPath: bigint[];
  slotPath: bigint[];
  blockRoot: bigint;
  slotRoot: bigint;
}

const NO_LOG = { info() {}, warn() {} };

export class DataService {
  private constructor(
    private readonly options: DataServiceOptions,
    readonly repository: DatasetRepository,
    private readonly packsDir: string,
    private readonly slotsDir: string,
  ) {}

  static async open(options: DataServiceOptions): Promise<DataService> {
    const packsDir = path.join(options.dataDir, "packs");
    const slotsDir = path.join(options.dataDir, "slots");
    await mkdir(packsDir, { recursive: true });
    await mkdir(slotsDir, { recursive: true });
    const repository = await DatasetRepository.open(options.db, options.quotaBytes);
    const service = new DataService(options, repository, packsDir, slotsDir);
    await service.sweep();
    return service;
  }

  private get log() {
    return this.options.log ?? NO_LOG;
  }

  /** Removes files no record references: what a crash in the middle of a write leaves. */
  private async sweep(): Promise<void> {
    const packs = await this.repository.packIds();
    const slotFiles = new Set<string>();
    for await (const record of this.repository.datasets()) {
      if (record.slotTrees) slotFiles.add(record.slotTrees.file);
    }
    let removed = 0;
    for (const name of await readdir(this.packsDir)) {
      if (!packs.has(name.replace(/\.(blocks|leaves)$/, ""))) {
        await rm(path.join(this.packsDir, name), { force: true });
        removed++;
      }
    }
    for (const name of await readdir(this.slotsDir)) {
      if (!slotFiles.has(name)) {
        await rm(path.join(this.slotsDir, name), { force: true });
        removed++;
      }
    }
    if (removed > 0) this.log.warn({ removed }, "removed files left by an interrupted write");
  }

  space(): Space {
    const { quota } = this.repository;
    return {
      quotaBytes: quota.limit,
      usedBytes: quota.used,
      reservedBytes: quota.reserved,
      availableBytes: quota.available,
      storedBlocks: this.repository.blocks,
    };
  }

  async list(): Promise<DatasetRecord[]> {
    const records: DatasetRecord[] = [];
    for await (const record of this.repository.datasets()) records.push(record);
    return records;
  }

  /**
   * Stores a byte stream as a dataset and returns its manifest id. The blocks go to a new pack;
   * the dataset becomes visible only in the final commit, so a failure or crash before it leaves
   * nothing that a restart would show. The chunks of `source` are written as they are, not copied:
   * a source must not change a chunk after yielding it.
   */
  async upload(
    source: AsyncIterable<Uint8Array>,
    meta: { filename?: string; mimetype?: string } = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<{ cid: string; manifest: Manifest }> {
    const pack = await PackWriter.create(this.packsDir);
    let reserved = 0;
    let committed = false;
    // Reserves quota for the blocks `bytes` of stream fill, before they are written.
    const reserveFor = (bytes: number) => {
      const needed = packBytes(Math.max(1, Math.ceil(bytes / BLOCK_SIZE))) - reserved;
      if (needed <= 0) return;
      this.repository.quota.reserve(needed);
      reserved += needed;
    };
    try {
      const maxBytes = this.options.maxUploadBytes ?? Number.MAX_SAFE_INTEGER;
      const tree = new Sha256TreeBuilder();
      // Each block is hashed and written from the views of the chunks it spans: no copies.
      let hash = createHash("sha256");
      const splitter = new BlockSplitter({
        piece(bytes) {
          hash.update(bytes);
          pack.appendBytes(bytes);
        },
        blockEnd() {
          const digest = hash.digest();
          hash = createHash("sha256");
          tree.push(digest);
          pack.appendDigest(digest);
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
        reserveFor(splitter.bytes + chunk.length);
        splitter.push(chunk);
        if (pack.congested) await pack.drain();
      }
      throwIfAborted(options.signal);
      reserveFor(splitter.bytes);
      splitter.end();
      const manifest: Manifest = {
        treeCid: treeCidFromRoot(tree.root()).toString(),
        blocksCount: pack.count,
        blockSize: BLOCK_SIZE,
        datasetSize: splitter.bytes,
      };
      if (meta.filename) manifest.filename = meta.filename;
      if (meta.mimetype) manifest.mimetype = meta.mimetype;
      const bytes = encodeManifest(manifest);
      const cid = manifestCid(bytes).toString();
      await pack.finish();
      crashPoint("upload:before-commit");
      const result = await this.repository.commit(
        [
          {
            manifestCid: cid,
            manifestBytes: bytes,
            manifest,
            segments: [{ pack: pack.id, count: pack.count }],
          },
        ],
        [{ id: pack.id, blocks: pack.count }],
      );
      committed = true;
      crashPoint("upload:after-commit");
      for (const id of result.unusedPacks) await removePack(this.packsDir, id);
      this.log.info(
        { cid, bytes: manifest.datasetSize, blocks: manifest.blocksCount },
        "stored dataset",
      );
      return { cid, manifest };
    } catch (error) {
      if (!committed) await pack.discard();
      throw error;
    } finally {
      this.repository.quota.release(reserved);
    }
  }

  /** The manifest of a stored dataset; ERR_INVALID_CID or ERR_NOT_FOUND otherwise. */
  async manifest(cidText: string): Promise<Manifest> {
    const cid = parseCid(cidText).toString();
    const bytes = await this.repository.block(cid);
    if (!bytes) throw new HoldfastError("ERR_NOT_FOUND", `no dataset ${cid} is stored here`);
    if (
      !Buffer.from(manifestCid(bytes).multihash.digest).equals(
        Buffer.from(parseCid(cid).multihash.digest),
      )
    ) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `the stored manifest ${cid} does not match its id`,
      );
    }
    return decodeManifest(bytes);
  }

  private async reader(
    treeCid: string,
    signal?: AbortSignal,
    options: { readRuns?: boolean } = {},
  ): Promise<TreeReader> {
    const record = await this.repository.tree(treeCid);
    if (!record)
      throw new HoldfastError("ERR_NOT_FOUND", `the blocks of tree ${treeCid} are not stored here`);
    const reader = new TreeReader(this.packsDir, record, options);
    try {
      await reader.verifyRoot(signal);
      return reader;
    } catch (error) {
      await reader.close();
      throw error;
    }
  }

  /**
   * Opens a dataset for download: the manifest now (so errors come before any byte is sent), the
   * bytes as a stream that verifies every block and, for protected datasets, decodes lost ones.
   */
  async download(
    cid: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ manifest: Manifest; stream: AsyncIterable<Uint8Array> }> {
    const manifest = await this.manifest(cid);
    const reader = await this.reader(manifest.treeCid, options.signal, { readRuns: true });
    const log = this.log;
    async function* stream() {
      try {
        yield* readDataset(reader, manifest, {
          signal: options.signal,
          onRecovered: (index) =>
            log.warn({ cid, index }, "block lost or corrupt: recovered by erasure decoding"),
        });
      } finally {
        await reader.close();
      }
    }
    return { manifest, stream: stream() };
  }

  /**
   * Erasure codes a stored dataset with K data and M parity slots and builds its slot trees and
   * dataset root. Stores and returns two manifests: the protected one and the verifiable one.
   */
  async protect(
    cid: string,
    params: { ecK: number; ecM: number },
    options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<{ protectedCid: string; verifiableCid: string; manifest: Manifest }> {
    const original = await this.manifest(cid);
    if (original.protected) {
      throw new HoldfastError("ERR_INVALID_ARGUMENT", `dataset ${cid} is already erasure coded`);
    }
    const layout = ecLayout(original.blocksCount, params.ecK, params.ecM);
    const geometry = slotGeometry(layout.steps);
    const treeLayout = new SlotTreeLayout(geometry.paddedSlotBlocks);
    const slotBytes = treeLayout.fileBytes(layout.slots);
    const parityBlocks = layout.ecM * layout.steps;
    const reserved = packBytes(parityBlocks) + slotBytes;
    this.repository.quota.reserve(reserved);
    const slotFile = `${randomBytes(12).toString("hex")}.slottrees`;
    let reader: TreeReader | undefined;
    let parityPack: PackWriter | undefined;
    let slotHandle: FileHandle | undefined;
    let committed = false;
    try {
      reader = await this.reader(original.treeCid, options.signal);
      const treeRecord = reader.record;
      parityPack = await PackWriter.create(this.packsDir);
      slotHandle = await open(path.join(this.slotsDir, slotFile), "wx");
      const [source, pack, handle] = [reader, parityPack, slotHandle];
      const result = await protectDataset(
        {
          count: original.blocksCount,
          read: (i) => source.readVerified(i),
          digest: (i) => source.digest(i),
        },
        params,
        this.options.hashing,
        {
          parity: (position, block, digest) => pack.writeAt(position, block, digest),
          slotTree: (slot, layers) => writeSlotTree(handle, treeLayout, slot, layers),
        },
        options,
      );
      const protectedManifest: Manifest = {
        ...original,
        treeCid: result.protectedTreeCid.toString(),
        blocksCount: layout.blocksCount,
        protected: {
          ecK: layout.ecK,
          ecM: layout.ecM,
          originalTreeCid: original.treeCid,
          originalBlocksCount: original.blocksCount,
        },
      };
      const verifiableManifest: Manifest = {
        ...protectedManifest,
        verifiable: {
          cellSize: CELL_SIZE,
          slotBlocks: geometry.paddedSlotBlocks,
          slotRoots: result.slotRoots.map(fieldToHex),
          datasetRoot: fieldToHex(result.datasetRoot),
        },
      };
      await pack.finish();
      await handle.datasync();
      await handle.close();
      await syncDirectory(this.slotsDir);
      const segments: Segment[] = [
        ...treeRecord.segments,
        ...(layout.rounded > original.blocksCount
          ? [{ zero: layout.rounded - original.blocksCount }]
          : []),
        { pack: parityPack.id, count: parityBlocks },
      ];
      const entries = [protectedManifest, verifiableManifest].map((manifest) => {
        const bytes = encodeManifest(manifest);
        return {
          manifest,
          manifestBytes: bytes,
          manifestCid: manifestCid(bytes).toString(),
          segments,
        };
      });
      const [protectedEntry, verifiableEntry] = entries as [
        (typeof entries)[0],
        (typeof entries)[0],
      ];
      const outcome = await this.repository.commit(
        [protectedEntry, { ...verifiableEntry, slotTrees: { file: slotFile, bytes: slotBytes } }],
        [{ id: parityPack.id, blocks: parityBlocks }],
      );
      committed = true;
      for (const id of outcome.unusedPacks) await removePack(this.packsDir, id);
      for (const file of outcome.unusedFiles)
        await rm(path.join(this.slotsDir, file), { force: true });
      this.log.info(
        {
          cid,
          protectedCid: protectedEntry.manifestCid,
          verifiableCid: verifiableEntry.manifestCid,
          ecK: layout.ecK,
          ecM: layout.ecM,
        },
        "protected dataset",
      );
      return {
        protectedCid: protectedEntry.manifestCid,
        verifiableCid: verifiableEntry.manifestCid,
        manifest: verifiableManifest,
      };
    } catch (error) {
      if (!committed) {
        await parityPack?.discard();
        await slotHandle?.close().catch(() => undefined);
        await rm(path.join(this.slotsDir, slotFile), { force: true });
      }
      throw error;
    } finally {
      this.repository.quota.release(reserved);
      await reader?.close();
    }
  }

  /** Deletes a dataset; blocks shared with other datasets stay. */
  async delete(cid: string): Promise<void> {
    const key = parseCid(cid).toString();
    const { deadPacks, deadFiles } = await this.repository.delete(key);
    for (const id of deadPacks) await removePack(this.packsDir, id);
    for (const file of deadFiles) await rm(path.join(this.slotsDir, file), { force: true });
    this.log.info({ cid: key }, "deleted dataset");
  }

  /**
   * The proof for one cell of a slot of a verifiable dataset: hashes one block (its block tree),
   * reads the rest of the path from the persisted slot tree, never rehashing the slot.
   */
  async cellProof(cid: string, slotIndex: number, cellIndex: number): Promise<CellProof> {
    const manifest = await this.manifest(cid);
    const record = await this.repository.dataset(parseCid(cid).toString());
    if (!manifest.verifiable || !manifest.protected || !record?.slotTrees) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `dataset ${cid} is not verifiable: protect it first`,
      );
    }
    const layout = ecLayout(
      originalBlocksCount(manifest),
      manifest.protected.ecK,
      manifest.protected.ecM,
    );
    const geometry = slotGeometry(layout.steps);
    if (!Number.isInteger(slotIndex) || slotIndex < 0 || slotIndex >= layout.slots) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `slot ${slotIndex} is outside 0..${layout.slots - 1}`,
      );
    }
    if (!Number.isInteger(cellIndex) || cellIndex < 0 || cellIndex >= geometry.cellsPerSlot) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `cell ${cellIndex} is outside 0..${geometry.cellsPerSlot - 1}`,
      );
    }
    const blockPosition = Math.floor(cellIndex / CELLS_PER_BLOCK);
    const cellInBlock = cellIndex % CELLS_PER_BLOCK;
    let block: Uint8Array = ZERO_BLOCK;
    if (blockPosition < layout.steps) {
      const record = await this.repository.tree(manifest.treeCid);
      if (!record)
        throw new HoldfastError("ERR_NOT_FOUND", `the blocks of ${cid} are not stored here`);
      const reader = new TreeReader(this.packsDir, record);
      try {
        block = await reader.readVerified(slotIndex * layout.steps + blockPosition);
      } finally {
        await reader.close();
      }
    }
    const blockLayers = blockTreeLayers(this.options.hashing.trees, block);
    const blockRoot = blockLayers.at(-1)![0]!;
    const slot = await readSlotTreePath(
      path.join(this.slotsDir, record.slotTrees.file),
      new SlotTreeLayout(geometry.paddedSlotBlocks),
      slotIndex,
      blockPosition,
    );
    // The chain of trust: block bytes -> block root == stored slot-tree leaf, root == manifest's.
    if (
      slot.leaf !== blockRoot ||
      fieldToHex(slot.root) !== manifest.verifiable.slotRoots[slotIndex]
    ) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `the stored slot tree of slot ${slotIndex} of ${cid} does not match its data`,
      );
    }
    const blockPath = pathFromLayers(blockLayers, cellInBlock);
    if (blockPath.length !== BLOCK_TREE_DEPTH) throw new Error("internal: block tree depth");
    return {
      slotIndex,
      cellIndex,
      cellsPerSlot: geometry.cellsPerSlot,
      cell: block.slice(cellInBlock * CELL_SIZE, (cellInBlock + 1) * CELL_SIZE),
      cellHash: blockLayers[0]![cellInBlock]!,
      blockPath,
      slotPath: slot.path,
      blockRoot,
      slotRoot: slot.root,
    };
  }

  async close(): Promise<void> {
    await this.options.hashing.roots.close();
  }
}
