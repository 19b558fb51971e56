import path from "node:path";
import type { CID } from "multiformats/cid";
import { CODEC } from "../blocks/constants.js";
import { manifestCid } from "../manifest/manifest.js";
import type { DataService } from "../dataset/service.js";
import { TreeReader } from "../dataset/tree-reader.js";
import type { BlockSource, TreeSource } from "./interfaces.js";
import type { SlotRecord, SlotStore } from "./slot-store.js";

type Location = { tree: string; index: number } | { slot: SlotRecord; position: number };

/**
 * What this node can serve to peers, by CID: the blocks of every stored tree (found through an
 * index of their digests, since the data layer addresses blocks by tree and position), the blocks
 * of slots fetched into the SlotStore, and manifests. Trees are indexed when `sync` sees them; each
 * tree's stored digests are checked against its id first, so the index never names a wrong block.
 */
export class LocalBlocks implements BlockSource, TreeSource {
  readonly #service: DataService;
  readonly #slots: SlotStore;
  readonly #packsDir: string;
  readonly #readers = new Map<string, TreeReader>();
  /** digest (base64) -> where the block is */
  readonly #index = new Map<string, Location>();
  readonly #manifests = new Map<string, Uint8Array>();
  /** Trees known only through a stored slot: their leaves are kept with the slot. */
  readonly #slotTrees = new Map<string, SlotRecord>();
  /** TreeReader caches one leaf chunk and is not safe for concurrent calls: one at a time. */
  #readerQueue: Promise<unknown> = Promise.resolve();

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#readerQueue.then(task, task);
    this.#readerQueue = run.catch(() => {});
    return run;
  }

  constructor(service: DataService, slots: SlotStore, dataDir: string) {
    this.#service = service;
    this.#slots = slots;
    // The data layer keeps its packs here (DataService.open); TreeReader reads them by tree record.
    this.#packsDir = path.join(dataDir, "packs");
  }

  /** Trees indexed so far. */
  get trees(): string[] {
    return [...this.#readers.keys()];
  }

  /** Indexes a stored tree (no-op if already indexed). */
  async addTree(treeCid: string, signal?: AbortSignal): Promise<boolean> {
    if (this.#readers.has(treeCid)) return true;
    const record = await this.#service.repository.tree(treeCid);
    if (!record) return false;
    const reader = new TreeReader(this.#packsDir, record);
    try {
      await reader.verifyRoot(signal);
      for (let i = 0; i < record.blocksCount; i++) {
        const key = Buffer.from(await reader.digest(i)).toString("base64");
        if (!this.#index.has(key)) this.#index.set(key, { tree: treeCid, index: i });
      }
    } catch (error) {
      await reader.close();
      throw error;
    }
    this.#readers.set(treeCid, reader);
    return true;
  }

  async removeTree(treeCid: string): Promise<void> {
    const reader = this.#readers.get(treeCid);
    if (!reader) return;
    this.#readers.delete(treeCid);
    for (const [key, location] of this.#index) {
      if ("tree" in location && location.tree === treeCid) this.#index.delete(key);
    }
    await reader.close();
  }

  addSlot(record: SlotRecord): void {
    record.digests.forEach((hex, position) => {
      const key = Buffer.from(hex, "hex").toString("base64");
      if (!this.#index.has(key)) this.#index.set(key, { slot: record, position });
    });
    this.#manifests.set(record.manifestCid, Buffer.from(record.manifestBytes, "base64"));
    this.#slotTrees.set(record.treeCid, record);
  }

  /**
   * Stops serving a slot deleted from the slot store. Blocks, tree and manifest that another stored
   * slot shares (`remaining`: the slot store's records now) stay served.
   */
  removeSlot(manifestCid: string, slot: number, remaining: readonly SlotRecord[]): void {
    const gone = (r: SlotRecord) => r.manifestCid === manifestCid && r.slot === slot;
    for (const [key, location] of this.#index)
      if ("slot" in location && gone(location.slot)) this.#index.delete(key);
    for (const [tree, record] of this.#slotTrees) if (gone(record)) this.#slotTrees.delete(tree);
    this.#manifests.delete(manifestCid);
    for (const record of remaining) this.addSlot(record);
  }

  async has(cid: CID): Promise<boolean> {
    if (cid.code === CODEC.manifest) return (await this.#manifest(cid)) !== undefined;
    return this.#index.has(Buffer.from(cid.multihash.digest).toString("base64"));
  }

  async get(cid: CID): Promise<Uint8Array | undefined> {
    if (cid.code === CODEC.manifest) return this.#manifest(cid);
    const location = this.#index.get(Buffer.from(cid.multihash.digest).toString("base64"));
    if (!location) return undefined;
    if ("slot" in location) return this.#slots.read(location.slot, location.position);
    const reader = this.#readers.get(location.tree);
    if (!reader) return undefined;
    return this.#serial(() => reader.readVerified(location.index)).catch(() => undefined);
  }

  async leaves(tree: CID, start: number, count: number): Promise<Uint8Array[] | undefined> {
    const reader = this.#readers.get(tree.toString());
    if (!reader) {
      const slot = this.#slotTrees.get(tree.toString());
      // A slot deleted meanwhile has no leaves file any more.
      return slot ? this.#slots.leaves(slot, start, count).catch(() => undefined) : undefined;
    }
    const end = Math.min(reader.blocksCount, start + count);
    return this.#serial(async () => {
      const out: Uint8Array[] = [];
      for (let i = start; i < end; i++) out.push((await reader.digest(i)).slice());
      return out;
    });
  }

  /** Stored manifest bytes, checked against the CID (a slot holder serves its slot's manifest). */
  async #manifest(cid: CID): Promise<Uint8Array | undefined> {
    const bytes =
      (await this.#service.repository.block(cid.toString())) ?? this.#manifests.get(cid.toString());
    if (!bytes) return undefined;
    return manifestCid(bytes).equals(cid) ? bytes : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#readers.values()].map((r) => r.close()));
    this.#readers.clear();
    this.#index.clear();
  }
}
