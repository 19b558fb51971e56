/**
 * A marketplace on Hardhat's EVM with hosts that fill slots (TestGroth16Verifier proofs) and skip
 * proofs, and Holdfast nodes running the validator role against it in this process.
 */
import { rm } from "node:fs/promises";
import type { Log, Provider } from "ethers";
import type { NodeConfig } from "../../../node/src/config/options.js";
import type { HoldfastNode } from "../../../node/src/node.js";
import type { Validator } from "../../../node/src/validator/validator.js";
import {
  type Config,
  type Connection,
  type Deployed,
  type Request,
  exampleConfig,
  exampleRequest,
  requestIdOf,
  slotIdOf,
  testbed,
} from "../../contracts/marketplace/testbed.js";
import { localNodeConfig, startLocalNode, tempDataDir } from "../../helpers/local-node.js";
import { localWallet } from "../chain/accounts.js";

/**
 * Periods of 120 s with a 60 s marking window. A 30 s minimum block time lets the downtime be 2
 * blocks (the window spans at most 2 blocks), so a pointer is rarely in downtime.
 */
export function validatorConfig(): Config {
  const config = exampleConfig();
  config.proofs = {
    ...config.proofs,
    period: 120n,
    timeout: 60n,
    downtime: 2n,
    minBlockTimeMs: 30_000n,
  };
  config.collateral = { ...config.collateral, maxNumberOfSlashes: 3n };
  return config;
}

/** Hardhat's account indexes of the testbed's validator and stranger (see testbed deploy). */
export const VALIDATOR_ACCOUNT = 7;
export const SECOND_VALIDATOR_ACCOUNT = 8;

export interface ValidatorNode {
  node: HoldfastNode;
  validator: Validator;
  dataDir: string;
  /** Stops the node, keeping its data directory. */
  stop(): Promise<void>;
  /** Stops the node and deletes its data directory. */
  destroy(): Promise<void>;
}

/** Starts a node with --validator on `provider`; reuses `dataDir` when given (a restart). */
export async function startValidatorNode(
  provider: Provider,
  marketplaceAddress: string,
  options: { account?: number; dataDir?: string; config?: Partial<NodeConfig> } = {},
): Promise<ValidatorNode> {
  const dataDir = options.dataDir ?? (await tempDataDir("validator"));
  const config = localNodeConfig(dataDir, {
    metricsPort: 0,
    metricsBindAddress: "127.0.0.1",
    storageQuota: 2 ** 26,
    ethPrivateKey: localWallet(options.account ?? VALIDATOR_ACCOUNT, provider).privateKey,
    marketplaceAddress,
    ethConfirmations: 0,
    // Ticks are driven by the tests (validator.tick()); the timer would only add noise.
    ethPollInterval: 3_600_000,
    validator: true,
    ...options.config,
  });
  const node = await startLocalNode(config, { provider });
  const validator = node.marketplace!.validator!;
  return {
    node,
    validator,
    dataDir,
    stop: () => node.stop(),
    async destroy() {
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A provider that refuses eth_getLogs ranges wider than `maxRange` blocks, as public RPCs do. */
export function rangeLimitedProvider(provider: Provider, maxRange: number) {
  const stats = { refused: 0, queries: [] as { fromBlock: number; toBlock: number }[] };
  const limited = new Proxy(provider, {
    get(target, prop, receiver) {
      if (prop === "getLogs") {
        return async (filter: { fromBlock: number; toBlock: number }): Promise<Log[]> => {
          stats.queries.push({ fromBlock: filter.fromBlock, toBlock: filter.toBlock });
          if (filter.toBlock - filter.fromBlock + 1 > maxRange) {
            stats.refused++;
            throw new Error(`block range too large: at most ${maxRange} blocks per query`);
          }
          return target.getLogs(filter);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function"
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { provider: limited, stats };
}

/** The testbed with the validator's configuration, plus the steps the validator tests repeat. */
export async function validatorChain(connection: Connection) {
  const tb = testbed(connection, validatorConfig());
  const d: Deployed = await tb.deploy();
  const { ethers } = connection;
  const downtime = Number(tb.config.proofs.downtime);

  /**
   * Requests storage with `slots` slots (proof every period) and fills slot i by hosts[i]; draws
   * new nonces until `accept` takes the request. `duration` in seconds (expiry: half of it).
   */
  async function filledRequest(
    slots: number,
    options: { accept?: (request: Request) => boolean; duration?: bigint } = {},
  ) {
    const draw = () => {
      const request = exampleRequest(d.actors.client.address);
      request.ask.slots = BigInt(slots);
      if (options.duration !== undefined) {
        request.ask.duration = options.duration;
        request.expiry = options.duration / 2n;
      }
      return request;
    };
    let request = draw();
    while (options.accept && !options.accept(request)) request = draw();
    const { requestId } = await tb.requestStorage(d, request);
    await tb.fillAll(d, request);
    const slotIds = Array.from({ length: slots }, (_, i) => slotIdOf(requestId, i));
    return { request, requestId, slotIds };
  }

  /**
   * Ends the current period p (its marking window opens) at a block after which, for every slot,
   * the pointer for p stays out of downtime for `span` blocks: marks sent back to back then all
   * find a proof required. Returns p.
   *
   * Pointers depend on the block number only, but every mined block moves the clock by a second,
   * and the window lasts only `timeout` seconds. So the blocks are mined before the period ends
   * while there is time left in it, and only the rest after.
   */
  async function endPeriodRequiringProofs(slotIds: string[], span = 24): Promise<bigint> {
    const latest = await ethers.provider.getBlock("latest");
    const period = tb.periodOf(BigInt(latest!.timestamp));
    const end = tb.periodEnd(period);
    const clearFrom = (block: number) =>
      slotIds.every((id) => {
        for (let k = 0; k < span; k++)
          if (tb.pointerAt(id, period, block + k) < downtime) return false;
        return true;
      });
    // Blocks to mine so that, after them and the block that ends the period, the rest are clear.
    let needed = 0;
    while (!clearFrom(latest!.number + needed + 2)) needed++;
    const before = Math.max(0, Math.min(needed, Number(end - BigInt(latest!.timestamp)) - 5));
    const after = needed - before;
    // Leave the validators most of the window for their own blocks.
    if (after > Number(tb.config.proofs.timeout) / 2) {
      throw new Error(`${after} blocks would be mined in a ${tb.config.proofs.timeout} s window`);
    }
    await tb.mineBlocks(before);
    await tb.time.increaseTo(end);
    await tb.mineBlocks(after);
    return period;
  }

  /** Moves to the end of the current period (its marking window opens); returns that period. */
  async function endPeriod(): Promise<bigint> {
    const period = tb.periodOf(await tb.latestTimestamp());
    await tb.time.increaseTo(tb.periodEnd(period));
    return period;
  }

  /** ProofMarkedMissing events since `fromBlock`: [slotId, period, validator] each. */
  async function marks(fromBlock = 0) {
    const events = await d.marketplace.queryFilter(
      d.marketplace.filters.ProofMarkedMissing(),
      fromBlock,
    );
    return events.map((e) => ({
      slotId: e.args[0] as string,
      period: e.args[1] as bigint,
      validator: e.args[2] as string,
    }));
  }

  return {
    tb,
    d,
    ethers,
    address: await d.marketplace.getAddress(),
    filledRequest,
    endPeriodRequiringProofs,
    endPeriod,
    marks,
    requestIdOf,
  };
}
