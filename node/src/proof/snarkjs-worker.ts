/**
 * A worker thread that runs snarkjs, so that witness generation (synchronous WebAssembly) and
 * Groth16 proving never block the node's event loop. One request runs at a time; the worker keeps
 * snarkjs's BN254 engine (and its own helper threads) between requests and stops them on close.
 *
 * The worker's code is a plain JavaScript string: a worker thread starts without the TypeScript
 * loader the node may run under, so it must not import our sources. It only imports snarkjs, by the
 * URL the main thread resolves.
 */
import { Worker } from "node:worker_threads";
import { HoldfastError, throwIfAborted } from "../errors.js";
import { StorageProofError } from "./errors.js";

// snarkjs's BN254 engine (ffjavascript) runs its multi-exponentiations and FFTs on helper threads
// it creates through the "web-worker" package. That package decides at load time whether it runs
// in the main thread; in any other thread it exports a worker-side scope instead of a Worker class,
// so snarkjs inside a worker thread fails with "Worker is not a constructor". Before snarkjs loads,
// the worker puts a small Worker class in the CommonJS cache under web-worker's path: it accepts
// what ffjavascript uses (a data: URL of the helper's code, addEventListener("message"),
// postMessage, terminate) and gives the helper the "self" it expects (onmessage, postMessage, close).
const HELPER_THREAD_SHIM = `
const threads = require("node:worker_threads");
const { createRequire } = require("node:module");
const { fileURLToPath } = require("node:url");

const HELPER_PRELUDE = \`
const { parentPort } = require("node:worker_threads");
const self = {
  onmessage: null,
  postMessage: (data, transfers) => parentPort.postMessage(data, transfers),
  close: () => parentPort.close(),
};
parentPort.on("message", (data) => { if (self.onmessage) self.onmessage({ data }); });
\`;

class HelperThread {
  constructor(url) {
    const match = /^data:application\\/javascript;base64,(.*)$/.exec(String(url));
    if (!match) throw new Error("unexpected helper thread source " + String(url).slice(0, 40));
    const code = Buffer.from(match[1], "base64").toString("utf8");
    this.thread = new threads.Worker(HELPER_PRELUDE + code, { eval: true });
  }
  addEventListener(type, listener) {
    if (type === "message") this.thread.on("message", (data) => listener({ data }));
    else if (type === "error") this.thread.on("error", (error) => listener(error));
  }
  postMessage(data, transfers) {
    this.thread.postMessage(data, transfers);
  }
  terminate() {
    return this.thread.terminate();
  }
}

{
  const fromSnarkjs = createRequire(fileURLToPath(workerData.snarkjsUrl));
  const fromFfjavascript = createRequire(fromSnarkjs.resolve("ffjavascript"));
  const webWorker = fromFfjavascript.resolve("web-worker");
  const Module = require("node:module");
  const shim = new Module(webWorker);
  shim.filename = webWorker;
  shim.exports = HelperThread;
  shim.loaded = true;
  require.cache[webWorker] = shim;
}
`;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
${HELPER_THREAD_SHIM}
const snarkjsReady = import(workerData.snarkjsUrl);

async function handle(request) {
  const snarkjs = await snarkjsReady;
  if (request.kind === "prove") {
    const witness = { type: "mem" };
    const start = performance.now();
    // circom's witness generator also prints a failed assertion to the console; the error it
    // throws carries the same text, which goes back to the caller instead.
    const { log, error: logError } = console;
    console.log = console.error = () => {};
    try {
      await snarkjs.wtns.calculate(request.input, request.wasm, witness);
    } catch (error) {
      return { failure: "witness", message: String(error && error.message || error) };
    } finally {
      console.log = log;
      console.error = logError;
    }
    const proved = performance.now();
    const { proof, publicSignals } = await snarkjs.groth16.prove(request.zkey, witness);
    return {
      proof,
      publicSignals,
      witnessMs: proved - start,
      provingMs: performance.now() - proved,
      maxRssKiB: process.resourceUsage().maxRSS,
    };
  }
  if (request.kind === "verify") {
    const valid = await snarkjs.groth16.verify(request.vkey, request.publicSignals, request.proof);
    return { valid };
  }
  throw new Error("unknown request " + request.kind);
}

parentPort.on("message", async (request) => {
  if (request.kind === "close") {
    const curve = globalThis.curve_bn128;
    if (curve) await curve.terminate();
    parentPort.postMessage({ id: request.id, result: {} });
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ id: request.id, result: await handle(request) });
  } catch (error) {
    parentPort.postMessage({ id: request.id, error: String(error && error.stack || error) });
  }
});
`;

/** What a prove request returns from the worker. */
export interface WorkerProof {
  proof: unknown;
  publicSignals: string[];
  witnessMs: number;
  provingMs: number;
  /** process.resourceUsage().maxRSS as seen from the worker: the whole process's peak, KiB. */
  maxRssKiB: number;
}

type Request =
  | { kind: "prove"; input: Record<string, unknown>; wasm: string; zkey: string }
  | { kind: "verify"; vkey: unknown; publicSignals: string[]; proof: unknown };

type Reply = { id: number; result?: Record<string, unknown>; error?: string };

/** How long close() waits for the worker to stop snarkjs's threads before terminating it. */
const CLOSE_GRACE_MS = 5_000;

export class SnarkjsWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly pending = new Map<
    number,
    { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();

  /** Witness and Groth16 proof for a circuit input (decimal strings, as snarkjs reads it). */
  async prove(
    input: Record<string, unknown>,
    wasm: string,
    zkey: string,
    signal?: AbortSignal,
  ): Promise<WorkerProof> {
    const result = await this.request({ kind: "prove", input, wasm, zkey }, signal);
    if (result.failure === "witness") {
      throw new StorageProofError(
        "WITNESS_FAILED",
        `the witness generator refused the input: ${String(result.message)}`,
      );
    }
    return result as unknown as WorkerProof;
  }

  /** snarkjs.groth16.verify in the worker. */
  async verify(
    vkey: unknown,
    publicSignals: string[],
    proof: unknown,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const result = await this.request({ kind: "verify", vkey, publicSignals, proof }, signal);
    return result.valid === true;
  }

  /** Stops the worker and snarkjs's threads; pending and later requests fail with CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage({ kind: "close", id: 0 });
    const timer = setTimeout(() => void worker.terminate(), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(timer);
    this.failAll(new StorageProofError("CLOSED", "the snarkjs worker was closed"));
  }

  /** Requests run one after another: snarkjs already uses every core for one proof. */
  private request(request: Request, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const run = this.queue.then(() => this.send(request, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private send(request: Request, signal?: AbortSignal): Promise<Record<string, unknown>> {
    if (this.closed) {
      return Promise.reject(new StorageProofError("CLOSED", "the snarkjs worker was closed"));
    }
    throwIfAborted(signal);
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        // The only way to stop snarkjs mid-proof: drop the worker. The next request starts another.
        this.pending.delete(id);
        this.stop(worker);
        reject(
          new HoldfastError("ERR_ABORTED", "the operation was aborted", { cause: signal!.reason }),
        );
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (result) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(result);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      });
      worker.postMessage({ ...request, id });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { snarkjsUrl: import.meta.resolve("snarkjs") },
    });
    worker.on("message", (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error !== undefined) {
        waiter.reject(new StorageProofError("PROVER_FAILED", `snarkjs failed: ${reply.error}`));
      } else {
        waiter.resolve(reply.result ?? {});
      }
    });
    worker.on("error", (error) => {
      this.stop(worker);
      this.failAll(
        new StorageProofError("PROVER_FAILED", `the snarkjs worker crashed: ${error.message}`, {
          cause: error,
        }),
      );
    });
    worker.on("exit", (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new StorageProofError("PROVER_FAILED", `the snarkjs worker exited (${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private stop(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate();
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
