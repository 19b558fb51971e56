/**
 * Deployment from the command line (`npm run deploy -- ...`).
 *
 *   deploy --network <local|taikoHoodi|taikoHekla|taiko> --artifacts <artifacts.json> [--token <address>] [--reset]
 *   deploy --network <name> --verification-key <verification_key.json> --zkey-hash <sha256> [...]
 *   deploy check --network <name> [--artifacts <artifacts.json> | --zkey-hash <sha256>]
 *
 * --rpc-url overrides the network's URL (e.g. a local node on another port); --deployments-dir
 * keeps the record elsewhere than deploy/deployments.
 *
 * The first form deploys TestToken (or uses --token), Groth16Verifier and Marketplace through the
 * Ignition modules with deploy/parameters/<name>.json, and records the deployment in
 * deploy/deployments/chain-<id>/ (a rerun resumes it). `check` compares the recorded deployment with
 * the chain. RPC URL and key come from the network's configuration variables (hardhat.config.ts):
 * environment variables or Hardhat's keystore. Progress goes to stderr; the result to stdout as JSON.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { readDeployment } from "../../node/src/chain/deployment.js";
import type { CircuitArtifacts } from "../circuits/instances.js";
import { stderrLog } from "../lib/log.js";
import { averageBlockTimeMs } from "./block-time.js";
import { deploymentProblems } from "./check.js";
import { deployHoldfast } from "./holdfast.js";
import { NETWORKS, NETWORK_NAMES, isNetworkName, readNetworkParameters } from "./networks.js";

const usage = `usage:
  npm run deploy -- --network <${NETWORK_NAMES.join("|")}> --artifacts <artifacts.json> [--token <address>] [--reset] [--deployments-dir <dir>] [--rpc-url <url>]
  npm run deploy -- --network <name> --verification-key <verification_key.json> --zkey-hash <sha256> [...]
  npm run deploy -- check --network <name> [--artifacts <artifacts.json> | --zkey-hash <sha256>] [--deployments-dir <dir>]`;

interface Setup {
  verificationKey?: string;
  zkeyHash?: string;
}

/** The verification key and zkey hash, from artifacts.json or given one by one. */
async function readSetup(values: Record<string, unknown>): Promise<Setup> {
  const artifactsFile = values.artifacts as string | undefined;
  if (artifactsFile !== undefined) {
    if (values["verification-key"] !== undefined || values["zkey-hash"] !== undefined) {
      throw new Error(`give --artifacts or --verification-key/--zkey-hash, not both\n${usage}`);
    }
    const artifacts = JSON.parse(await readFile(artifactsFile, "utf8")) as CircuitArtifacts;
    if (typeof artifacts.vkeyJson !== "string" || typeof artifacts.zkeyHash !== "string") {
      throw new Error(
        `${artifactsFile} has no vkeyJson and zkeyHash: not a circuits artifacts.json`,
      );
    }
    return { verificationKey: artifacts.vkeyJson, zkeyHash: artifacts.zkeyHash };
  }
  const setup: Setup = {};
  if (typeof values["verification-key"] === "string") {
    setup.verificationKey = values["verification-key"];
  }
  if (typeof values["zkey-hash"] === "string") setup.zkeyHash = values["zkey-hash"];
  return setup;
}

async function main(argv: string[]): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      network: { type: "string" },
      artifacts: { type: "string" },
      "verification-key": { type: "string" },
      "zkey-hash": { type: "string" },
      token: { type: "string" },
      reset: { type: "boolean", default: false },
      "deployments-dir": { type: "string" },
      "rpc-url": { type: "string" },
    },
  });
  const command = positionals[0] ?? "deploy";
  if (positionals.length > 1 || (command !== "deploy" && command !== "check")) {
    throw new Error(usage);
  }
  const name = values.network;
  if (name === undefined || !isNetworkName(name)) {
    throw new Error(`--network must be one of ${NETWORK_NAMES.join(", ")}\n${usage}`);
  }
  const descriptor = NETWORKS[name];
  const setup = await readSetup(values);
  const log = stderrLog("deploy");

  const hre = (await import("hardhat")).default;
  const rpcUrl = values["rpc-url"];
  const connection = await hre.network.create({
    network: descriptor.hardhatNetwork,
    ...(rpcUrl === undefined ? {} : { override: { url: rpcUrl } }),
  });
  try {
    const chainId = BigInt(
      (await connection.provider.request({ method: "eth_chainId" })) as string,
    );
    if (chainId !== descriptor.chainId) {
      throw new Error(
        `${name} is chain ${descriptor.chainId}, but the RPC serves chain ${chainId}`,
      );
    }
    const deploymentsDir = values["deployments-dir"];
    if (command === "check") {
      const deployment = await readDeployment(
        chainId,
        deploymentsDir ? { dir: deploymentsDir } : {},
      );
      if (deployment === undefined) throw new Error(`no deployment recorded for chain ${chainId}`);
      const parameters = (await readNetworkParameters(name)).marketplace;
      const provider = connection.ethers.provider;
      const problems = await deploymentProblems(provider, deployment, {
        parameters,
        ...(setup.zkeyHash === undefined ? {} : { zkeyHash: setup.zkeyHash }),
      });
      if (problems.length > 0) throw new Error(`deployment problems:\n  ${problems.join("\n  ")}`);
      log(`chain ${chainId}: the recorded deployment matches the chain and ${name}'s parameters`);
      return { ...deployment, chainId: deployment.chainId.toString() };
    }
    if (setup.verificationKey === undefined || setup.zkeyHash === undefined) {
      throw new Error(
        `the setup is needed: --artifacts, or --verification-key and --zkey-hash\n${usage}`,
      );
    }
    if (name !== "local") {
      // Hardhat's local chain mines on demand (and in bursts when asked): its average means nothing.
      const { minBlockTimeMs } = (await readNetworkParameters(name)).marketplace.proofs;
      const observed = await averageBlockTimeMs(connection.provider);
      if (observed !== undefined) {
        log(
          `last ${observed.blocks} blocks came every ${observed.averageMs.toFixed(0)} ms on average`,
        );
        if (observed.averageMs < minBlockTimeMs) {
          throw new Error(
            `${name} produced blocks every ${observed.averageMs.toFixed(0)} ms on average, faster ` +
              `than the parameters' minBlockTimeMs ${minBlockTimeMs}: revise deploy/parameters/${name}.json`,
          );
        }
      }
    }
    log(`deploying to ${name} (chain ${chainId})`);
    const deployment = await deployHoldfast(connection, {
      parameters: name,
      verificationKey: setup.verificationKey,
      zkeyHash: setup.zkeyHash,
      ...(values.token === undefined ? {} : { token: values.token }),
      ...(deploymentsDir === undefined ? {} : { deploymentsDir }),
      reset: values.reset,
      log,
    });
    return { ...deployment, chainId: deployment.chainId.toString() };
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`deploy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
