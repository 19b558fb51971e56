/**
 * Worker thread of workerBlockRoots: loads the hashing module it is given (which exports
 * `blockRootsInThread(blocks): bigint[]`) and hashes the blocks it is sent.
 */
import { parentPort, workerData } from "node:worker_threads";

type Hash = (blocks: Uint8Array[]) => bigint[];
const { blockRootsInThread } = (await import((workerData as { module: string }).module)) as {
  blockRootsInThread: Hash;
};

parentPort!.on("message", (message: { id: number; blocks: Uint8Array[] }) => {
  try {
    parentPort!.postMessage({ id: message.id, roots: blockRootsInThread(message.blocks) });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: String(error) });
  }
});
