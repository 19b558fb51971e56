/**
 * The node's embedded database: LevelDB through classic-level (see docs/architecture.md for why).
 * Keys are strings with a prefix per record kind; values are bytes, JSON for records. Every
 * change that must be all-or-nothing goes through one `write` batch.
 */
import { ClassicLevel } from "classic-level";

export type BatchOp =
  { type: "put"; key: string; value: Uint8Array } | { type: "del"; key: string };

/** The small surface the rest of the node uses, so stores can be composed and tested alike. */
export interface KeyValueStore {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Applies every operation or none; `sync` waits until the batch is on disk. */
  write(ops: readonly BatchOp[], options?: { sync?: boolean }): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order. */
  entries(prefix: string): AsyncIterable<[string, Uint8Array]>;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function jsonValue(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function parseJsonValue<T>(bytes: Uint8Array): T {
  return JSON.parse(decoder.decode(bytes)) as T;
}

export class LevelStore implements KeyValueStore {
  private constructor(private readonly db: ClassicLevel<string, Uint8Array>) {}

  /** Opens (creating if needed) the database in `dir`. LevelDB's lock keeps out a second node. */
  static async open(dir: string): Promise<LevelStore> {
    const db = new ClassicLevel<string, Uint8Array>(dir, {
      keyEncoding: "utf8",
      valueEncoding: "view",
    });
    await db.open();
    return new LevelStore(db);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.db.get(key);
  }

  async write(ops: readonly BatchOp[], options: { sync?: boolean } = {}): Promise<void> {
    if (ops.length === 0) return;
    await this.db.batch([...ops], { sync: options.sync ?? false });
  }

  async *entries(prefix: string): AsyncIterable<[string, Uint8Array]> {
    // "\uffff" sorts after every character a key here uses.
    for await (const entry of this.db.iterator({ gte: prefix, lt: `${prefix}\uffff` })) {
      yield entry;
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
