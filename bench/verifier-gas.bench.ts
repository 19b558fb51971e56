import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import hre from "hardhat";
import * as snarkjs from "snarkjs";
import { BN254_SCALAR_MODULUS } from "../node/src/proof/bn254.js";
import {
  proofFromSnarkjs,
  publicSignalsFromSnarkjs,
  verificationKeyFromSnarkjs,
} from "../node/src/proof/groth16-encoding.js";
import { releaseSnarkjsWorkers } from "../scripts/circuits/snarkjs-runtime.js";
import { compileSolidity } from "../test/helpers/solc.js";
import { proveThreePublic, threePublicSetup } from "../test/helpers/three-public-fixture.js";
import type { BenchRow, Benchmark } from "./harness.js";

const require = createRequire(import.meta.url);

/** Gas the precompiles charge for one verification (EIP-1108 prices, unchanged since Istanbul). */
const PAIRING_GAS = 45_000 + 34_000 * 4;
const EC_MUL_GAS = 6_000 * 3;
const EC_ADD_GAS = 150 * 3;
const PRECOMPILE_FLOOR = PAIRING_GAS + EC_MUL_GAS + EC_ADD_GAS;
/** A transaction's base cost, and what estimateGas and receipts include on top of execution. */
const TX_BASE_GAS = 21_000;

/** Calldata gas before Prague (EIP-2028): 16 per non-zero byte, 4 per zero byte. */
function calldataGas(data: string): number {
  const bytes = Buffer.from(data.slice(2), "hex");
  return bytes.reduce((gas, byte) => gas + (byte === 0 ? 4 : 16), 0);
}

// Gas of one storage-proof-shaped verification (3 public inputs) on a Shanghai chain, for
// Holdfast's Groth16Verifier and, as the peer, the verifier snarkjs exports for the same key.
const bench: Benchmark = {
  name: "verifier-gas",
  description:
    "Groth16 verify gas (BN254, 3 public inputs) vs the precompile floor and snarkjs's exported verifier",
  async run(log) {
    await hre.tasks.getTask("build").run({ quiet: true, noTests: true });
    log("setting up the three-public-input fixture");
    const fixture = await threePublicSetup();
    // Storage-proof-like public inputs: a hash-sized dataSetRoot and a small slot index.
    const dataSetRoot =
      BigInt(`0x${createHash("sha256").update("holdfast verifier bench").digest("hex")}`) %
      BN254_SCALAR_MODULUS;
    const { proof: rawProof, publicSignals } = await proveThreePublic(
      fixture,
      0xdeadbeefn,
      dataSetRoot,
      3n,
    );
    if (!(await snarkjs.groth16.verify(fixture.vkey, publicSignals, rawProof))) {
      throw new Error("snarkjs rejects the benchmark's own proof");
    }
    const proof = proofFromSnarkjs(rawProof);
    const pub = publicSignalsFromSnarkjs(publicSignals);

    // The peer: snarkjs's verifier template (key in constants) for the same zkey.
    const snarkjsRoot = path.dirname(path.dirname(require.resolve("snarkjs")));
    const template = await readFile(
      path.join(snarkjsRoot, "templates", "verifier_groth16.sol.ejs"),
      "utf8",
    );
    const peerSource = await snarkjs.zKey.exportSolidityVerifier(fixture.setup.zkey, {
      groth16: template,
    });
    const peerArgs = JSON.parse(
      `[${await snarkjs.groth16.exportSolidityCallData(rawProof, publicSignals)}]`,
    ) as unknown[];
    await releaseSnarkjsWorkers();
    const peerBuild = compileSolidity("SnarkjsVerifier.sol", peerSource, "Groth16Verifier");

    const { ethers } = await hre.network.create("hardhatMainnet");
    const [signer] = await ethers.getSigners();
    const ours = await ethers.deployContract("Groth16Verifier", [
      verificationKeyFromSnarkjs(fixture.vkey),
    ]);
    const peerFactory = new ethers.ContractFactory(
      peerBuild.abi as never,
      peerBuild.bytecode,
      signer,
    );
    const peer = await peerFactory.deploy();
    await peer.waitForDeployment();
    const probe = await ethers.deployContract("GasProbe");

    const calls = [
      {
        subject: "Groth16Verifier.verify",
        target: await ours.getAddress(),
        data: ours.interface.encodeFunctionData("verify", [proof, pub]),
      },
      {
        subject: "snarkjs verifier.verifyProof",
        target: await peer.getAddress(),
        data: peer.interface.encodeFunctionData("verifyProof", peerArgs),
      },
    ];

    const rows: BenchRow[] = [];
    const floorWithCalldata = PRECOMPILE_FLOOR + calldataGas(calls[0]!.data);
    rows.push({
      subject: "precompile floor",
      metric: "pairing(4) + 3 ecMul + 3 ecAdd",
      value: PRECOMPILE_FLOOR,
      unit: "gas",
    });
    rows.push({
      subject: "precompile floor",
      metric: "+ calldata of verify",
      value: floorWithCalldata,
      unit: "gas",
    });

    const measured = new Map<string, { receipt: number; probe: number }>();
    for (const { subject, target, data } of calls) {
      const result = ethers.AbiCoder.defaultAbiCoder().decode(
        ["bool"],
        await ethers.provider.call({ to: target, data }),
      );
      if (result[0] !== true) throw new Error(`${subject} rejects the benchmark's proof`);

      const estimate = Number(await ethers.provider.estimateGas({ to: target, data }));
      // A view function can be sent as a transaction: its receipt is the exact cost, without the
      // headroom estimateGas adds so that 63/64 of the gas left still covers the pairing.
      const direct = await (await signer!.sendTransaction({ to: target, data })).wait();
      const receipt = Number(direct!.gasUsed);
      const wrapped = await (await probe.measure(target, data)).wait();
      const event = wrapped!.logs
        .map((l) => probe.interface.parseLog(l))
        .find((e) => e?.name === "Measured");
      if (!event || event.args.success !== true) throw new Error(`${subject} failed in GasProbe`);
      const inner = Number(event.args.gasUsed as bigint);
      measured.set(subject, { receipt, probe: inner });
      const calldata = calldataGas(data);

      rows.push({ subject, metric: "calldata", value: calldata, unit: "gas" });
      rows.push({
        subject,
        metric: "tx receipt - 21,000 (exec + calldata)",
        value: receipt - TX_BASE_GAS,
        unit: "gas",
        ratio: { to: "floor + calldata", value: (receipt - TX_BASE_GAS) / floorWithCalldata },
      });
      rows.push({
        subject,
        metric: "estimateGas - 21,000",
        value: estimate - TX_BASE_GAS,
        unit: "gas",
        ratio: { to: "floor + calldata", value: (estimate - TX_BASE_GAS) / floorWithCalldata },
      });
      rows.push({
        subject,
        metric: "execution only (receipt - 21,000 - calldata)",
        value: receipt - TX_BASE_GAS - calldata,
        unit: "gas",
        ratio: {
          to: "precompile floor",
          value: (receipt - TX_BASE_GAS - calldata) / PRECOMPILE_FLOOR,
        },
      });
      rows.push({
        subject,
        metric: "called by a contract (GasProbe STATICCALL, cold)",
        value: inner,
        unit: "gas",
        ratio: { to: "precompile floor", value: inner / PRECOMPILE_FLOOR },
      });
      rows.push({
        subject,
        metric: "GasProbe.measure tx receipt",
        value: Number(wrapped!.gasUsed),
        unit: "gas",
      });
    }

    const oursGas = measured.get(calls[0]!.subject)!;
    const peerGas = measured.get(calls[1]!.subject)!;
    rows.push({
      subject: "Groth16Verifier.verify",
      metric: "tx receipt vs snarkjs verifier",
      value: oursGas.receipt,
      unit: "gas",
      ratio: { to: "snarkjs verifier", value: oursGas.receipt / peerGas.receipt },
    });
    rows.push({
      subject: "Groth16Verifier.verify",
      metric: "called by a contract vs snarkjs verifier",
      value: oursGas.probe,
      unit: "gas",
      ratio: { to: "snarkjs verifier", value: oursGas.probe / peerGas.probe },
    });
    const deployment = await ours.deploymentTransaction()!.wait();
    rows.push({
      subject: "Groth16Verifier",
      metric: "deployment (key checks incl. 3 pairings)",
      value: Number(deployment!.gasUsed),
      unit: "gas",
    });
    return rows;
  },
};
export default bench;
