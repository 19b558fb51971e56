import { type KeyValueStore, jsonValue, parseJsonValue } from "../store/database.js";
import type { CursorStore } from "./log-poller.js";

/** LogPoller cursors in the node's database, written synchronously: a cursor must not run ahead of
 * the state its events produced, so callers persist that state before the poller saves. */
export class DatabaseCursorStore implements CursorStore {
  constructor(
    private readonly db: KeyValueStore,
    private readonly prefix = "chain/cursor/",
  ) {}

  async load(key: string): Promise<number | undefined> {
    const bytes = await this.db.get(this.prefix + key);
    return bytes ? parseJsonValue<number>(bytes) : undefined;
  }

  async save(key: string, block: number): Promise<void> {
    await this.db.write([{ type: "put", key: this.prefix + key, value: jsonValue(block) }], {
      sync: true,
    });
  }
}
