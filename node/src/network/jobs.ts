import type { DownloadProgress } from "./downloader.js";

export interface FetchJob {
  id: string;
  slot?: number;
  state: "running" | "done" | "failed";
  startedAt: string;
  finishedAt?: string;
  progress?: DownloadProgress;
  error?: { code: string; message: string };
  /** Slot fetches: blocks rebuilt by erasure decoding. */
  rebuilt?: number;
}

/**
 * Background fetches started through the API (POST /data/{id}/network), one per dataset or slot at
 * a time, kept after they end so that their outcome can be read; all are aborted when the node stops.
 */
export class FetchJobs {
  readonly #jobs = new Map<string, FetchJob>();
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<void>>();

  static key(id: string, slot?: number): string {
    return slot === undefined ? id : `${id}#${slot}`;
  }

  get(id: string, slot?: number): FetchJob | undefined {
    return this.#jobs.get(FetchJobs.key(id, slot));
  }

  /** Starts `work` unless the same fetch is already running; returns the job either way. */
  start(
    id: string,
    slot: number | undefined,
    work: (
      signal: AbortSignal,
      onProgress: (p: DownloadProgress) => void,
    ) => Promise<{ rebuilt?: number } | void>,
  ): FetchJob {
    const key = FetchJobs.key(id, slot);
    const existing = this.#jobs.get(key);
    if (existing?.state === "running") return existing;
    const job: FetchJob = { id, state: "running", startedAt: new Date().toISOString() };
    if (slot !== undefined) job.slot = slot;
    this.#jobs.set(key, job);
    const run = work(this.#abort.signal, (p) => (job.progress = p)).then(
      (result) => {
        job.state = "done";
        if (result && result.rebuilt !== undefined) job.rebuilt = result.rebuilt;
      },
      (error: unknown) => {
        job.state = "failed";
        const e = error as { code?: unknown; message?: unknown };
        job.error = {
          code: typeof e.code === "string" ? e.code : "ERR_INTERNAL",
          message: String(e.message ?? error),
        };
      },
    );
    const tracked = run.finally(() => {
      job.finishedAt = new Date().toISOString();
      this.#running.delete(tracked);
    });
    this.#running.add(tracked);
    return job;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled(this.#running);
  }
}
