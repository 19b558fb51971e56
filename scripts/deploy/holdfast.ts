/**
 * Deploys the whole system (token or an existing token, Groth16Verifier, Marketplace) through the
 * Ignition modules in deploy/modules/, with a network's parameters from deploy/parameters/, and
 * returns the addresses and the marketplace's deploy block. `npm run deploy` (cli.ts) and the demo
 * call it; tests pass a temporary `deploymentsDir` so nothing is written into the repository.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import {
  HardhatArtifactResolver,
  errorDeploymentResultToExceptionMessage,
} from "@nomicfoundation/hardhat-ignition/helpers";
import {
  type DeploymentParameters,
  DeploymentResultType,
  type ExecutionEventListener,
  ExecutionEventType,
  type TransactionConfirmEvent,
  type TransactionSendEvent,
  deploy,
} from "@nomicfoundation/ignition-core";
import { getAddress, isAddress } from "ethers";
import type { ArtifactManager } from "hardhat/types/artifacts";
import type { NetworkConnection } from "hardhat/types/network";
import type { Groth16VerificationKeyArg } from "../../node/src/proof/groth16-encoding.js";
import {
  DEFAULT_DEPLOYMENTS_DIR,
  DEPLOYMENT_FUTURES,
  deploymentDir,
  readDeployment,
} from "../../node/src/chain/deployment.js";
import HoldfastModule from "../../deploy/modules/Holdfast.js";
import HoldfastExistingTokenModule from "../../deploy/modules/HoldfastExistingToken.js";
import { readVerificationKey } from "./verifier-parameters.js";
import {
  DeployParametersError,
  type MarketplaceConfiguration,
  type NetworkName,
  type NetworkParameters,
  networkByChainId,
  proofTimingProblems,
  readNetworkParameters,
} from "./networks.js";

export interface DeployHoldfastOptions {
  /** A network's parameters: its name (deploy/parameters/<name>.json) or parameters read already. */
  parameters: NetworkName | NetworkParameters;
  /** The setup's verification key: snarkjs's verification_key.json path, or the converted key. */
  verificationKey: string | Groth16VerificationKeyArg;
  /** SHA-256 of the setup's zkey (artifacts.json's zkeyHash): the marketplace names its setup. */
  zkeyHash: string;
  /** Pay in this existing ERC-20 instead of deploying TestToken (required where no test token is). */
  token?: string;
  /**
   * Where Ignition keeps the record (chain-<id>/ below it). Default: the repository's
   * deploy/deployments for networks reached over JSON-RPC, nothing for in-process simulated ones.
   * null: keep nothing (the deploy cannot be resumed).
   */
  deploymentsDir?: string | null;
  /** Delete the chain's existing record first (a restarted local node is a new chain). */
  reset?: boolean;
  /** Progress lines (each transaction sent and confirmed). */
  log?: (line: string) => void;
  /** The artifacts to deploy from; default: this repository's (the global Hardhat runtime's). */
  artifacts?: ArtifactManager;
}

export interface HoldfastDeployment {
  chainId: bigint;
  token: string;
  verifier: string;
  marketplace: string;
  /** Block of the marketplace's deployment transaction: where event scans start. */
  deployBlock: number;
  /** The record's folder, when one is kept. */
  deploymentDir?: string;
}

/** The marketplace refuses to be deployed at block 256 or lower (its pointer reads 256 back). */
const MIN_DEPLOY_BLOCK = 257;

/** A connection to any chain type: only its provider and network type are used. */
type AnyConnection = Pick<NetworkConnection<string>, "provider" | "networkConfig">;

export async function deployHoldfast(
  connection: AnyConnection,
  options: DeployHoldfastOptions,
): Promise<HoldfastDeployment> {
  const provider = connection.provider;
  const chainId = BigInt((await provider.request({ method: "eth_chainId" })) as string);
  const network = networkByChainId(chainId);
  const parameters =
    typeof options.parameters === "string"
      ? await readNetworkParameters(options.parameters)
      : options.parameters;
  const source =
    typeof options.parameters === "string" ? `${options.parameters} parameters` : "parameters";
  if (network !== undefined) {
    // The chain's own block time decides, whichever network's parameters were given.
    const problems = proofTimingProblems(parameters.marketplace.proofs, network.fastestBlockTimeMs);
    if (problems.length > 0) {
      throw new DeployParametersError(
        source,
        "Marketplace.configuration.proofs",
        `unfit for chain ${chainId} (${network.name}): ${problems.join("; ")}`,
      );
    }
  }
  if (typeof options.zkeyHash !== "string" || options.zkeyHash === "") {
    throw new DeployParametersError(source, "zkeyHash", "the setup's zkey hash is required");
  }
  if (options.token !== undefined && !isAddress(options.token)) {
    throw new DeployParametersError(source, "token", `not an address: ${options.token}`);
  }
  if (options.token === undefined && parameters.testToken === undefined) {
    const where = network?.testToken === false ? `${network.name} has no test token: ` : "";
    throw new DeployParametersError(
      source,
      "token",
      `${where}give an existing token's address (no TestToken parameters)`,
    );
  }
  const verificationKey =
    typeof options.verificationKey === "string"
      ? await readVerificationKey(options.verificationKey)
      : options.verificationKey;

  const configuration: MarketplaceConfiguration = {
    ...parameters.marketplace,
    proofs: { ...parameters.marketplace.proofs, zkeyHash: options.zkeyHash },
  };
  const deploymentParameters: DeploymentParameters = {
    Marketplace: { configuration },
    Groth16Verifier: { verificationKey },
  };
  if (options.token !== undefined) {
    deploymentParameters.ExistingToken = { address: getAddress(options.token) };
  } else if (parameters.testToken?.faucetLimit !== undefined) {
    deploymentParameters.TestToken = { faucetLimit: parameters.testToken.faucetLimit };
  }

  await ensureHashWindow(connection, options.log);

  const simulated = connection.networkConfig.type === "edr-simulated";
  const root =
    options.deploymentsDir === undefined
      ? simulated
        ? undefined
        : DEFAULT_DEPLOYMENTS_DIR
      : (options.deploymentsDir ?? undefined);
  const dir = root === undefined ? undefined : deploymentDir(chainId, root);
  if (dir !== undefined && options.reset) await rm(dir, { recursive: true, force: true });
  if (root !== undefined) await refuseStaleRecord(connection, chainId, root);

  const confirmedIn = new Map<string, string>();
  const log = options.log;
  const listener = eventListener({
    transactionSend: (e) => log?.(`sent ${e.futureId}: ${e.hash}`),
    transactionConfirm: (e) => {
      confirmedIn.set(e.futureId, e.hash);
      log?.(`confirmed ${e.futureId}`);
    },
  });
  const accounts = (await provider.request({ method: "eth_accounts" })) as string[];
  const artifacts = options.artifacts ?? (await import("hardhat")).artifacts;
  const result = await deploy({
    provider,
    artifactResolver: new HardhatArtifactResolver(artifacts),
    executionEventListener: listener,
    deploymentDir: dir,
    ignitionModule: options.token === undefined ? HoldfastModule : HoldfastExistingTokenModule,
    deploymentParameters,
    accounts,
  });
  if (result.type !== DeploymentResultType.SUCCESSFUL_DEPLOYMENT) {
    throw new Error(`deployment failed: ${errorDeploymentResultToExceptionMessage(result)}`);
  }
  const address = (futureId: string) => {
    const contract = result.contracts[futureId];
    if (contract === undefined) throw new Error(`deployment result lacks ${futureId}`);
    return getAddress(contract.address);
  };
  const tokenFuture = DEPLOYMENT_FUTURES.token.find((id) => result.contracts[id] !== undefined);
  if (tokenFuture === undefined) throw new Error("deployment result lacks the token");

  let deployBlock: number | undefined;
  const marketplaceTx = confirmedIn.get(DEPLOYMENT_FUTURES.marketplace);
  if (marketplaceTx !== undefined) {
    const receipt = (await provider.request({
      method: "eth_getTransactionReceipt",
      params: [marketplaceTx],
    })) as { blockNumber: string } | null;
    if (receipt !== null) deployBlock = Number(BigInt(receipt.blockNumber));
  } else if (root !== undefined) {
    // Resumed: the marketplace was deployed by an earlier run, whose journal has the block.
    deployBlock = (await readDeployment(chainId, { dir: root }))?.deployBlock;
  }
  if (deployBlock === undefined) throw new Error("cannot tell the marketplace's deploy block");

  const deployment: HoldfastDeployment = {
    chainId,
    token: address(tokenFuture),
    verifier: address(DEPLOYMENT_FUTURES.verifier),
    marketplace: address(DEPLOYMENT_FUTURES.marketplace),
    deployBlock,
  };
  if (dir !== undefined) deployment.deploymentDir = path.resolve(dir);
  return deployment;
}

/**
 * Ignition would take a complete record at face value and deploy nothing; when the chain does not
 * have the recorded marketplace (a restarted local node has the same chain id and none of the
 * contracts), stop instead of returning addresses with no code behind them.
 */
async function refuseStaleRecord(connection: AnyConnection, chainId: bigint, root: string) {
  let recorded;
  try {
    recorded = await readDeployment(chainId, { dir: root });
  } catch {
    return; // an incomplete record is a deployment Ignition resumes
  }
  if (recorded === undefined) return;
  const code = (await connection.provider.request({
    method: "eth_getCode",
    params: [recorded.marketplace, "latest"],
  })) as string;
  if (code === "0x") {
    throw new Error(
      `${deploymentDir(chainId, root)} records a marketplace at ${recorded.marketplace}, which ` +
        "this chain does not have (a restarted local node?): deploy with reset to start over",
    );
  }
}

/**
 * Mines up to block 256 on a fresh development chain so the marketplace can be deployed (a real
 * chain is far past it); a chain that cannot mine on request gets a clear error instead.
 */
async function ensureHashWindow(connection: AnyConnection, log?: (line: string) => void) {
  const latest = Number(
    BigInt((await connection.provider.request({ method: "eth_blockNumber" })) as string),
  );
  // Every transaction of the deployment then lands after block 256.
  if (latest + 1 >= MIN_DEPLOY_BLOCK) return;
  const blocks = MIN_DEPLOY_BLOCK - 1 - latest;
  try {
    await connection.provider.request({
      method: "hardhat_mine",
      params: [`0x${blocks.toString(16)}`],
    });
  } catch (error) {
    throw new Error(
      `the chain is at block ${latest}: the marketplace can only be deployed after block 256`,
      { cause: error },
    );
  }
  log?.(`mined ${blocks} blocks: the marketplace needs 256 block hashes behind it`);
}

interface Handlers {
  transactionSend?: (event: TransactionSendEvent) => void;
  transactionConfirm?: (event: TransactionConfirmEvent) => void;
}

/** A full ExecutionEventListener from the few handlers given: the rest do nothing. */
function eventListener(handlers: Handlers): ExecutionEventListener {
  const listener: Record<string, (event: never) => Promise<void>> = {};
  for (const type of Object.values(ExecutionEventType)) {
    const name = type.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const handler = (handlers as Record<string, ((event: never) => void) | undefined>)[name];
    listener[name] = async (event: never) => handler?.(event);
  }
  return listener as unknown as ExecutionEventListener;
}
