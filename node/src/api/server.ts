/**
 * The REST API: Fastify, with the OpenAPI document generated from the route schemas and served at
 * /api/v1/openapi.json. Routes only translate HTTP to the data service and back.
 */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { DataService } from "../dataset/service.js";
import type { MarketplaceRoles } from "../marketplace.js";
import type { NodeMetrics } from "../metrics/metrics.js";
import { version } from "../version.js";
import { errorBody, handleError } from "./errors.js";
import { dataRoutes, protectRoutes } from "./routes/data.js";
import { type NetworkApi, networkRoutes } from "./routes/network.js";
import { type NodeInfo, nodeRoutes } from "./routes/node.js";
import { purchasingRoutes } from "./routes/purchasing.js";
import { salesRoutes } from "./routes/sales.js";
import { validatorRoutes } from "./routes/validator.js";

export const API_PREFIX = "/api/v1";

export interface ApiOptions {
  service: DataService;
  metrics: NodeMetrics;
  logger: FastifyBaseLogger;
  info: NodeInfo;
  maxUploadSize: number | undefined;
  /** The peer-to-peer routes; absent in nodes built without networking. */
  network?: NetworkApi;
  /** The marketplace roles, whose routes are served when the node has them. */
  marketplace?: MarketplaceRoles | undefined;
}

export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    return503OnClosing: true,
    forceCloseConnections: true,
    // Bad input is refused, not repaired: no type coercion, no silently dropped properties.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Holdfast node API",
        version,
        description:
          "Store, protect and retrieve data on a Holdfast node. Errors are JSON: { error: { code, message } }.",
      },
      tags: [
        { name: "data" },
        { name: "node" },
        { name: "network" },
        { name: "marketplace" },
        { name: "sales" },
        { name: "validator" },
      ],
    },
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody("ERR_NOT_FOUND", `no route ${request.method} ${request.url}`));
  });
  app.addHook("onResponse", async (request, reply) => {
    options.metrics.requestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  await app.register(dataRoutes(options.service, options.metrics, options.maxUploadSize), {
    prefix: API_PREFIX,
  });
  await app.register(protectRoutes(options.service), { prefix: API_PREFIX });
  await app.register(nodeRoutes(options.service, options.info), { prefix: API_PREFIX });
  if (options.network) {
    await app.register(networkRoutes(options.network), { prefix: API_PREFIX });
  }
  if (options.marketplace?.purchasing) {
    await app.register(purchasingRoutes(options.marketplace.purchasing), { prefix: API_PREFIX });
  }
  if (options.marketplace?.sales) {
    await app.register(salesRoutes(options.marketplace.sales), { prefix: API_PREFIX });
  }
  if (options.marketplace?.validator) {
    await app.register(validatorRoutes(options.marketplace.validator), { prefix: API_PREFIX });
  }
  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
  return app;
}
