import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { type NodeConfig, defaultConfig } from "../../../node/src/config/options.js";
import { HoldfastNode } from "../../../node/src/node.js";
import { inThreadBlockRoots } from "../../../node/src/slots/hasher.js";
import { referenceTrees } from "../../helpers/reference-trees.js";

/** A real node in this process on 127.0.0.1 with a free port, hashing with the reference Poseidon2. */
export async function startTestNode(
  overrides: Partial<NodeConfig> = {},
): Promise<{ node: HoldfastNode; url: string; dataDir: string; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-api-"));
  const config: NodeConfig = {
    ...defaultConfig(),
    dataDir,
    apiPort: 0,
    apiBindAddress: "127.0.0.1",
    metricsPort: 0,
    metricsBindAddress: "127.0.0.1",
    logLevel: "silent" as NodeConfig["logLevel"],
    storageQuota: 2 ** 30,
    maxUploadSize: undefined,
    listenAddrs: ["/ip4/127.0.0.1/tcp/0"],
    announceAddrs: [],
    bootstrapNodes: [],
    networkTimeout: 30_000,
    ...overrides,
  };
  const node = await HoldfastNode.start(config, {
    logger: pino({ level: "silent" }),
    hashing: { trees: referenceTrees, roots: inThreadBlockRoots(referenceTrees) },
  });
  return {
    node,
    url: `${node.apiUrl}/api/v1`,
    dataDir,
    async stop() {
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
