/**
 * The records that make data visible: datasets, the trees they name and the packs those trees
 * live in, with reference counts so shared trees and packs are removed only with their last user.
 * Every change is one synchronous database batch: after a crash a dataset is either fully there or
 * not at all. Files are written before a commit and removed after a delete, so a crash can only
 * leave unreferenced files, which `sweep` removes at start.
 */
import { BLOCK_SIZE } from "../blocks/constants.js";
import { DIGEST_SIZE } from "../blocks/pack.js";
import { HoldfastError } from "../errors.js";
import type { Manifest } from "../manifest/manifest.js";
import { manifestKind } from "../manifest/manifest.js";
import { type BatchOp, type KeyValueStore, jsonValue, parseJsonValue } from "./database.js";
import { Quota } from "./quota.js";
import {
  type DatasetRecord,
  KEY,
  type PackRecord,
  type Segment,
  type TreeRecord,
} from "./records.js";

export function packBytes(blocks: number): number {
  return blocks * (BLOCK_SIZE + DIGEST_SIZE);
}

export interface NewDataset {
  manifestCid: string;
  manifestBytes: Uint8Array;
  manifest: Manifest;
  segments: Segment[];
  slotTrees?: { file: string; bytes: number };
}

export interface CommitResult {
  /** Manifest ids that were new (others were already stored: the commit changed nothing for them). */
  added: string[];
  /** Packs and slot-tree files of this commit that nothing references (duplicates): remove them. */
  unusedPacks: string[];
  unusedFiles: string[];
}

export interface DeleteResult {
  deadPacks: string[];
  deadFiles: string[];
}

export class DatasetRepository {
  private queue: Promise<unknown> = Promise.resolve();
  private storedBlocks = 0;

  private constructor(
    private readonly db: KeyValueStore,
    readonly quota: Quota,
  ) {}

  static async open(db: KeyValueStore, quotaBytes: number): Promise<DatasetRepository> {
    const repository = new DatasetRepository(db, new Quota(quotaBytes));
    for await (const [, value] of db.entries(KEY.prefix.pack)) {
      const pack = parseJsonValue<PackRecord>(value);
      repository.quota.addUsed(packBytes(pack.blocks));
      repository.storedBlocks += pack.blocks;
    }
    for await (const record of repository.datasets()) {
      repository.quota.addUsed(record.slotTrees?.bytes ?? 0);
    }
    return repository;
  }

  /** Blocks in committed packs. */
  get blocks(): number {
    return this.storedBlocks;
  }

  async *datasets(): AsyncIterable<DatasetRecord> {
    for await (const [, value] of this.db.entries(KEY.prefix.dataset)) {
      yield parseJsonValue<DatasetRecord>(value);
    }
  }

  async dataset(manifestCid: string): Promise<DatasetRecord | undefined> {
    return this.getJson<DatasetRecord>(KEY.dataset(manifestCid));
  }

  async tree(treeCid: string): Promise<TreeRecord | undefined> {
    return this.getJson<TreeRecord>(KEY.tree(treeCid));
  }

  /** A small block kept in the database (manifests), unverified. */
  async block(cid: string): Promise<Uint8Array | undefined> {
    return this.db.get(KEY.block(cid));
  }

  async packIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const [key] of this.db.entries(KEY.prefix.pack))
      ids.add(key.slice(KEY.prefix.pack.length));
    return ids;
  }

  /**
   * Makes datasets visible in one durable batch. `newPacks` are the packs written for them (already
   * durable on disk); a dataset or tree that already exists is not duplicated, and packs that end
   * up unreferenced are returned for removal.
   */
  commit(
    datasets: readonly NewDataset[],
    newPacks: readonly { id: string; blocks: number }[],
  ): Promise<CommitResult> {
    return this.serialize(async () => {
      const ops: BatchOp[] = [];
      const trees = new Map<string, TreeRecord>();
      const packs = new Map<string, PackRecord>(newPacks.map((p) => [p.id, { ...p, refs: 0 }]));
      const result: CommitResult = { added: [], unusedPacks: [], unusedFiles: [] };
      const createdAt = new Date().toISOString();

      for (const item of datasets) {
        if (result.added.includes(item.manifestCid) || (await this.dataset(item.manifestCid))) {
          if (item.slotTrees) result.unusedFiles.push(item.slotTrees.file);
          continue;
        }
        const { treeCid, blocksCount } = item.manifest;
        let tree = trees.get(treeCid) ?? (await this.tree(treeCid));
        if (tree) {
          tree = { ...tree, refs: tree.refs + 1 };
        } else {
          tree = { treeCid, blocksCount, segments: item.segments, refs: 1 };
          for (const segment of item.segments) {
            if (!("pack" in segment)) continue;
            const pack =
              packs.get(segment.pack) ?? (await this.getJson<PackRecord>(KEY.pack(segment.pack)));
            if (!pack) {
              throw new HoldfastError(
                "ERR_NOT_FOUND",
                `the blocks of ${item.manifest.treeCid} were deleted while this dataset was being written`,
              );
            }
            packs.set(pack.id, { ...pack, refs: pack.refs + 1 });
          }
        }
        trees.set(treeCid, tree);
        const record: DatasetRecord = {
          manifestCid: item.manifestCid,
          treeCid,
          kind: manifestKind(item.manifest),
          datasetSize: item.manifest.datasetSize,
          createdAt,
        };
        if (item.manifest.filename !== undefined) record.filename = item.manifest.filename;
        if (item.manifest.mimetype !== undefined) record.mimetype = item.manifest.mimetype;
        if (item.slotTrees) record.slotTrees = item.slotTrees;
        ops.push({ type: "put", key: KEY.dataset(item.manifestCid), value: jsonValue(record) });
        ops.push({ type: "put", key: KEY.block(item.manifestCid), value: item.manifestBytes });
        result.added.push(item.manifestCid);
      }
      for (const tree of trees.values())
        ops.push({ type: "put", key: KEY.tree(tree.treeCid), value: jsonValue(tree) });
      let addedBytes = 0;
      let addedBlocks = 0;
      for (const pack of packs.values()) {
        const isNew = newPacks.some((p) => p.id === pack.id);
        if (isNew && pack.refs === 0) {
          result.unusedPacks.push(pack.id);
          continue;
        }
        if (isNew) {
          addedBytes += packBytes(pack.blocks);
          addedBlocks += pack.blocks;
        }
        ops.push({ type: "put", key: KEY.pack(pack.id), value: jsonValue(pack) });
      }
      for (const item of datasets) {
        if (item.slotTrees && result.added.includes(item.manifestCid))
          addedBytes += item.slotTrees.bytes;
      }
      await this.db.write(ops, { sync: true });
      this.quota.addUsed(addedBytes);
      this.storedBlocks += addedBlocks;
      return result;
    });
  }

  /** Removes a dataset in one durable batch; returns the files nothing references any more. */
  delete(manifestCid: string): Promise<DeleteResult> {
    return this.serialize(async () => {
      const record = await this.dataset(manifestCid);
      if (!record)
        throw new HoldfastError("ERR_NOT_FOUND", `no dataset ${manifestCid} is stored here`);
      const ops: BatchOp[] = [
        { type: "del", key: KEY.dataset(manifestCid) },
        { type: "del", key: KEY.block(manifestCid) },
      ];
      const result: DeleteResult = { deadPacks: [], deadFiles: [] };
      let freedBytes = record.slotTrees?.bytes ?? 0;
      let freedBlocks = 0;
      if (record.slotTrees) result.deadFiles.push(record.slotTrees.file);
      const tree = await this.tree(record.treeCid);
      if (tree && tree.refs > 1) {
        ops.push({
          type: "put",
          key: KEY.tree(tree.treeCid),
          value: jsonValue({ ...tree, refs: tree.refs - 1 }),
        });
      } else if (tree) {
        ops.push({ type: "del", key: KEY.tree(tree.treeCid) });
        for (const segment of tree.segments) {
          if (!("pack" in segment)) continue;
          const pack = await this.getJson<PackRecord>(KEY.pack(segment.pack));
          if (!pack) continue;
          if (pack.refs > 1) {
            ops.push({
              type: "put",
              key: KEY.pack(pack.id),
              value: jsonValue({ ...pack, refs: pack.refs - 1 }),
            });
          } else {
            ops.push({ type: "del", key: KEY.pack(pack.id) });
            result.deadPacks.push(pack.id);
            freedBytes += packBytes(pack.blocks);
            freedBlocks += pack.blocks;
          }
        }
      }
      await this.db.write(ops, { sync: true });
      this.quota.addUsed(-freedBytes);
      this.storedBlocks -= freedBlocks;
      return result;
    });
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    const value = await this.db.get(key);
    return value === undefined ? undefined : parseJsonValue<T>(value);
  }

  /** Commits and deletes read-modify-write reference counts: one at a time. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
