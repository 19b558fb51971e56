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
import type { Logger } from "pino";
import { buildApi } from "./api/server.js";
import type { NodeConfig } from "./config/options.js";
import { DataService } from "./dataset/service.js";
import { NodeMetrics, startMetricsServer } from "./metrics/metrics.js";
import type { BlockRootHasher, Poseidon2Trees } from "./slots/hasher.js";
import { LevelStore } from "./store/database.js";

export interface NodeDependencies {
  logger: Logger;
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
  ) {}

  static async start(config: NodeConfig, deps: NodeDependencies): Promise<HoldfastNode> {
    const { logger } = deps;
    await mkdir(config.dataDir, { recursive: true });
    const db = await LevelStore.open(path.join(config.dataDir, "db"));
    let service: DataService | undefined;
    let api: FastifyInstance | undefined;
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
      const startedAt = new Date();
      let apiAddress = "";
      api = await buildApi({
        service,
        metrics,
        logger: logger.child({ component: "api" }) as FastifyBaseLogger,
        info: { dataDir: path.resolve(config.dataDir), apiAddress: () => apiAddress, startedAt },
        maxUploadSize: config.maxUploadSize,
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
      return new HoldfastNode(config, service, metrics, db, api, metricsServer, logger);
    } catch (error) {
      await api?.close();
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
    if (this.metricsServer) {
      this.metricsServer.closeAllConnections();
      await new Promise<void>((resolve) => this.metricsServer!.close(() => resolve()));
    }
    await this.service.close();
    await this.db.close();
  }
}
