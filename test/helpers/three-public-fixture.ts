import { readFile } from "node:fs/promises";
import * as snarkjs from "snarkjs";
import { BN254_SCALAR_MODULUS } from "../../node/src/proof/bn254.js";
import { type CircuitBuild, compileCircuit } from "../../scripts/circuits/compile.js";
import { ensurePtau } from "../../scripts/circuits/ptau.js";
import { type Groth16Setup, groth16Setup } from "../../scripts/circuits/setup.js";

/** The fixture circuit with the storage proof's three public inputs (entropy, dataSetRoot, slotIndex). */
export const THREE_PUBLIC_CIRCUIT = "test/circuits/fixtures/three-public.circom";

export interface ThreePublicSetup {
  build: CircuitBuild;
  setup: Groth16Setup;
  /** verification_key.json as snarkjs wrote it. */
  vkey: snarkjs.Groth16VerificationKey;
}

/** Compiles the fixture and runs (or reuses) its Groth16 setup on a local 2^6 powers of tau. */
export async function threePublicSetup(): Promise<ThreePublicSetup> {
  const build = await compileCircuit(THREE_PUBLIC_CIRCUIT);
  const setup = await groth16Setup(build, await ensurePtau(6));
  const vkey = JSON.parse(await readFile(setup.vkeyJson, "utf8")) as snarkjs.Groth16VerificationKey;
  return { build, setup, vkey };
}

/**
 * A real proof that entropy = secret^2 * slotIndex + dataSetRoot for the given secret, dataSetRoot
 * and slotIndex. Call releaseSnarkjsWorkers() when done proving.
 */
export async function proveThreePublic(
  fixture: ThreePublicSetup,
  secret: bigint,
  dataSetRoot: bigint,
  slotIndex: bigint,
): Promise<{ proof: snarkjs.Groth16Proof; publicSignals: string[] }> {
  const entropy = (secret * secret * slotIndex + dataSetRoot) % BN254_SCALAR_MODULUS;
  const input = { entropy, dataSetRoot, slotIndex, secret };
  return snarkjs.groth16.fullProve(input, fixture.build.wasm, fixture.setup.zkey);
}
