/**
 * The node's Prometheus metrics, on a registry of its own (not prom-client's global one) so that
 * several nodes in one process, as in tests, do not mix their numbers.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface StoreStats {
  usedBytes: number;
  storedBlocks: number;
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly uploads = new Counter({
    name: "holdfast_uploads_total",
    help: "Uploads by outcome (ok, or the error code)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly uploadedBytes = new Counter({
    name: "holdfast_uploaded_bytes_total",
    help: "Bytes of completed uploads",
    registers: [this.registry],
  });
  readonly downloads = new Counter({
    name: "holdfast_downloads_total",
    help: "Downloads by outcome (ok, or the error code)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly downloadedBytes = new Counter({
    name: "holdfast_downloaded_bytes_total",
    help: "Bytes sent by downloads",
    registers: [this.registry],
  });
  readonly recoveredBlocks = new Counter({
    name: "holdfast_recovered_blocks_total",
    help: "Blocks rebuilt by erasure decoding because they were lost or corrupt",
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: "holdfast_http_request_duration_seconds",
    help: "REST API request latency",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });

  constructor(stats: () => StoreStats) {
    new Gauge({
      name: "holdfast_stored_bytes",
      help: "Bytes stored: blocks, parity, block digests and slot trees",
      registers: [this.registry],
      collect() {
        this.set(stats().usedBytes);
      },
    });
    new Gauge({
      name: "holdfast_stored_blocks",
      help: "Blocks stored on disk",
      registers: [this.registry],
      collect() {
        this.set(stats().storedBlocks);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: "holdfast_" });
  }
}

/** Serves GET /metrics; anything else is 404. */
export async function startMetricsServer(
  metrics: NodeMetrics,
  port: number,
  host: string,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
