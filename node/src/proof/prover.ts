/**
 * Proving and verifying storage proofs with snarkjs in a worker thread (snarkjs-worker.ts). The
 * prover returns the proof both as snarkjs writes it and already encoded for the verifier contract
 * (Groth16Verifier.verify(proof, pubSignals)).
 */
import { readFile } from "node:fs/promises";
import { StorageProofError } from "./errors.js";
import {
  type Groth16ProofArg,
  type PublicSignals,
  proofFromSnarkjs,
  publicSignalsFromSnarkjs,
} from "./groth16-encoding.js";
import { type StorageProofInput, circuitInputJson } from "./input.js";
import { SnarkjsWorker } from "./snarkjs-worker.js";

/** The files a circuit instance's setup produced (see artifacts.json of `circuits instance`). */
export interface ProverArtifacts {
  /** circom's witness generator. */
  wasm: string;
  /** The final Groth16 proving key. */
  zkey: string;
}

/** snarkjs's JSON for a Groth16 proof and its public signals (decimal strings). */
export interface SnarkjsProof {
  proof: {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  };
  publicSignals: string[];
}

export interface StorageProof {
  /** The proof as Groth16Verifier.verify takes it. */
  proof: Groth16ProofArg;
  /** entropy, dataSetRoot, slotIndex: the contract's pubSignals. */
  publicSignals: PublicSignals;
  /** The same proof as snarkjs wrote it. */
  snarkjs: SnarkjsProof;
  /** Where the time went, and the process's peak memory so far (KiB), as seen by the worker. */
  stats: { witnessMs: number; provingMs: number; maxRssKiB: number };
}

export class StorageProver {
  private readonly worker = new SnarkjsWorker();

  constructor(private readonly artifacts: ProverArtifacts) {}

  /**
   * Computes the witness and a Groth16 proof. Throws StorageProofError WITNESS_FAILED when the input
   * does not satisfy the circuit, PROVER_FAILED when snarkjs fails, CLOSED after close(); an abort
   * stops the worker and rejects with HoldfastError ERR_ABORTED (the signal's reason as cause).
   */
  async prove(
    input: StorageProofInput,
    options: { signal?: AbortSignal } = {},
  ): Promise<StorageProof> {
    const result = await this.worker.prove(
      circuitInputJson(input),
      this.artifacts.wasm,
      this.artifacts.zkey,
      options.signal,
    );
    const publicSignals = publicSignalsFromSnarkjs(result.publicSignals);
    const expected = [input.entropy, input.dataSetRoot, input.slotIndex];
    if (publicSignals.some((value, i) => value !== expected[i])) {
      // The circuit's public inputs are its first three inputs; anything else is a wrong build.
      throw new StorageProofError(
        "PROVER_FAILED",
        `the proof's public signals ${publicSignals.join(", ")} are not the input's ${expected.join(", ")}`,
      );
    }
    return {
      proof: proofFromSnarkjs(result.proof),
      publicSignals,
      snarkjs: {
        proof: result.proof as SnarkjsProof["proof"],
        publicSignals: result.publicSignals,
      },
      stats: {
        witnessMs: result.witnessMs,
        provingMs: result.provingMs,
        maxRssKiB: result.maxRssKiB,
      },
    };
  }

  /** Stops the worker thread and snarkjs's helper threads. */
  close(): Promise<void> {
    return this.worker.close();
  }
}

export class StorageProofVerifier {
  private readonly worker = new SnarkjsWorker();

  /** `vkey`: snarkjs's verification_key.json, parsed. */
  constructor(private readonly vkey: unknown) {}

  static async fromFile(vkeyJson: string): Promise<StorageProofVerifier> {
    return new StorageProofVerifier(JSON.parse(await readFile(vkeyJson, "utf8")));
  }

  /**
   * Whether `proof` proves the statement for these public inputs (entropy, dataSetRoot, slotIndex),
   * off chain, with snarkjs.groth16.verify. Public inputs outside [0, r) are never valid.
   */
  async verify(
    proof: SnarkjsProof["proof"],
    publicSignals: readonly (bigint | string)[],
    options: { signal?: AbortSignal } = {},
  ): Promise<boolean> {
    let signals: PublicSignals;
    try {
      signals = publicSignalsFromSnarkjs(publicSignals.map((x) => x.toString()));
    } catch {
      return false;
    }
    return this.worker.verify(
      this.vkey,
      signals.map((x) => x.toString()),
      proof,
      options.signal,
    );
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
