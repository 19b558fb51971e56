/**
 * The marketplace roles of a node, composed: one chain connection (provider, account, marketplace
 * client) shared by the client (purchasing), host (sales) and validator roles the config enables.
 * Each role gets what it needs from here and registers its own API routes.
 */
import type { Provider } from "ethers";
import type { Logger } from "pino";
import { connectProvider, loadSigner } from "./chain/connection.js";
import { DatabaseCursorStore } from "./chain/cursor-store.js";
import { deploymentDir, readDeployment } from "./chain/deployment.js";
import { MarketplaceClient } from "./chain/marketplace-client.js";
import type { NodeConfig } from "./config/options.js";
import type { DataService } from "./dataset/service.js";
import { HoldfastError } from "./errors.js";
import type { NodeMetrics } from "./metrics/metrics.js";
import type { NodeNetworking } from "./node.js";
import { Purchasing } from "./purchasing/purchasing.js";
import { Sales } from "./sales/sales.js";
import type { BlockRootHasher } from "./slots/hasher.js";
import type { LevelStore } from "./store/database.js";
import { Validator } from "./validator/validator.js";

/** Everything a role may use. */
export interface RoleContext {
  config: NodeConfig;
  client: MarketplaceClient;
  db: LevelStore;
  service: DataService;
  p2p: NodeNetworking;
  metrics: NodeMetrics;
  logger: Logger;
  cursors: DatabaseCursorStore;
  /** First block to read events from when a role has no cursor yet. */
  startBlock: number;
  /** The node's Poseidon2 block-root hasher (worker threads), for slot trees. */
  hashing?: { roots: BlockRootHasher };
}

/** A running role: stopped in reverse order of starting. */
export interface Role {
  stop(): Promise<void>;
}

export class MarketplaceRoles {
  readonly #roles: Role[] = [];
  #ownsProvider = true;
  /** The client role: present whenever the node has a chain connection. */
  purchasing: Purchasing | undefined;
  /** The host role; undefined unless --persistence. */
  sales: Sales | undefined;
  /** The validator role, when --validator. */
  validator: Validator | undefined;

  private constructor(readonly context: RoleContext) {}

  /** Connects to the chain and starts the enabled roles; undefined when no --eth-provider. */
  static async start(
    config: NodeConfig,
    deps: Omit<RoleContext, "config" | "client" | "cursors" | "startBlock"> & {
      /** A provider to use instead of connecting to config.ethProvider (in-process tests). */
      provider?: Provider;
    },
  ): Promise<MarketplaceRoles | undefined> {
    if (config.ethProvider === undefined && deps.provider === undefined) return undefined;
    const provider =
      deps.provider ??
      connectProvider(config.ethProvider!, { pollingIntervalMs: config.ethPollInterval });
    let roles: MarketplaceRoles | undefined;
    try {
      const signer = await loadSigner(
        {
          privateKey: config.ethPrivateKey,
          keystore: config.ethKeystore,
          passwordFile: config.ethKeystorePasswordFile,
        },
        provider,
      );
      let chainId: bigint;
      try {
        ({ chainId } = await provider.getNetwork());
      } catch (error) {
        throw new HoldfastError(
          "ERR_CHAIN",
          `cannot reach the chain at ${config.ethProvider ?? "the given provider"}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      // An explicit address wins; otherwise the deployment recorded in the repository for this chain.
      let address = config.marketplaceAddress;
      let startBlock = 0;
      if (address === undefined) {
        const deployment = await readDeployment(chainId).catch((error: unknown) => {
          throw new HoldfastError(
            "ERR_INVALID_CONFIG",
            `the deployment record of chain ${chainId} is unusable: ${(error as Error).message}`,
            { cause: error },
          );
        });
        if (!deployment) {
          throw new HoldfastError(
            "ERR_INVALID_CONFIG",
            `no --marketplace-address given and no deployment recorded for chain ${chainId} in ${deploymentDir(chainId)}`,
          );
        }
        address = deployment.marketplace;
        startBlock = deployment.deployBlock ?? 0;
      }
      const client = await MarketplaceClient.connect({
        provider,
        signer,
        address,
        confirmations: config.ethConfirmations,
        maxLogRange: config.ethMaxLogRange,
      });
      const { provider: _injected, ...shared } = deps;
      roles = new MarketplaceRoles({
        ...shared,
        config,
        client,
        cursors: new DatabaseCursorStore(deps.db),
        startBlock,
      });
      roles.#ownsProvider = deps.provider === undefined;
      roles.purchasing = roles.#add(await Purchasing.start(roles.context));
      if (config.persistence) roles.sales = roles.#add(await Sales.start(roles.context));
      if (config.validator) roles.validator = roles.#add(await Validator.start(roles.context));
      deps.logger.info(
        { chainId: String(chainId), marketplace: client.address, account: client.account },
        "connected to the marketplace",
      );
      return roles;
    } catch (error) {
      // Roles that started before the failure stop again (their timers would keep the process).
      if (roles) for (const role of roles.#roles.reverse()) await role.stop();
      if (!deps.provider) provider.destroy();
      throw error;
    }
  }

  #add<R extends Role>(role: R): R {
    this.#roles.push(role);
    return role;
  }

  get client(): MarketplaceClient {
    return this.context.client;
  }

  async stop(): Promise<void> {
    for (const role of this.#roles.reverse()) await role.stop();
    if (this.#ownsProvider) this.context.client.provider.destroy();
  }
}
