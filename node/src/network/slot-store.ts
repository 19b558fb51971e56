import { createHash, randomBytes } from "node:crypto";
import {
  type FileHandle,
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
} from "node:fs/promises";
import path from "node:path";
import { BLOCK_SIZE } from "../blocks/constants.js";

/** What a host keeps about one slot it fetched: enough to serve it and to name its blocks. */
export interface SlotRecord {
  /** The (protected or verifiable) manifest the slot belongs to, and its bytes to serve. */
  manifestCid: string;
  manifestBytes: string; // base64
  treeCid: string;
  slot: number;
  /** Tree index of the slot's first block; the slot is [start, start + count). */
  start: number;
  count: number;
  /** SHA-256 digests of the slot's blocks, hex, in order. */
  digests: string[];
}

/**
 * The blocks of single slots a host fetched from the network (the data layer stores whole trees
 * only). One file of `count` blocks per slot, written under a temporary name, synced and renamed,
 * then its record written the same way: a slot is visible only once both are complete, and files
 * without a record (a crash mid-fetch) are removed when the store opens.
 */
export class SlotStore {
  readonly #dir: string;
  readonly #records = new Map<string, SlotRecord>();
  readonly #handles = new Map<string, Promise<FileHandle>>();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(dataDir: string): Promise<SlotStore> {
    const store = new SlotStore(path.join(dataDir, "network-slots"));
    await mkdir(store.#dir, { recursive: true });
    const names = await readdir(store.#dir);
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      try {
        const record = JSON.parse(
          await readFile(path.join(store.#dir, name), "utf8"),
        ) as SlotRecord;
        const base = SlotStore.#base(record);
        if (names.includes(`${base}.blocks`) && names.includes(`${base}.leaves`)) {
          store.#records.set(SlotStore.#base(record), record);
        }
      } catch {
        // an unreadable record is treated like a missing one: its slot is fetched again if needed
      }
    }
    for (const name of names) {
      const base = name.replace(/\.(blocks|leaves|json)$/, "");
      if (!store.#records.has(base)) await rm(path.join(store.#dir, name), { force: true });
    }
    return store;
  }

  static #base(record: { manifestCid: string; slot: number }): string {
    return `${record.manifestCid}.${record.slot}`;
  }

  /** Bytes a stored slot takes on disk: its blocks and its tree's leaves. */
  static bytes(record: { count: number }, treeLeaves: number): number {
    return record.count * BLOCK_SIZE + treeLeaves * 32;
  }

  /** Bytes all stored slots take (for the storage quota). */
  async usedBytes(): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.#dir)) {
      if (!/\.(blocks|leaves)$/.test(name)) continue; // as SlotStore.bytes counts
      if (!this.#records.has(name.replace(/\.(blocks|leaves)$/, ""))) continue;
      total += (await stat(path.join(this.#dir, name))).size;
    }
    return total;
  }

  records(): SlotRecord[] {
    return [...this.#records.values()];
  }

  has(manifestCid: string, slot: number): boolean {
    return this.#records.has(SlotStore.#base({ manifestCid, slot }));
  }

  /**
   * Stores a slot. Blocks may arrive in any order (fetched ones first, rebuilt ones later); each is
   * checked against its digest in `record`, and every position must be written exactly once.
   */
  async write(
    record: SlotRecord,
    treeLeaves: readonly Uint8Array[],
    blocks: AsyncIterable<{ position: number; bytes: Uint8Array }>,
  ): Promise<void> {
    const base = SlotStore.#base(record);
    const temporary = path.join(this.#dir, `.${base}.${randomBytes(6).toString("hex")}`);
    // The whole tree's leaves are kept too: a holder serves them to whoever repairs another slot.
    const leavesTemp = `${temporary}.leaves`;
    const leavesHandle = await open(leavesTemp, "wx");
    try {
      await leavesHandle.writeFile(Buffer.concat(treeLeaves));
      await leavesHandle.sync();
    } finally {
      await leavesHandle.close();
    }
    const written = new Uint8Array(record.count);
    const handle = await open(temporary, "wx");
    try {
      for await (const { position, bytes } of blocks) {
        if (!(position >= 0 && position < record.count) || written[position]) {
          throw new RangeError(
            `slot ${record.slot}: position ${position} is out of range or repeated`,
          );
        }
        const digest = createHash("sha256").update(bytes).digest("hex");
        if (bytes.length !== BLOCK_SIZE || digest !== record.digests[position]) {
          throw new RangeError(`slot ${record.slot}: block ${position} does not match its digest`);
        }
        await handle.write(bytes, 0, bytes.length, position * BLOCK_SIZE);
        written[position] = 1;
      }
      if (written.includes(0)) {
        throw new RangeError(`slot ${record.slot}: ${written.indexOf(0)} and maybe more missing`);
      }
      await handle.sync();
      await handle.close();
      await rename(temporary, path.join(this.#dir, `${base}.blocks`));
      await rename(leavesTemp, path.join(this.#dir, `${base}.leaves`));
      const recordTemp = `${temporary}.json`;
      const recordHandle = await open(recordTemp, "wx");
      await recordHandle.writeFile(JSON.stringify(record));
      await recordHandle.sync();
      await recordHandle.close();
      await rename(recordTemp, path.join(this.#dir, `${base}.json`));
      this.#records.set(base, record);
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(temporary, { force: true });
      await rm(leavesTemp, { force: true });
      throw error;
    }
  }

  /** Leaf digests [start, start + count) of the tree of a stored slot. */
  async leaves(record: SlotRecord, start: number, count: number): Promise<Uint8Array[]> {
    const bytes = await readFile(path.join(this.#dir, `${SlotStore.#base(record)}.leaves`));
    const total = bytes.length / 32;
    const out: Uint8Array[] = [];
    for (let i = start; i < Math.min(total, start + count); i++) {
      out.push(bytes.subarray(i * 32, (i + 1) * 32));
    }
    return out;
  }

  /** Block `position` of a stored slot, or undefined if it is unreadable or does not match. */
  async read(record: SlotRecord, position: number): Promise<Uint8Array | undefined> {
    const base = SlotStore.#base(record);
    let handle = this.#handles.get(base);
    if (!handle) {
      handle = open(path.join(this.#dir, `${base}.blocks`), "r");
      handle.catch(() => this.#handles.delete(base));
      this.#handles.set(base, handle);
    }
    const block = new Uint8Array(BLOCK_SIZE);
    let bytesRead: number;
    try {
      ({ bytesRead } = await (await handle).read(block, 0, BLOCK_SIZE, position * BLOCK_SIZE));
    } catch {
      return undefined; // deleted meanwhile (its handle closed), or the file is gone
    }
    if (bytesRead !== BLOCK_SIZE) return undefined;
    const digest = createHash("sha256").update(block).digest("hex");
    return digest === record.digests[position] ? block : undefined;
  }

  /**
   * Deletes a stored slot and returns the bytes it took on disk (0 when the store does not hold
   * it). The record goes first: a crash part-way leaves only files without a record, which open()
   * removes.
   */
  async delete(manifestCid: string, slot: number): Promise<number> {
    const base = SlotStore.#base({ manifestCid, slot });
    if (!this.#records.delete(base)) return 0;
    const handle = this.#handles.get(base);
    this.#handles.delete(base);
    await handle?.then(
      (h) => h.close(),
      () => {},
    );
    await rm(path.join(this.#dir, `${base}.json`), { force: true });
    let bytes = 0;
    for (const file of [`${base}.blocks`, `${base}.leaves`].map((n) => path.join(this.#dir, n))) {
      bytes += await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      await rm(file, { force: true });
    }
    return bytes;
  }

  async close(): Promise<void> {
    const handles = await Promise.allSettled(this.#handles.values());
    this.#handles.clear();
    for (const h of handles) if (h.status === "fulfilled") await h.value.close();
  }
}
