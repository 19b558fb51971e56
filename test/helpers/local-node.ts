/**
 * A real Holdfast node inside the test process: the API, store and p2p host on 127.0.0.1 with
 * ports the OS picks, no peers, silent logs, and Poseidon2 trees hashed in this thread by the
 * reference implementation (no worker threads to start or leak). The API, purchasing, sales and
 * validator tests add their role's settings as overrides.
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Provider } from "ethers";
import { type Logger, pino } from "pino";
import { type NodeConfig, defaultConfig } from "../../node/src/config/options.js";
import { HoldfastNode } from "../../node/src/node.js";
import { inThreadBlockRoots } from "../../node/src/slots/hasher.js";
import { referenceTrees } from "./reference-trees.js";

/** A new empty folder under the OS's temp folder, named `holdfast-<label>-…`. */
export function tempDataDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `holdfast-${label}-`));
}

/** The configuration of a local test node on `dataDir`; `overrides` win. */
export function localNodeConfig(dataDir: string, overrides: Partial<NodeConfig> = {}): NodeConfig {
  return {
    ...defaultConfig(),
    dataDir,
    apiPort: 0,
    apiBindAddress: "127.0.0.1",
    metricsPort: undefined,
    logLevel: "silent" as NodeConfig["logLevel"],
    storageQuota: 2 ** 30,
    maxUploadSize: undefined,
    listenAddrs: ["/ip4/127.0.0.1/tcp/0"],
    announceAddrs: [],
    bootstrapNodes: [],
    networkTimeout: 30_000,
    ...overrides,
  };
}

/** Starts a node with `config`, on the injected chain `provider` when given. */
export function startLocalNode(
  config: NodeConfig,
  options: { provider?: Provider; logger?: Logger } = {},
): Promise<HoldfastNode> {
  return HoldfastNode.start(config, {
    logger: options.logger ?? pino({ level: "silent" }),
    hashing: { trees: referenceTrees, roots: inThreadBlockRoots(referenceTrees) },
    ...(options.provider ? { provider: options.provider } : {}),
  });
}
