/**
 * Block roots computed by a pool of worker threads, one per core by default: Poseidon2 hashing is
 * the bound of slot building, and each block is independent. Each worker imports `module`, which
 * exports `blockRootsInThread(blocks): bigint[]` (the node's is slots/default-hashing).
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import { HoldfastError, throwIfAborted } from "../errors.js";
import type { BlockRootHasher } from "./hasher.js";

interface Job {
  resolve(roots: bigint[]): void;
  reject(error: Error): void;
}

const ownExtension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

export function workerBlockRoots(
  module: URL,
  threads = Math.max(1, os.availableParallelism()),
): BlockRootHasher {
  const script = new URL(`./block-root-worker${ownExtension}`, import.meta.url);
  // Running from TypeScript sources (tests, benchmarks), the workers need the same loader.
  const execArgv = ownExtension === ".ts" ? ["--import", "tsx"] : [];
  // Workers keep the process alive until close(): whoever creates the pool closes it.
  const workers = Array.from(
    { length: threads },
    () => new Worker(script, { execArgv, workerData: { module: module.href } }),
  );
  const jobs = new Map<number, Job>();
  let nextId = 0;
  for (const worker of workers) {
    worker.on("message", (message: { id: number; roots?: bigint[]; error?: string }) => {
      const job = jobs.get(message.id);
      if (!job) return;
      jobs.delete(message.id);
      if (message.roots) job.resolve(message.roots);
      else
        job.reject(
          new HoldfastError("ERR_INVALID_ARGUMENT", `block hashing failed: ${message.error}`),
        );
    });
    worker.on("error", (error) => {
      for (const job of jobs.values()) job.reject(error);
      jobs.clear();
    });
  }
  const run = (worker: Worker, blocks: readonly Uint8Array[]) =>
    new Promise<bigint[]>((resolve, reject) => {
      const id = nextId++;
      jobs.set(id, { resolve, reject });
      worker.postMessage({ id, blocks });
    });

  return {
    async blockRoots(blocks, signal) {
      throwIfAborted(signal);
      const per = Math.ceil(blocks.length / workers.length);
      const parts = workers
        .map((worker, w) => [worker, blocks.slice(w * per, (w + 1) * per)] as const)
        .filter(([, part]) => part.length > 0);
      const roots = await Promise.all(parts.map(([worker, part]) => run(worker, part)));
      return roots.flat();
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
