import type { FastifyInstance } from "fastify";
import type { DataService } from "../../dataset/service.js";
import { version } from "../../version.js";

export interface NodeInfo {
  dataDir: string;
  apiAddress: () => string;
  startedAt: Date;
}

export function nodeRoutes(service: DataService, info: NodeInfo) {
  return async function (app: FastifyInstance): Promise<void> {
    app.get(
      "/space",
      {
        schema: {
          summary: "Storage quota and use",
          tags: ["node"],
          response: {
            200: {
              type: "object",
              properties: {
                quotaBytes: { type: "integer" },
                usedBytes: { type: "integer" },
                reservedBytes: { type: "integer", description: "held by writes in progress" },
                availableBytes: { type: "integer" },
                storedBlocks: { type: "integer" },
              },
            },
          },
        },
      },
      async () => service.space(),
    );

    app.get(
      "/debug/info",
      {
        schema: {
          summary: "What this node is and how it runs",
          tags: ["node"],
          response: {
            200: {
              type: "object",
              properties: {
                version: { type: "string" },
                dataDir: { type: "string" },
                apiAddress: { type: "string" },
                startedAt: { type: "string", format: "date-time" },
                uptimeSeconds: { type: "number" },
                datasets: { type: "integer" },
              },
            },
          },
        },
      },
      async () => ({
        version,
        dataDir: info.dataDir,
        apiAddress: info.apiAddress(),
        startedAt: info.startedAt.toISOString(),
        uptimeSeconds: (Date.now() - info.startedAt.getTime()) / 1000,
        datasets: (await service.list()).length,
      }),
    );
  };
}
