import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DataService } from "../../../node/src/dataset/service.js";
import { inThreadBlockRoots } from "../../../node/src/slots/hasher.js";
import { LevelStore } from "../../../node/src/store/database.js";
import { referenceTrees } from "../../helpers/reference-trees.js";

export interface TestStore {
  dir: string;
  db: LevelStore;
  service: DataService;
  reopen(): Promise<void>;
  cleanup(): Promise<void>;
}

/** A data service on a real LevelDB in a temporary folder, hashing with the reference Poseidon2. */
export async function openTestStore(
  quotaBytes = 2 ** 30,
  maxUploadBytes?: number,
): Promise<TestStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-data-"));
  const open = async () => {
    const db = await LevelStore.open(path.join(dir, "db"));
    const service = await DataService.open({
      dataDir: dir,
      db,
      quotaBytes,
      maxUploadBytes,
      hashing: { trees: referenceTrees, roots: inThreadBlockRoots(referenceTrees) },
    });
    return { db, service };
  };
  const store = { dir, ...(await open()) } as TestStore;
  store.reopen = async () => {
    await store.service.close();
    await store.db.close();
    Object.assign(store, await open());
  };
  store.cleanup = async () => {
    await store.service.close();
    await store.db.close();
    await rm(dir, { recursive: true, force: true });
  };
  return store;
}

export async function* chunksOf(bytes: Uint8Array, size = 10_000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}
