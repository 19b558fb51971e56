import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Hooks through which the networking layer reports what it does; the node exports them. */
export interface NetworkMetrics {
  blockSent(bytes: number): void;
  blockReceived(bytes: number): void;
  /** A block whose bytes did not match its CID. */
  badBlock(): void;
  requestTimeout(): void;
  /** A peer was dropped from a download for misbehaving or failing too often. */
  peerDropped(): void;
  discoveryQuery(): void;
  providersFound(count: number): void;
  /** Time to fetch one block from the network (request sent to block verified). */
  blockRetrievalSeconds(seconds: number): void;
  /** Time for a whole download run. */
  downloadSeconds(seconds: number): void;
  connectedPeers(count: number): void;
}

export const noopNetworkMetrics: NetworkMetrics = {
  blockSent() {},
  blockReceived() {},
  badBlock() {},
  requestTimeout() {},
  peerDropped() {},
  discoveryQuery() {},
  providersFound() {},
  blockRetrievalSeconds() {},
  downloadSeconds() {},
  connectedPeers() {},
};

/** The hooks as Prometheus metrics, registered in the node's registry under `holdfast_network_`. */
export function prometheusNetworkMetrics(registry: Registry): NetworkMetrics {
  const registers = [registry];
  const blocks = new Counter({
    name: "holdfast_network_blocks_total",
    help: "Blocks exchanged with peers, by direction",
    labelNames: ["direction"] as const,
    registers,
  });
  const bytes = new Counter({
    name: "holdfast_network_block_bytes_total",
    help: "Block bytes exchanged with peers, by direction",
    labelNames: ["direction"] as const,
    registers,
  });
  const badBlocks = new Counter({
    name: "holdfast_network_bad_blocks_total",
    help: "Blocks received whose bytes did not match their CID",
    registers,
  });
  const timeouts = new Counter({
    name: "holdfast_network_request_timeouts_total",
    help: "Block requests a peer did not answer in time",
    registers,
  });
  const dropped = new Counter({
    name: "holdfast_network_peers_dropped_total",
    help: "Peers dropped from downloads for misbehaving or failing",
    registers,
  });
  const queries = new Counter({
    name: "holdfast_network_discovery_queries_total",
    help: "Provider look-ups in the DHT",
    registers,
  });
  const providers = new Counter({
    name: "holdfast_network_providers_found_total",
    help: "Providers returned by DHT look-ups",
    registers,
  });
  const blockSeconds = new Histogram({
    name: "holdfast_network_block_retrieval_seconds",
    help: "Time from requesting a block to holding it verified",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
    registers,
  });
  const downloadSeconds = new Histogram({
    name: "holdfast_network_download_seconds",
    help: "Duration of download runs from the network",
    buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
    registers,
  });
  const peers = new Gauge({
    name: "holdfast_network_connected_peers",
    help: "Peers this node is connected to",
    registers,
  });
  return {
    blockSent(n) {
      blocks.inc({ direction: "sent" });
      bytes.inc({ direction: "sent" }, n);
    },
    blockReceived(n) {
      blocks.inc({ direction: "received" });
      bytes.inc({ direction: "received" }, n);
    },
    badBlock: () => badBlocks.inc(),
    requestTimeout: () => timeouts.inc(),
    peerDropped: () => dropped.inc(),
    discoveryQuery: () => queries.inc(),
    providersFound: (n) => providers.inc(n),
    blockRetrievalSeconds: (s) => blockSeconds.observe(s),
    downloadSeconds: (s) => downloadSeconds.observe(s),
    connectedPeers: (n) => peers.set(n),
  };
}
