/**
 * Storage-proof costs: constraints, witness and Groth16 proving time and peak memory for the dev
 * instance, witness time and memory for the production instance, and proving time per sample count
 * for dev-sized circuits.
 *
 * Witness and proof run in a fresh child process per measurement (snarkjs on its main thread, with
 * its helper threads), so that its process.resourceUsage().maxRSS is the peak of that one job. The
 * dev instance is also proven through StorageProver (the node's worker thread), end to end.
 *
 * Proving with 2 and 5 samples needs local powers of tau of 2^15 and 2^16, which take long to make
 * (each took about 40 minutes on two shared cores, once per machine): opt in with
 *   HOLDFAST_BENCH_SAMPLES=1,2,5 npm run bench -- storage-proof
 * The default measures 1 sample (the dev instance).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify } from "ethers";
import { MerkleTree, toBytesLE } from "../node/src/poseidon2/index.js";
import { buildProofInput, circuitInputJson } from "../node/src/proof/input.js";
import type { CircuitParameters } from "../node/src/proof/parameters.js";
import { StorageProver } from "../node/src/proof/prover.js";
import { SlotTree, blockStoreFromBytes, provableSlot } from "../node/src/proof/slot-tree.js";
import { compileCircuit } from "../scripts/circuits/compile.js";
import {
  NAMED_INSTANCES,
  buildInstance,
  instanceMain,
  readInstanceParameters,
} from "../scripts/circuits/instances.js";
import { byteSamples, fieldSamples } from "../test/helpers/field-samples.js";
import type { BenchRow, Benchmark } from "./harness.js";

/** Runs in the child: witness (and proof), timed, then the process's peak RSS. */
const CHILD = `
const [snarkjsUrl, inputFile, wasm, zkey] = process.argv.slice(1);
const snarkjs = await import(snarkjsUrl);
const { readFile } = await import("node:fs/promises");
const input = JSON.parse(await readFile(inputFile, "utf8"));
const witness = { type: "mem" };
const start = performance.now();
await snarkjs.wtns.calculate(input, wasm, witness);
const witnessMs = performance.now() - start;
// The first proof of a process also builds snarkjs's BN254 engine (WebAssembly, helper threads).
let coldProvingMs = null;
let warmProvingMs = null;
if (zkey) {
  let started = performance.now();
  await snarkjs.groth16.prove(zkey, witness);
  coldProvingMs = performance.now() - started;
  started = performance.now();
  await snarkjs.groth16.prove(zkey, witness);
  warmProvingMs = performance.now() - started;
}
const curve = globalThis.curve_bn128;
if (curve) await curve.terminate();
const maxRssKiB = process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify({ witnessMs, coldProvingMs, warmProvingMs, maxRssKiB }));
`;

interface ChildResult {
  witnessMs: number;
  coldProvingMs: number | null;
  warmProvingMs: number | null;
  maxRssKiB: number;
}

function runChild(inputFile: string, wasm: string, zkey?: string): Promise<ChildResult> {
  const args = [
    "--input-type=module",
    "-e",
    CHILD,
    import.meta.resolve("snarkjs"),
    inputFile,
    wasm,
  ];
  if (zkey) args.push(zkey);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(JSON.parse(out) as ChildResult);
      else reject(new Error(`benchmark child failed (${code}): ${err}`));
    });
  });
}

/** A proof input for slot 3 of 11 with 512 cells (Codex's example shape), for any parameters. */
async function sampleInput(parameters: CircuitParameters) {
  const store = blockStoreFromBytes(byteSamples("bench slot", 512 * 2048));
  const tree = await SlotTree.build(store);
  const roots = fieldSamples("bench dataset", 11);
  roots[3] = tree.root;
  return buildProofInput({
    parameters,
    challenge: hexlify(byteSamples("bench challenge", 32)),
    merkleRoot: toBytesLE(new MerkleTree(roots).root),
    slotIndex: 3,
    slotRoots: roots,
    slot: provableSlot(tree, store),
  });
}

const sampleCounts = (process.env.HOLDFAST_BENCH_SAMPLES ?? "1")
  .split(",")
  .map((s) => Number(s.trim()));

/** Repetitions of each child-process measurement; the table shows the fastest (least disturbed). */
const RUNS = 3;

const bench: Benchmark = {
  name: "storage-proof",
  description:
    "storage-proof witness and Groth16 proving (snarkjs) for the dev and production instances",
  async run(log) {
    const rows: BenchRow[] = [];
    const dir = await mkdtemp(path.join(tmpdir(), "holdfast-bench-"));
    try {
      const measure = async (subject: string, wasm: string, input: unknown, zkey?: string) => {
        const file = path.join(dir, "input.json");
        await writeFile(file, JSON.stringify(input));
        const results: ChildResult[] = [];
        for (let i = 0; i < RUNS; i++) {
          log(`${subject}: run ${i + 1} of ${RUNS}`);
          results.push(await runChild(file, wasm, zkey));
        }
        const best = (f: (r: ChildResult) => number) => Math.min(...results.map(f));
        rows.push({ subject, metric: "witness", value: best((r) => r.witnessMs), unit: "ms" });
        if (zkey) {
          rows.push({
            subject,
            metric: "Groth16 prove, new process",
            value: best((r) => r.coldProvingMs!),
            unit: "ms",
          });
          rows.push({
            subject,
            metric: "Groth16 prove, engine warm",
            value: best((r) => r.warmProvingMs!),
            unit: "ms",
          });
        }
        rows.push({
          subject,
          metric: "peak RSS (child process)",
          value: best((r) => r.maxRssKiB) / 1024,
          unit: "MiB",
        });
      };

      // Production: compile and witness only (its setup needs a published 2^17 ptau).
      log("production: compiling (cached by content hash)");
      const production = await compileCircuit(NAMED_INSTANCES.production, { log });
      const productionParameters = readInstanceParameters(NAMED_INSTANCES.production);
      rows.push({
        subject: "production (32, 8, 5, 67, 5)",
        metric: "constraints",
        value: production.nonLinearConstraints,
        unit: "",
      });
      await measure(
        "production (32, 8, 5, 67, 5)",
        production.wasm,
        circuitInputJson(await sampleInput(productionParameters)),
      );

      for (const nSamples of sampleCounts) {
        const main =
          nSamples === 1
            ? NAMED_INSTANCES.dev
            : await instanceMain({ ...readInstanceParameters(NAMED_INSTANCES.dev), nSamples });
        const subject = `dev-sized (10, 4, 5, 67, ${nSamples})`;
        log(`${subject}: compile and setup (cached; a new ptau power takes long)`);
        const artifacts = await buildInstance(main, { log });
        rows.push({
          subject,
          metric: "constraints",
          value: artifacts.nonLinearConstraints,
          unit: "",
        });
        const input = await sampleInput(artifacts.parameters);
        await measure(subject, artifacts.wasm, circuitInputJson(input), artifacts.zkey);

        if (nSamples === 1) {
          // The node's path: StorageProver in a worker thread (a warm worker: the first proof
          // also starts the worker and snarkjs's engine).
          const prover = new StorageProver(artifacts);
          try {
            await prover.prove(input);
            const started = performance.now();
            const proof = await prover.prove(input);
            rows.push({
              subject: `${subject}, StorageProver`,
              metric: "prove() end to end, warm worker",
              value: performance.now() - started,
              unit: "ms",
            });
            rows.push({
              subject: `${subject}, StorageProver`,
              metric: "of which witness",
              value: proof.stats.witnessMs,
              unit: "ms",
            });
          } finally {
            await prover.close();
          }
        }
      }
      return rows;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
