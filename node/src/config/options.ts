/**
 * The settings of `holdfast start`. Each is settable by a flag, a HOLDFAST_* environment variable
 * or a key of the JSON config file (in that order of precedence), and each is validated by one
 * parser, whatever the source, with an error that names the source.
 */
import {
  DEFAULT_LISTEN_ADDRS,
  parseAnnounceAddr,
  parseBootstrapNode,
  parseListenAddr,
} from "../network/options.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace"];

export interface NodeConfig {
  dataDir: string;
  apiPort: number;
  apiBindAddress: string;
  /** undefined: no metrics server. */
  metricsPort: number | undefined;
  metricsBindAddress: string;
  logLevel: LogLevel;
  storageQuota: number;
  /** undefined: uploads are limited by the quota only. */
  maxUploadSize: number | undefined;
  /** libp2p multiaddrs to listen on (TCP). */
  listenAddrs: string[];
  /** Multiaddrs to tell peers instead of the listen addresses (behind NAT, in containers). */
  announceAddrs: string[];
  /** Multiaddrs ending in /p2p/<peer id> of nodes to join the network through. */
  bootstrapNodes: string[];
  /** Milliseconds a network download waits without progress before giving up on blocks. */
  networkTimeout: number;
}

export interface OptionSpec<K extends keyof NodeConfig = keyof NodeConfig> {
  key: K;
  flag: string;
  env: string;
  description: string;
  /** Shown in --help and used when no source sets the option. */
  defaultValue: NodeConfig[K];
  /** Turns a flag, environment or file value into the setting, or returns why it cannot. */
  parse(value: unknown): { value: NodeConfig[K] } | { error: string };
}

const GiB = 2 ** 30;

function port(value: unknown): { value: number } | { error: string } {
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 65535) {
    return { error: "must be a port number from 0 to 65535" };
  }
  return { value: n };
}

function nonEmptyString(value: unknown): { value: string } | { error: string } {
  if (typeof value !== "string" || value.trim() === "")
    return { error: "must be a non-empty string" };
  return { value: value.trim() };
}

function bindAddress(value: unknown): { value: string } | { error: string } {
  const result = nonEmptyString(value);
  if ("error" in result) return result;
  if (!/^[0-9a-zA-Z.:-]+$/.test(result.value))
    return { error: "must be an IP address or host name" };
  return result;
}

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: GiB,
  tib: 2 ** 40,
};

/** Bytes as a number or a string like "20GiB", "500 MB" or "1048576". */
export function parseBytes(value: unknown): { value: number } | { error: string } {
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return { value };
  const match =
    typeof value === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value) : null;
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    return {
      error:
        'must be a positive size in bytes, optionally with a unit (for example "20GiB" or "500MB")',
    };
  }
  return { value: bytes };
}

/**
 * A list of multiaddrs: repeated flags, a comma-separated flag or environment value, or a JSON
 * array in the config file; each entry checked by `check` (which throws a NetworkError).
 */
function multiaddrList(check: (text: string) => unknown) {
  return (value: unknown): { value: string[] } | { error: string } => {
    const items = Array.isArray(value)
      ? value
      : typeof value === "string"
        ? value.split(",")
        : undefined;
    if (!items || items.some((item) => typeof item !== "string")) {
      return { error: "must be a multiaddr, a comma-separated list or an array of them" };
    }
    const texts = (items as string[]).map((item) => item.trim()).filter((item) => item !== "");
    try {
      for (const text of texts) check(text);
    } catch (error) {
      return { error: (error as Error).message };
    }
    return { value: texts };
  };
}

function positiveMilliseconds(value: unknown): { value: number } | { error: string } {
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
    return { error: "must be a positive whole number of milliseconds" };
  }
  return { value: n };
}

function option<K extends keyof NodeConfig>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

export const OPTIONS = [
  option({
    key: "dataDir",
    flag: "data-dir",
    env: "HOLDFAST_DATA_DIR",
    description: "folder for the database and the blocks",
    defaultValue: "holdfast-data",
    parse: nonEmptyString,
  }),
  option({
    key: "apiPort",
    flag: "api-port",
    env: "HOLDFAST_API_PORT",
    description: "port of the REST API (0 picks a free one)",
    defaultValue: 8080,
    parse: port,
  }),
  option({
    key: "apiBindAddress",
    flag: "api-bind-address",
    env: "HOLDFAST_API_BIND_ADDRESS",
    description: "address the REST API listens on; only this machine by default",
    defaultValue: "127.0.0.1",
    parse: bindAddress,
  }),
  option({
    key: "metricsPort",
    flag: "metrics-port",
    env: "HOLDFAST_METRICS_PORT",
    description: "port of the Prometheus metrics endpoint (/metrics); off unless set",
    defaultValue: undefined,
    parse: port,
  }),
  option({
    key: "metricsBindAddress",
    flag: "metrics-bind-address",
    env: "HOLDFAST_METRICS_BIND_ADDRESS",
    description: "address the metrics endpoint listens on",
    defaultValue: "127.0.0.1",
    parse: bindAddress,
  }),
  option({
    key: "logLevel",
    flag: "log-level",
    env: "HOLDFAST_LOG_LEVEL",
    description: `one of ${LOG_LEVELS.join(", ")}`,
    defaultValue: "info",
    parse: (value) =>
      typeof value === "string" &&
      (LOG_LEVELS as readonly string[]).includes(value.trim().toLowerCase())
        ? { value: value.trim().toLowerCase() as LogLevel }
        : { error: `must be one of ${LOG_LEVELS.join(", ")}` },
  }),
  option({
    key: "storageQuota",
    flag: "storage-quota",
    env: "HOLDFAST_STORAGE_QUOTA",
    description: "most bytes the node stores (blocks, parity and slot trees)",
    defaultValue: 20 * GiB,
    parse: parseBytes,
  }),
  option({
    key: "maxUploadSize",
    flag: "max-upload-size",
    env: "HOLDFAST_MAX_UPLOAD_SIZE",
    description: "largest single upload; by default only the quota limits it",
    defaultValue: undefined,
    parse: parseBytes,
  }),
  option({
    key: "listenAddrs",
    flag: "listen-addrs",
    env: "HOLDFAST_LISTEN_ADDRS",
    description: "peer-to-peer listen multiaddrs (repeatable or comma-separated)",
    defaultValue: [...DEFAULT_LISTEN_ADDRS],
    parse: multiaddrList(parseListenAddr),
  }),
  option({
    key: "announceAddrs",
    flag: "announce-addrs",
    env: "HOLDFAST_ANNOUNCE_ADDRS",
    description: "multiaddrs peers should dial, if not the listen ones (repeatable)",
    defaultValue: [],
    parse: multiaddrList(parseAnnounceAddr),
  }),
  option({
    key: "bootstrapNodes",
    flag: "bootstrap-node",
    env: "HOLDFAST_BOOTSTRAP_NODES",
    description: "multiaddr ending in /p2p/<peer id> of a node to join through (repeatable)",
    defaultValue: [],
    parse: multiaddrList(parseBootstrapNode),
  }),
  option({
    key: "networkTimeout",
    flag: "network-timeout",
    env: "HOLDFAST_NETWORK_TIMEOUT",
    description: "ms a network download waits without progress before giving up on blocks",
    defaultValue: 30_000,
    parse: positiveMilliseconds,
  }),
] as const;
