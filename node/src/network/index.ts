export { BLOCK_EXCHANGE_PROTOCOL } from "./block-exchange/protocol.js";
export { slotProviderKey } from "./discovery.js";
export type { DownloadProgress, DownloadRequest, DownloadedBlock } from "./downloader.js";
export { NetworkError, isNetworkError, type NetworkErrorCode } from "./errors.js";
export type { BlockSink, BlockSource, ProviderInfo, ProviderRouting } from "./interfaces.js";
export { type NetworkMetrics, noopNetworkMetrics, prometheusNetworkMetrics } from "./metrics.js";
export { Network, type NetworkComponents, type NetworkOptions } from "./network.js";
export {
  DEFAULT_LISTEN_ADDRS,
  parseBootstrapNode,
  parseNetworkAddressOptions,
  parsePeerId,
  type NetworkAddressOptions,
} from "./options.js";
