/**
 * The host's one prover: storage proofs with the circuit instance in --circuit-dir, made one at a
 * time in the prover's worker thread (never on the event loop). A period's proof has a deadline
 * (the period's end), so it goes before initial proofs that wait for the prover.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { HoldfastError, throwIfAborted } from "../errors.js";
import type { Groth16ProofArg } from "../proof/groth16-encoding.js";
import { buildProofInput } from "../proof/input.js";
import type { CircuitParameters } from "../proof/parameters.js";
import { StorageProver } from "../proof/prover.js";
import type { SlotProofRequest, SlotProver } from "./ports.js";

/** What the host reads of a circuit instance's artifacts.json. */
export interface ProverArtifactsFile {
  parameters: CircuitParameters;
  wasm: string;
  zkey: string;
}

/** Reads `<circuitDir>/artifacts.json`; paths in it are taken relative to circuitDir. */
export async function loadCircuitArtifacts(circuitDir: string): Promise<ProverArtifactsFile> {
  const file = path.join(circuitDir, "artifacts.json");
  let parsed: Partial<ProverArtifactsFile>;
  try {
    parsed = JSON.parse(await readFile(file, "utf8")) as Partial<ProverArtifactsFile>;
  } catch (error) {
    throw new HoldfastError(
      "ERR_INVALID_CONFIG",
      `cannot read the circuit's ${file} (build one with \`npm run circuits -- instance dev\`): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { parameters, wasm, zkey } = parsed;
  if (!parameters || typeof wasm !== "string" || typeof zkey !== "string") {
    throw new HoldfastError("ERR_INVALID_CONFIG", `${file} lacks parameters, wasm or zkey`);
  }
  const resolved = {
    parameters,
    wasm: path.resolve(circuitDir, wasm),
    zkey: path.resolve(circuitDir, zkey),
  };
  for (const [name, p] of [
    ["wasm", resolved.wasm],
    ["zkey", resolved.zkey],
  ] as const) {
    if (!existsSync(p))
      throw new HoldfastError("ERR_INVALID_CONFIG", `the circuit's ${name} ${p} does not exist`);
  }
  return resolved;
}

interface Waiting {
  urgent: boolean;
  start: () => void;
}

export class CircuitSlotProver implements SlotProver {
  readonly #artifacts: ProverArtifactsFile;
  readonly #prover: StorageProver;
  readonly #waiting: Waiting[] = [];
  #busy = false;

  constructor(artifacts: ProverArtifactsFile) {
    this.#artifacts = artifacts;
    this.#prover = new StorageProver(artifacts);
  }

  static async open(circuitDir: string): Promise<CircuitSlotProver> {
    return new CircuitSlotProver(await loadCircuitArtifacts(circuitDir));
  }

  get parameters(): CircuitParameters {
    return this.#artifacts.parameters;
  }

  async prove(
    request: SlotProofRequest,
    options: { urgent: boolean; signal?: AbortSignal },
  ): Promise<Groth16ProofArg> {
    await this.#turn(options.urgent, options.signal);
    try {
      throwIfAborted(options.signal);
      const input = await buildProofInput({
        parameters: this.#artifacts.parameters,
        challenge: request.challenge,
        merkleRoot: request.merkleRoot,
        slotIndex: request.slotIndex,
        slotRoots: request.slotRoots,
        slot: request.slot,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const { proof } = await this.#prover.prove(
        input,
        options.signal ? { signal: options.signal } : {},
      );
      return proof;
    } finally {
      this.#next();
    }
  }

  close(): Promise<void> {
    return this.#prover.close();
  }

  /** Waits until the prover is free and this request is the most urgent waiting. */
  #turn(urgent: boolean, signal?: AbortSignal): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { urgent, start: resolve };
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiting);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(
          new HoldfastError("ERR_ABORTED", "the proof was aborted", { cause: signal?.reason }),
        );
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      waiting.start = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      // Urgent requests go after other urgent ones, before every initial proof.
      const at = urgent ? this.#waiting.findIndex((w) => !w.urgent) : -1;
      if (at < 0) this.#waiting.push(waiting);
      else this.#waiting.splice(at, 0, waiting);
    });
  }

  #next(): void {
    const waiting = this.#waiting.shift();
    if (waiting) waiting.start();
    else this.#busy = false;
  }
}
