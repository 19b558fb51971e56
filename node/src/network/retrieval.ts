import type { CID } from "multiformats/cid";
import { ZERO_BLOCK, ZERO_BLOCK_DIGEST, cidFromDigest, parseCid } from "../blocks/cid.js";
import { CODEC } from "../blocks/constants.js";
import { type VerifiedBlocks, readDataset, recoverBlock } from "../dataset/download.js";
import type { DataService } from "../dataset/service.js";
import { type EcLayout, ecLayout, slotBlockIndex } from "../erasure/layout.js";
import { ReedSolomon } from "../erasure/reed-solomon.js";
import { HoldfastError } from "../errors.js";
import { type Manifest, decodeManifest, originalBlocksCount } from "../manifest/manifest.js";
import { slotProviderKey } from "./discovery.js";
import type { DownloadProgress } from "./downloader.js";
import type { BlockSource } from "./interfaces.js";
import type { LocalBlocks } from "./local-blocks.js";
import type { Network } from "./network.js";
import { type SlotRecord, SlotStore } from "./slot-store.js";

export interface RetrievalComponents {
  network: Network;
  service: DataService;
  local: LocalBlocks;
  slots: SlotStore;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Missing blocks rebuilt at once during slot repair: bounds memory to K * this many blocks. */
const REPAIR_BATCH = 64;

const isZero = (cid: CID) => Buffer.from(cid.multihash.digest).equals(ZERO_BLOCK_DIGEST);

/**
 * The blocks this node can use without the network: its store, plus the all-zero block that pads
 * protected datasets (every node can make it, so it is never fetched).
 */
export function withZeroBlock(source: BlockSource): BlockSource {
  return {
    has: async (cid) => isZero(cid) || source.has(cid),
    get: async (cid, options) => (isZero(cid) ? ZERO_BLOCK.slice() : source.get(cid, options)),
  };
}

/**
 * Getting datasets and slots from the network into this node, and keeping what it stores announced:
 * the composition of the data layer (manifests, trees, erasure decoding, storage) with the
 * networking (discovery, block exchange).
 */
export class Retrieval {
  readonly #c: RetrievalComponents;
  readonly #announcedTrees = new Map<string, CID[]>();

  constructor(components: RetrievalComponents) {
    this.#c = components;
  }

  /**
   * Indexes and announces everything stored (datasets with their trees and, for protected ones,
   * every slot key; single slots in the slot store), and withdraws what was deleted.
   */
  async sync(signal?: AbortSignal): Promise<void> {
    const { network, service, local, slots } = this.#c;
    const seen = new Set<string>();
    for (const record of await service.list()) {
      seen.add(record.manifestCid);
      if (this.#announcedTrees.has(record.manifestCid)) continue;
      if (!(await local.addTree(record.treeCid, signal))) continue;
      const keys: CID[] = [parseCid(record.manifestCid), parseCid(record.treeCid)];
      if (record.kind !== "basic") {
        const manifest = await service.manifest(record.manifestCid);
        const slotCount = manifest.protected!.ecK + manifest.protected!.ecM;
        for (let s = 0; s < slotCount; s++) keys.push(slotProviderKey(keys[0]!, s));
      }
      network.announce(keys);
      this.#announcedTrees.set(record.manifestCid, keys);
    }
    for (const record of slots.records()) {
      const id = `${record.manifestCid}#${record.slot}`;
      seen.add(id);
      if (this.#announcedTrees.has(id)) continue;
      local.addSlot(record);
      // The dataset id too: whoever repairs another slot must find this holder to get the
      // manifest and the tree's leaves, and the other slots' blocks.
      const dataset = parseCid(record.manifestCid);
      const keys = [slotProviderKey(dataset, record.slot), dataset];
      network.announce(keys);
      this.#announcedTrees.set(id, keys);
    }
    // Withdrawn: keys of what is gone that nothing still held shares (several slots of a dataset
    // announce the dataset's id each).
    const kept = new Set<string>();
    for (const [id, keys] of this.#announcedTrees)
      if (seen.has(id)) for (const key of keys) kept.add(key.toString());
    for (const [id, keys] of this.#announcedTrees) {
      if (seen.has(id)) continue;
      this.#announcedTrees.delete(id);
      network.withdraw(keys.filter((key) => !kept.has(key.toString())));
      const slot = /^(.+)#(\d+)$/.exec(id);
      if (slot) local.removeSlot(slot[1]!, Number(slot[2]), slots.records());
      else await local.removeTree(keys[1]!.toString());
    }
  }

  /** A manifest from the store or else from the network (checked against its id, then decoded). */
  async manifest(
    id: CID,
    signal?: AbortSignal,
  ): Promise<{ manifest: Manifest; bytes: Uint8Array; local: boolean }> {
    const stored = await this.#c.service.repository.block(id.toString());
    if (stored)
      return {
        manifest: await this.#c.service.manifest(id.toString()),
        bytes: stored,
        local: true,
      };
    for await (const block of this.#c.network.download({
      cids: [id],
      providerKeys: [id],
      signal,
    })) {
      return { manifest: decodeManifest(block.bytes!), bytes: block.bytes!, local: false };
    }
    throw new Error("internal: a one-block download delivered nothing");
  }

  /** The block ids of a manifest's tree, fetched from providers and verified against the tree. */
  async blockCids(manifest: Manifest, providerKeys: CID[], signal?: AbortSignal): Promise<CID[]> {
    const leaves = await this.#c.network.fetchLeaves({
      tree: parseCid(manifest.treeCid),
      count: manifest.blocksCount,
      providerKeys,
      signal,
    });
    return leaves.map((digest) => cidFromDigest(CODEC.block, digest));
  }

  /**
   * Downloads a dataset from the network, streaming its original bytes (blocks that no provider
   * has are rebuilt by erasure decoding for protected datasets) while storing it: the stored
   * dataset gets the same id, checked before the stream ends. A dataset already stored is streamed
   * from the store.
   */
  async download(
    idText: string,
    options: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
  ): Promise<{ manifest: Manifest; stream: AsyncIterable<Uint8Array> }> {
    const id = parseCid(idText);
    const { signal } = options;
    const found = await this.manifest(id, signal);
    if (found.local) return this.#c.service.download(id.toString(), { signal });
    const { manifest } = found;
    const keys = [id, parseCid(manifest.treeCid)];
    const cids = await this.blockCids(manifest, keys, signal);
    const blocks = new NetworkBlocks(this.#c.network, cids, keys, originalBlocksCount(manifest), {
      signal,
      onProgress: options.onProgress,
    });
    const bytes = readDataset(blocks, manifest, {
      signal,
      onRecovered: (index) =>
        this.#c.log?.warn({ id: idText, index }, "block not found: rebuilt by erasure decoding"),
    });
    return { manifest, stream: this.#store(id, manifest, bytes, signal) };
  }

  /** Passes the bytes on while uploading them; ends (or fails) once the stored id is checked. */
  async *#store(
    id: CID,
    manifest: Manifest,
    bytes: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): AsyncGenerator<Uint8Array> {
    const channel = new Channel<Uint8Array>(4);
    const meta = { filename: manifest.filename, mimetype: manifest.mimetype };
    const upload = this.#c.service.upload(channel, meta, { signal });
    upload.catch(() => {}); // awaited below
    try {
      for await (const chunk of bytes) {
        await channel.push(chunk);
        yield chunk;
      }
      channel.end();
      let stored = (await upload).cid;
      if (manifest.protected) {
        const result = await this.#c.service.protect(stored, manifest.protected);
        stored = manifest.verifiable ? result.verifiableCid : result.protectedCid;
      }
      if (stored !== id.toString()) {
        throw new HoldfastError(
          "ERR_CORRUPT_BLOCK",
          `the downloaded dataset was stored as ${stored}, not ${id.toString()}`,
        );
      }
      await this.sync(signal);
    } catch (error) {
      channel.fail(error);
      await upload.catch(() => {});
      throw error;
    } finally {
      channel.fail(new Error("download stopped"));
    }
  }

  /**
   * Fetches exactly the blocks of one slot of a protected dataset into the slot store, and serves
   * it from then on. Blocks that no provider delivers are rebuilt from the other slots by erasure
   * decoding: this is how a slot whose holder vanished is repaired. Returns how many were rebuilt.
   */
  async fetchSlot(
    idText: string,
    slot: number,
    options: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void } = {},
  ): Promise<{ rebuilt: number; blocks: number }> {
    const id = parseCid(idText);
    const { signal } = options;
    const { manifest, bytes } = await this.manifest(id, signal);
    if (!manifest.protected) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `dataset ${idText} is not erasure coded, so it has no slots`,
      );
    }
    const layout = ecLayout(
      originalBlocksCount(manifest),
      manifest.protected.ecK,
      manifest.protected.ecM,
    );
    if (!Number.isInteger(slot) || slot < 0 || slot >= layout.slots) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `slot ${slot} is outside 0..${layout.slots - 1}`,
      );
    }
    if (this.#c.slots.has(id.toString(), slot)) return { rebuilt: 0, blocks: layout.steps };
    const allKeys = [id, ...Array.from({ length: layout.slots }, (_, s) => slotProviderKey(id, s))];
    const tree = parseCid(manifest.treeCid);
    const leaves = await this.#c.network.fetchLeaves({
      tree,
      count: manifest.blocksCount,
      providerKeys: allKeys,
      signal,
    });
    const cids = leaves.map((digest) => cidFromDigest(CODEC.block, digest));
    const start = slotBlockIndex(layout, slot, 0);
    const record: SlotRecord = {
      manifestCid: id.toString(),
      manifestBytes: Buffer.from(bytes).toString("base64"),
      treeCid: manifest.treeCid,
      slot,
      start,
      count: layout.steps,
      digests: cids
        .slice(start, start + layout.steps)
        .map((c) => Buffer.from(c.multihash.digest).toString("hex")),
    };
    let rebuilt = 0;
    const network = this.#c.network;
    const log = this.#c.log;
    async function* blocks(): AsyncGenerator<{ position: number; bytes: Uint8Array }> {
      const missing: number[] = [];
      for await (const block of network.download({
        cids: cids.slice(start, start + layout.steps),
        providerKeys: [slotProviderKey(id, slot), id],
        onMissing: "skip",
        signal,
        onProgress: options.onProgress,
      })) {
        if (block.bytes) yield { position: block.index, bytes: block.bytes };
        else missing.push(block.index);
      }
      if (missing.length > 0)
        log?.warn({ id: idText, slot, missing: missing.length }, "rebuilding");
      for (let i = 0; i < missing.length; i += REPAIR_BATCH) {
        const batch = missing.slice(i, i + REPAIR_BATCH);
        for (const [position, bytes] of await rebuild(
          network,
          cids,
          allKeys,
          layout,
          slot,
          batch,
          signal,
        )) {
          rebuilt++;
          yield { position, bytes };
        }
      }
    }
    // Slots count against the node's storage quota like uploads: reserved while written.
    const quota = this.#c.service.repository.quota;
    const slotBytes = SlotStore.bytes(record, leaves.length);
    quota.reserve(slotBytes);
    try {
      await this.#c.slots.write(record, leaves, blocks());
      quota.addUsed(slotBytes);
    } finally {
      quota.release(slotBytes);
    }
    await this.sync(signal);
    return { rebuilt, blocks: layout.steps };
  }
}

/**
 * Rebuilds slot positions from the other slots: fetches the codewords' other blocks in one
 * download, then decodes each lost block with the data layer's decoder (which checks the result
 * against the block's id).
 */
async function rebuild(
  network: Network,
  cids: CID[],
  keys: CID[],
  layout: EcLayout,
  slot: number,
  positions: number[],
  signal?: AbortSignal,
): Promise<Map<number, Uint8Array>> {
  const wanted = new Set<number>();
  for (const step of positions) {
    for (let s = 0; s < layout.slots; s++)
      if (s !== slot) wanted.add(slotBlockIndex(layout, s, step));
  }
  const indexes = [...wanted].sort((a, b) => a - b);
  const have = new Map<number, Uint8Array>();
  for await (const block of network.download({
    cids: indexes.map((i) => cids[i]!),
    providerKeys: keys,
    onMissing: "skip",
    signal,
  })) {
    if (block.bytes) have.set(indexes[block.index]!, block.bytes);
  }
  const source: VerifiedBlocks = {
    readVerified: async (index) => {
      const bytes = have.get(index);
      if (!bytes) throw new HoldfastError("ERR_CORRUPT_BLOCK", `block ${index} was not found`);
      return bytes;
    },
    digest: async (index) => cids[index]!.multihash.digest,
  };
  const code = new ReedSolomon(layout.ecK, layout.ecM);
  const out = new Map<number, Uint8Array>();
  for (const step of positions) {
    out.set(step, await recoverBlock(source, layout, code, slotBlockIndex(layout, slot, step)));
  }
  return out;
}

/**
 * A tree's blocks as the data layer's reader expects them (VerifiedBlocks), fetched from the
 * network: the first `sequential` blocks through one in-order download (read in order, as
 * readDataset does), any other block (erasure decoding) by a download of its own.
 */
class NetworkBlocks implements VerifiedBlocks {
  readonly #network: Network;
  readonly #cids: CID[];
  readonly #keys: CID[];
  readonly #signal: AbortSignal | undefined;
  readonly #iterator: AsyncIterator<{ index: number; bytes: Uint8Array | undefined }>;
  #next = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    network: Network,
    cids: CID[],
    keys: CID[],
    sequential: number,
    options: { signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void },
  ) {
    this.#network = network;
    this.#cids = cids;
    this.#keys = keys;
    this.#signal = options.signal;
    const blocks = network.download({
      cids: cids.slice(0, sequential),
      providerKeys: keys,
      onMissing: "skip",
      signal: options.signal,
      onProgress: options.onProgress,
    });
    this.#iterator = blocks[Symbol.asyncIterator]();
  }

  async digest(index: number): Promise<Uint8Array> {
    return this.#cids[index]!.multihash.digest;
  }

  readVerified(index: number): Promise<Uint8Array> {
    if (index !== this.#next) return this.#fetchOne(index);
    this.#next++;
    const read = this.#queue.then(async () => {
      const { value, done } = await this.#iterator.next();
      if (done || value.index !== index) throw new Error("internal: blocks read out of order");
      if (!value.bytes) {
        throw new HoldfastError("ERR_CORRUPT_BLOCK", `no provider delivered block ${index}`);
      }
      return value.bytes;
    });
    this.#queue = read.catch(() => {});
    return read;
  }

  async #fetchOne(index: number): Promise<Uint8Array> {
    for await (const block of this.#network.download({
      cids: [this.#cids[index]!],
      providerKeys: this.#keys,
      onMissing: "skip",
      signal: this.#signal,
    })) {
      if (block.bytes) return block.bytes;
    }
    throw new HoldfastError("ERR_CORRUPT_BLOCK", `no provider delivered block ${index}`);
  }
}

/** A bounded hand-over from a producer to an async-iterating consumer (the upload). */
class Channel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #ended = false;
  #error: unknown;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  async push(item: T): Promise<void> {
    while (this.#items.length >= this.#capacity && this.#error === undefined) {
      await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
    }
    if (this.#error !== undefined) throw this.#error;
    this.#items.push(item);
    this.#wake();
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  fail(error: unknown): void {
    if (this.#ended && this.#items.length === 0) return;
    this.#error ??= error;
    this.#wake();
  }

  #wake(): void {
    this.#wakeConsumer?.();
    this.#wakeProducer?.();
    this.#wakeConsumer = this.#wakeProducer = undefined;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.#items.length > 0) {
        yield this.#items.shift()!;
        this.#wake();
        continue;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
  }
}
