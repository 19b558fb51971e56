import { rm } from "node:fs/promises";
import type { NodeConfig } from "../../../node/src/config/options.js";
import type { HoldfastNode } from "../../../node/src/node.js";
import { localNodeConfig, startLocalNode, tempDataDir } from "../../helpers/local-node.js";

/** A real node in this process on 127.0.0.1 with a free port, hashing with the reference Poseidon2. */
export async function startTestNode(
  overrides: Partial<NodeConfig> = {},
): Promise<{ node: HoldfastNode; url: string; dataDir: string; stop(): Promise<void> }> {
  const dataDir = await tempDataDir("api");
  const node = await startLocalNode(
    localNodeConfig(dataDir, { metricsPort: 0, metricsBindAddress: "127.0.0.1", ...overrides }),
  );
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
