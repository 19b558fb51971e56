/** `holdfast start`: runs a node until SIGINT or SIGTERM. */
import { loadConfig } from "../config/load.js";
import type { NodeConfig } from "../config/options.js";
import { createLogger } from "../log.js";
import { HoldfastNode } from "../node.js";
import { defaultHashing } from "../slots/default-hashing.js";

export async function startNode(
  flags: Record<string, string | boolean | string[] | undefined>,
): Promise<{ node: HoldfastNode; config: NodeConfig }> {
  const config = await loadConfig({ flags, env: process.env });
  const logger = createLogger(config.logLevel);
  const node = await HoldfastNode.start(config, { logger, hashing: defaultHashing() });
  return { node, config };
}

/** Resolves when the node has stopped after a signal. */
export function stopOnSignals(node: HoldfastNode): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      node.stop().then(resolve, (error: unknown) => {
        process.stderr.write(`holdfast: error while stopping: ${String(error)}\n`);
        resolve();
      });
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
