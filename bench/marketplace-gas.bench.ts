/**
 * Gas of the marketplace's transactions, from receipts on a simulated chain with Taiko's rules
 * (Shanghai). The proof verifier is pluggable: by default the test verifier, which costs almost
 * nothing, so the figures are the marketplace's own; set MARKETPLACE_BENCH_VERIFIER to a module
 * whose default export is a `VerifierPlugin` (test/contracts/marketplace/testbed.ts) to measure with
 * another one, such as the real Groth16 verifier with real proofs.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { VerifierPlugin } from "../test/contracts/marketplace/testbed.js";
import type { Benchmark, BenchRow } from "./harness.js";

/** The verifier budget the issue sets submitProof against: a Groth16 check of 3 public inputs. */
const REFERENCE_VERIFIER_GAS = 210_000n;
const SUBMIT_PROOF_LIMIT = 260_000n;

async function loadPlugin(): Promise<VerifierPlugin | undefined> {
  const modulePath = process.env.MARKETPLACE_BENCH_VERIFIER;
  if (modulePath === undefined || modulePath === "") return undefined;
  const url = pathToFileURL(path.resolve(modulePath)).href;
  return ((await import(url)) as { default: VerifierPlugin }).default;
}

const bench: Benchmark = {
  name: "marketplace-gas",
  description:
    "gas per marketplace transaction (Shanghai rules, from receipts); verifier pluggable",
  async run(log) {
    // Loaded here, not at the top, so that other benchmarks do not start Hardhat.
    const hre = (await import("hardhat")).default;
    await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
    const { measureMarketplaceGas } = await import("./marketplace-gas/measure.js");
    const { testVerifier } = await import("../test/contracts/marketplace/testbed.js");
    const plugin = (await loadPlugin()) ?? testVerifier;
    log(`verifier: ${plugin.name}`);
    const m = await measureMarketplaceGas(await hre.network.create("hardhatMainnet"), plugin);

    const rows: BenchRow[] = [];
    const gasRow = (subject: string, metric: string, value: bigint) =>
      rows.push({ subject, metric, value: Number(value), unit: "gas" });
    for (const [subject, gas] of m.transactions) gasRow(subject, "tx gas", gas);
    gasRow("verifier.verify, cold, called from a contract", "gas", m.verifierCold);
    gasRow("verifier.verify, warm, called from a contract", "gas", m.verifierWarm);
    const overhead = m.submitProof - m.verifierCold;
    gasRow("submitProof: 21,000 + calldata", "intrinsic", m.submitProofIntrinsic);
    gasRow(
      "submitProof: execution minus the verifier call",
      "marketplace execution",
      overhead - m.submitProofIntrinsic,
    );
    gasRow("submitProof minus the verifier call", "marketplace overhead", overhead);
    const projected = overhead + REFERENCE_VERIFIER_GAS;
    gasRow(
      `submitProof with a ${REFERENCE_VERIFIER_GAS.toLocaleString("en-US")}-gas verifier call`,
      `projected, limit ${SUBMIT_PROOF_LIMIT.toLocaleString("en-US")}`,
      projected,
    );
    if (projected >= SUBMIT_PROOF_LIMIT)
      log(`WARNING: projected submitProof ${projected} >= ${SUBMIT_PROOF_LIMIT}`);
    return rows;
  },
};
export default bench;
