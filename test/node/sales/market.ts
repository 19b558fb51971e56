/**
 * A marketplace with the dev circuit's real Groth16Verifier on Hardhat's in-process chain, and real
 * Holdfast nodes in this process connected to it through the injected provider.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import { network } from "hardhat";
import type { MarketplaceConfigStruct } from "../../../node/src/chain/contracts/marketplace/Marketplace.js";
import type { NodeConfig } from "../../../node/src/config/options.js";
import type { HoldfastNode } from "../../../node/src/node.js";
import { verificationKeyFromSnarkjs } from "../../../node/src/proof/groth16-encoding.js";
import {
  type CircuitArtifacts,
  NAMED_INSTANCES,
  buildInstance,
} from "../../../scripts/circuits/instances.js";
import {
  type Config,
  STARTING_BALANCE,
  exampleConfig,
} from "../../contracts/marketplace/testbed.js";
import { localWallet } from "../chain/accounts.js";
import { localNodeConfig, startLocalNode, tempDataDir } from "../../helpers/local-node.js";

export type Connection = Awaited<ReturnType<typeof network.create>>;

export interface Market {
  connection: Connection;
  artifacts: CircuitArtifacts;
  /** --circuit-dir for hosts: the folder of the dev instance's artifacts.json. */
  circuitDir: string;
  address: string;
  config: Config;
  /** Private keys of funded accounts by HD index (1: client, 2..: hosts). */
  key(index: number): string;
  /** Chain time of the latest block. */
  now(): Promise<bigint>;
  /** Moves chain time to `timestamp` (mining a block there). */
  timeTo(timestamp: bigint): Promise<void>;
  /** Stops mining the block a second that keeps chain time moving as on a real chain. */
  close(): void;
}

/** Marketplace settings for node tests: Codex's, with a short period a dev proof fits in. */
export function nodeTestConfig(period = 60n): Config {
  const config = exampleConfig();
  config.proofs.period = period;
  config.proofs.timeout = 10n;
  return config;
}

export async function deployMarket(config: Config = nodeTestConfig()): Promise<Market> {
  const connection = await network.create();
  const { ethers, networkHelpers } = connection;
  const artifacts = await buildInstance(NAMED_INSTANCES.dev);
  // The pointer reads up to 256 blocks back; the marketplace refuses to exist before that.
  await networkHelpers.mine(300, { interval: 0 });
  const [deployer] = await ethers.getSigners();
  const token = await ethers.deployContract("TestToken", [deployer!.address, 0n]);
  const vkey = JSON.parse(await readFile(artifacts.vkeyJson, "utf8")) as unknown;
  const verifier = await ethers.deployContract("Groth16Verifier", [
    verificationKeyFromSnarkjs(vkey),
  ]);
  const marketplace = await ethers.deployContract("Marketplace", [
    config as MarketplaceConfigStruct,
    await token.getAddress(),
    await verifier.getAddress(),
  ]);
  for (let i = 1; i <= 5; i++) {
    await token.getFunction("mint")(localWallet(i, ethers.provider).address, STARTING_BALANCE);
  }
  const now = async () => BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  // A block a second, as a chain with a block time makes them: the chain's time, which the host
  // reads from the latest block, then moves on even while nobody sends a transaction.
  const ticker = setInterval(() => {
    ethers.provider.send("evm_mine", []).catch(() => {});
  }, 1_000);
  return {
    connection,
    artifacts,
    circuitDir: path.dirname(artifacts.zkey),
    address: await marketplace.getAddress(),
    config,
    key: (index) => localWallet(index, ethers.provider).privateKey,
    now,
    async timeTo(timestamp) {
      await networkHelpers.time.increaseTo(timestamp);
    },
    close() {
      clearInterval(ticker);
    },
  };
}

export interface TestNode {
  node: HoldfastNode;
  url: string;
  dataDir: string;
  /** Stops the node, keeping its data folder (for a restart). */
  stop(): Promise<void>;
  /** Stops the node if running and removes its data folder. */
  destroy(): Promise<void>;
}

/** A node on the market's chain with the account of HD index `account`. */
export async function startMarketNode(
  market: Market,
  account: number,
  overrides: Partial<NodeConfig> = {},
): Promise<TestNode> {
  const dataDir = overrides.dataDir ?? (await tempDataDir("sales"));
  const config = localNodeConfig(dataDir, {
    networkTimeout: 5_000,
    ethPrivateKey: market.key(account),
    marketplaceAddress: market.address,
    ethConfirmations: 0,
    ethPollInterval: 250,
    ...overrides,
    dataDir,
  });
  const node = await startLocalNode(config, {
    logger: pino({ level: process.env.HOLDFAST_TEST_LOG ?? "silent" }),
    provider: market.connection.ethers.provider,
  });
  let running = true;
  const stop = async () => {
    if (running) await node.stop();
    running = false;
  };
  return {
    node,
    url: `${node.apiUrl}/api/v1`,
    dataDir,
    stop,
    async destroy() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 100 ms until it returns a value, or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 150_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
