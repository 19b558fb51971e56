/**
 * A running Holdfast node: the data service on its database and folders, the REST API and the
 * metrics endpoint, started and stopped together. Later parts (peer-to-peer, marketplace) compose
 * here the same way: each receives what it needs from this file.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { mkdir } from "node:fs/promises";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Provider } from "ethers";
import type { Logger } from "pino";
import { buildApi } from "./api/server.js";
import type { NodeConfig } from "./config/options.js";
import { DataService } from "./dataset/service.js";
import { NodeMetrics, startMetricsServer } from "./metrics/metrics.js";
import type { BlockRootHasher, Poseidon2Trees } from "./slots/hasher.js";
import { LevelStore } from "./store/database.js";
import type { Quota } from "./store/quota.js";
import { sha256TreeRoot, treeCidFromRoot } from "./blocks/sha256-tree.js";
import { FetchJobs } from "./network/jobs.js";
import { LocalBlocks } from "./network/local-blocks.js";
import { prometheusNetworkMetrics } from "./network/metrics.js";
import { Network } from "./network/network.js";
import { parseNetworkAddressOptions } from "./network/options.js";
import { Retrieval, withZeroBlock } from "./network/retrieval.js";
import { type SlotRecord, SlotStore } from "./network/slot-store.js";
import { StorageProofError } from "./proof/errors.js";
import type { SlotBlockStore } from "./proof/slot-tree.js";
import { MarketplaceRoles } from "./marketplace.js";

export interface NodeDependencies {
  logger: Logger;
  /** A chain provider to use instead of connecting to --eth-provider (in-process tests). */
  provider?: Provider;
  hashing: { trees: Poseidon2Trees; roots: BlockRootHasher };
}

export class HoldfastNode {
  private constructor(
    readonly config: NodeConfig,
    readonly service: DataService,
    readonly metrics: NodeMetrics,
    private readonly db: LevelStore,
    private readonly api: FastifyInstance,
    private readonly metricsServer: Server | undefined,
    private readonly logger: Logger,
    readonly p2p: NodeNetworking,
    /** The chain connection and marketplace roles; undefined without --eth-provider. */
    readonly marketplace: MarketplaceRoles | undefined,
  ) {}

  static async start(config: NodeConfig, deps: NodeDependencies): Promise<HoldfastNode> {
    const { logger } = deps;
    await mkdir(config.dataDir, { recursive: true });
    const db = await LevelStore.open(path.join(config.dataDir, "db"));
    let service: DataService | undefined;
    let api: FastifyInstance | undefined;
    let p2p: NodeNetworking | undefined;
    let marketplace: MarketplaceRoles | undefined;
    try {
      service = await DataService.open({
        dataDir: config.dataDir,
        db,
        quotaBytes: config.storageQuota,
        maxUploadBytes: config.maxUploadSize,
        hashing: deps.hashing,
        log: logger.child({ component: "data" }),
      });
      const dataService = service;
      const metrics = new NodeMetrics(() => dataService.space());
      p2p = await NodeNetworking.start(
        config,
        service,
        metrics,
        logger.child({ component: "p2p" }),
      );
      marketplace = await MarketplaceRoles.start(config, {
        db,
        service,
        p2p,
        metrics,
        logger: logger.child({ component: "marketplace" }),
        hashing: deps.hashing,
        ...(deps.provider ? { provider: deps.provider } : {}),
      });
      const startedAt = new Date();
      let apiAddress = "";
      api = await buildApi({
        service,
        metrics,
        logger: logger.child({ component: "api" }) as FastifyBaseLogger,
        info: { dataDir: path.resolve(config.dataDir), apiAddress: () => apiAddress, startedAt },
        maxUploadSize: config.maxUploadSize,
        network: p2p,
        marketplace,
      });
      await api.listen({ port: config.apiPort, host: config.apiBindAddress });
      const address = api.server.address() as AddressInfo;
      apiAddress = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
      let metricsServer: Server | undefined;
      if (config.metricsPort !== undefined) {
        const started = await startMetricsServer(
          metrics,
          config.metricsPort,
          config.metricsBindAddress,
        );
        metricsServer = started.server;
        logger.info({ port: started.port, host: config.metricsBindAddress }, "metrics listening");
      }
      logger.info(
        { address: apiAddress, port: address.port, dataDir: path.resolve(config.dataDir) },
        "API listening",
      );
      return new HoldfastNode(
        config,
        service,
        metrics,
        db,
        api,
        metricsServer,
        logger,
        p2p,
        marketplace,
      );
    } catch (error) {
      await api?.close();
      await marketplace?.stop();
      await p2p?.stop();
      await service?.close();
      await db.close();
      throw error;
    }
  }

  get apiUrl(): string {
    const address = this.api.server.address() as AddressInfo;
    return `http://${this.config.apiBindAddress.includes(":") ? `[${address.address}]` : address.address}:${address.port}`;
  }

  get metricsPort(): number | undefined {
    return (this.metricsServer?.address() as AddressInfo | undefined)?.port;
  }

  async stop(): Promise<void> {
    this.logger.info("stopping");
    await this.api.close();
    await this.marketplace?.stop();
    await this.p2p.stop();
    if (this.metricsServer) {
      this.metricsServer.closeAllConnections();
      await new Promise<void>((resolve) => this.metricsServer!.close(() => resolve()));
    }
    await this.service.close();
    await this.db.close();
  }
}

/**
 * The node's networking wired to its data layer: the libp2p host serving the stored blocks, the
 * slot store, retrieval, background fetches, and a periodic sync that indexes and announces new
 * datasets (uploads and protects go straight to the data service, which has no change events).
 */
export class NodeNetworking {
  #timer: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;

  private constructor(
    readonly network: Network,
    readonly retrieval: Retrieval,
    readonly jobs: FetchJobs,
    private readonly local: LocalBlocks,
    private readonly slots: SlotStore,
    private readonly quota: Quota,
    private readonly logger: Logger,
  ) {}

  static async start(
    config: NodeConfig,
    service: DataService,
    metrics: NodeMetrics,
    logger: Logger,
  ): Promise<NodeNetworking> {
    const slots = await SlotStore.open(config.dataDir);
    service.repository.quota.addUsed(await slots.usedBytes());
    const local = new LocalBlocks(service, slots, config.dataDir);
    const source = withZeroBlock(local);
    const network = await Network.create(
      {
        source,
        // Downloads are stored by the retrieval (as datasets or slots), not block by block.
        sink: { put: async () => {} },
        trees: local,
        verifyTree: (tree, leaves) => treeCidFromRoot(sha256TreeRoot(leaves)).equals(tree),
        metrics: prometheusNetworkMetrics(metrics.registry),
        log: (message) => logger.debug(message),
      },
      {
        dataDir: config.dataDir,
        addresses: parseNetworkAddressOptions(config),
        downloader: { stallTimeoutMs: config.networkTimeout },
      },
    );
    const retrieval = new Retrieval({ network, service, local, slots, log: logger });
    const networking = new NodeNetworking(
      network,
      retrieval,
      new FetchJobs(),
      local,
      slots,
      service.repository.quota,
      logger,
    );
    await network.start();
    logger.info(
      { peerId: network.peerId.toString(), addrs: network.multiaddrs.map(String) },
      "peer-to-peer listening",
    );
    await networking.sync();
    networking.#timer = setInterval(() => void networking.sync(), 2_000);
    return networking;
  }

  /**
   * A slot fetched into the slot store (its record and its blocks as the prover reads them), or
   * undefined when the store does not hold it. A block that no longer matches its digest reads as
   * a BAD_BLOCK error.
   */
  storedSlot(
    manifestCid: string,
    slot: number,
  ): { record: SlotRecord; blocks: SlotBlockStore } | undefined {
    if (!this.slots.has(manifestCid, slot)) return undefined;
    const record = this.slots
      .records()
      .find((r) => r.manifestCid === manifestCid && r.slot === slot)!;
    const slots = this.slots;
    return {
      record,
      blocks: {
        blockCount: record.count,
        async readBlock(index) {
          const block = await slots.read(record, index);
          if (!block) {
            throw new StorageProofError(
              "BAD_BLOCK",
              `block ${index} of slot ${slot} of ${manifestCid} is unreadable or changed`,
            );
          }
          return block;
        },
      },
    };
  }

  /**
   * Deletes a slot from the slot store (its sale ended) and gives its bytes back to the storage
   * quota. Returns the bytes freed, 0 when the store did not hold the slot.
   */
  async deleteSlot(manifestCid: string, slot: number): Promise<number> {
    if (!this.slots.has(manifestCid, slot)) return 0;
    // Stop offering its blocks to peers first: a peer told "have" would wait on a block that is
    // gone until its request timed out.
    this.local.removeSlot(
      manifestCid,
      slot,
      this.slots.records().filter((r) => r.manifestCid !== manifestCid || r.slot !== slot),
    );
    const bytes = await this.slots.delete(manifestCid, slot);
    this.quota.addUsed(-bytes);
    this.logger.info({ manifestCid, slot, bytes }, "deleted the data of an ended slot");
    await this.sync(); // withdraws its announcements
    return bytes;
  }

  /** Indexes and announces what the store holds now (one sync at a time). */
  sync(): Promise<void> {
    this.#syncing ??= this.retrieval
      .sync()
      .catch((error: unknown) => this.logger.warn({ err: error }, "announcing stored data failed"))
      .finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.jobs.stop();
    await this.#syncing;
    await this.network.stop();
    await this.local.close();
    await this.slots.close();
  }
}
