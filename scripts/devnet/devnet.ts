/**
 * A local Holdfast network for the demo, the end-to-end tests and the soak run: a Hardhat chain, the
 * marketplace system deployed on it (dev circuit), and node processes — a client, hosts and a
 * validator — each with its own folder, ports, funded account and log. `stop()` ends every process;
 * `installCleanup` (processes.ts) makes sure of it when the program is interrupted or fails.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type CircuitArtifacts, NAMED_INSTANCES, buildInstance } from "../circuits/instances.js";
import { MarketplaceClient } from "../../node/src/chain/marketplace-client.js";
import { DEV_ACCOUNT_COUNT, type DevAccount, devAccount } from "./accounts.js";
import { Chain } from "./chain.js";
import {
  DEVNET_PROOF_TIMINGS,
  type Deployment,
  type ProofTimings,
  deploySystem,
  fund,
} from "./deploy.js";
import { DevnetNode, type NodeRole } from "./nodes.js";
import { ChainObserver } from "./observer.js";
import { removeOnExit } from "./processes.js";

export interface DevnetOptions {
  /** Host nodes (each with the host role and the dev circuit). */
  hosts: number;
  /** Start a validator node. */
  validator?: boolean;
  /** Folder for everything (logs, data); a new temporary folder by default. */
  dir?: string;
  /** Keep the folder after stop() (it is removed by default when it was made here). */
  keep?: boolean;
  timings?: ProofTimings;
  /** Tokens minted to the client and each host. */
  tokens?: bigint;
  /** Progress lines. */
  log?: (line: string) => void;
  /** A block every this many ms (0: only when transactions come). */
  blockTimeMs?: number;
}

export const DEFAULT_TOKENS = 10n ** 24n;

export class Devnet {
  readonly nodes: DevnetNode[] = [];
  #nextAccount = 1;
  #funding: Promise<unknown> = Promise.resolve();
  #stopped = false;

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
    readonly options: DevnetOptions,
    readonly artifacts: CircuitArtifacts,
    readonly chain: Chain,
    readonly deployment: Deployment,
    readonly observer: ChainObserver,
    /** A read-only client of the marketplace (for the contract's views). */
    readonly market: MarketplaceClient,
  ) {}

  static async start(options: DevnetOptions): Promise<Devnet> {
    const log = options.log ?? (() => {});
    const ownsDir = options.dir === undefined;
    const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), "holdfast-devnet-")));
    removeOnExit(dir, ownsDir && !options.keep);
    log(`building the dev circuit (cached after the first run)`);
    const artifacts = await buildInstance(NAMED_INSTANCES.dev, { log });
    log(`starting the chain (hardhat node)`);
    const chain = await Chain.start({ dir });
    let devnet: Devnet | undefined;
    try {
      log(`chain at ${chain.url}; deploying TestToken, Groth16Verifier (dev) and Marketplace`);
      const deployment = await deploySystem(chain, artifacts, options.timings);
      log(`marketplace at ${deployment.marketplace} (block ${deployment.deployBlock})`);
      const observer = new ChainObserver(
        chain.provider,
        deployment.marketplace,
        deployment.deployBlock,
      );
      observer.start();
      const market = await MarketplaceClient.connect({
        provider: chain.provider,
        address: deployment.marketplace,
        confirmations: 0,
      });
      devnet = new Devnet(dir, ownsDir, options, artifacts, chain, deployment, observer, market);
      if ((options.blockTimeMs ?? 1_000) > 0) chain.startTicker(options.blockTimeMs ?? 1_000);
      const client = await devnet.addNode("client", "client");
      log(`client node up: API ${client.api.url}, account ${client.account!.address}`);
      const hosts = await Promise.all(
        Array.from({ length: options.hosts }, (_, i) => devnet!.addNode(`host-${i + 1}`, "host")),
      );
      for (const host of hosts)
        log(`${host.name} up: API ${host.api.url}, account ${host.account!.address}`);
      if (options.validator ?? true) {
        const validator = await devnet.addNode("validator", "validator");
        log(`validator up: API ${validator.api.url}, account ${validator.account!.address}`);
      }
      return devnet;
    } catch (error) {
      if (devnet) await devnet.stop();
      else await chain.stop();
      throw error;
    }
  }

  get timings(): ProofTimings {
    return this.options.timings ?? DEVNET_PROOF_TIMINGS;
  }

  get period(): bigint {
    return BigInt(this.timings.period);
  }

  get circuitDir(): string {
    return path.dirname(this.artifacts.zkey);
  }

  node(name: string): DevnetNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name}`);
    return node;
  }

  get client(): DevnetNode {
    return this.node("client");
  }

  get hosts(): DevnetNode[] {
    return this.nodes.filter((n) => n.options.role === "host");
  }

  get validator(): DevnetNode | undefined {
    return this.nodes.find((n) => n.options.role === "validator");
  }

  /** The next unused Hardhat account, funded with tokens (except for a validator's). */
  newAccount(withTokens: boolean): Promise<DevAccount> {
    if (this.#nextAccount >= DEV_ACCOUNT_COUNT) throw new Error("the devnet ran out of accounts");
    const account = devAccount(this.#nextAccount++);
    // One mint at a time: the deployer's transactions must go out in nonce order.
    const funded = this.#funding.then(async () => {
      if (withTokens) {
        await fund(
          this.chain,
          this.deployment,
          [account.address],
          this.options.tokens ?? DEFAULT_TOKENS,
        );
      }
      return account;
    });
    this.#funding = funded.catch(() => account);
    return funded;
  }

  /** The node whose account is `address` (case-insensitive). */
  nodeOf(address: string): DevnetNode | undefined {
    return this.nodes.find((n) => n.account?.address.toLowerCase() === address.toLowerCase());
  }

  /** A node's name, or the address when it is no node's. */
  nameOf(address: string): string {
    return this.nodeOf(address)?.name ?? address;
  }

  /** Tokens held by `address` now. */
  tokenBalance(address: string): Promise<bigint> {
    return this.market.tokenBalance(address);
  }

  /**
   * Creates and starts a node, joining through the client (or, when it is not running, through the
   * nodes that are).
   */
  async addNode(name: string, role: NodeRole): Promise<DevnetNode> {
    const account = role === "reader" ? undefined : await this.newAccount(role !== "validator");
    const client = this.nodes.find((n) => n.options.role === "client" && n.running);
    const peers = client ? [client] : this.nodes.filter((n) => n.running);
    const node = await DevnetNode.create({
      name,
      role,
      dir: this.dir,
      ...(account
        ? { chain: { url: this.chain.url, marketplace: this.deployment.marketplace, account } }
        : {}),
      circuitDir: this.circuitDir,
      bootstrap: peers.map((n) => n.address).filter((a) => a !== ""),
    });
    this.nodes.push(node);
    await node.start();
    return node;
  }

  /** Stops every node, the observer and the chain; removes the folder unless asked to keep it. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all(this.nodes.map((node) => node.stop().catch(() => node.kill())));
    await this.observer.stop();
    await this.chain.stop();
    if (this.ownsDir && !this.options.keep) {
      await rm(this.dir, { recursive: true, force: true });
      removeOnExit(this.dir, false);
    }
  }
}
