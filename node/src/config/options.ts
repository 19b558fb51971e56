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

  // ---- the marketplace (see docs/architecture.md, "Marketplace roles") ----
  /** JSON-RPC URL of the chain (http(s) or ws(s)); undefined: no marketplace roles. */
  ethProvider: string | undefined;
  /** The account's key (prefer a keystore outside tests: flags show in process lists). */
  ethPrivateKey: string | undefined;
  /** An encrypted JSON keystore file, unlocked with the password in ethKeystorePasswordFile. */
  ethKeystore: string | undefined;
  ethKeystorePasswordFile: string | undefined;
  /** The marketplace; undefined: the deployment recorded for the chain's id in deploy/deployments. */
  marketplaceAddress: string | undefined;
  /** Blocks a marketplace event waits before it counts. */
  ethConfirmations: number;
  /** Milliseconds between polls of the chain for new blocks and events. */
  ethPollInterval: number;
  /** Widest block range of one eth_getLogs query (public RPC providers cap it). */
  ethMaxLogRange: number;
  /** Host role: sell storage, fill slots and prove them. */
  persistence: boolean;
  /** Folder of a built circuit instance (artifacts.json, wasm, zkey): what the host proves with. */
  circuitDir: string | undefined;
  /** Slots the host works on (download, prove, fill) at the same time. */
  salesWorkers: number;
  /** Validator role: mark missed proofs and collect the rewards. */
  validator: boolean;
  /** Validators split slots into this many groups by slot id; undefined: watch every slot. */
  validatorGroups: number | undefined;
  /** Which group this validator watches (0-based, below validatorGroups). */
  validatorGroupIndex: number;
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

function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: unknown): { value: number } | { error: string } => {
    const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min || n > max) {
      return { error: `must be a whole number from ${min} to ${max}` };
    }
    return { value: n };
  };
}

/** true/false, also as the strings "true"/"false"/"1"/"0" (environment) or a bare flag. */
function boolean(value: unknown): { value: boolean } | { error: string } {
  if (typeof value === "boolean") return { value };
  const text = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  if (text === "" || text === "true" || text === "1") return { value: true };
  if (text === "false" || text === "0") return { value: false };
  return { error: "must be true or false" };
}

function ethAddress(value: unknown): { value: string } | { error: string } {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value.trim()))
    return { error: "must be 0x followed by 40 hex digits" };
  return { value: value.trim() };
}

function rpcUrl(value: unknown): { value: string } | { error: string } {
  if (typeof value !== "string") return { error: "must be a URL" };
  try {
    const url = new URL(value.trim());
    if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol))
      return { error: "must be an http(s):// or ws(s):// URL" };
  } catch {
    return { error: "must be an http(s):// or ws(s):// URL" };
  }
  return { value: value.trim() };
}

function privateKey(value: unknown): { value: string } | { error: string } {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value.trim()))
    return { error: "must be 0x followed by 64 hex digits" };
  return { value: value.trim() };
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
  option({
    key: "ethProvider",
    flag: "eth-provider",
    env: "HOLDFAST_ETH_PROVIDER",
    description:
      "JSON-RPC URL of the chain (http(s):// or ws(s)://); needed by every marketplace role",
    defaultValue: undefined,
    parse: rpcUrl,
  }),
  option({
    key: "ethPrivateKey",
    flag: "eth-private-key",
    env: "HOLDFAST_ETH_PRIVATE_KEY",
    description: "the account's private key (0x + 64 hex); prefer --eth-keystore",
    defaultValue: undefined,
    parse: privateKey,
  }),
  option({
    key: "ethKeystore",
    flag: "eth-keystore",
    env: "HOLDFAST_ETH_KEYSTORE",
    description: "encrypted JSON keystore file of the account",
    defaultValue: undefined,
    parse: nonEmptyString,
  }),
  option({
    key: "ethKeystorePasswordFile",
    flag: "eth-keystore-password-file",
    env: "HOLDFAST_ETH_KEYSTORE_PASSWORD_FILE",
    description: "file holding the keystore's password",
    defaultValue: undefined,
    parse: nonEmptyString,
  }),
  option({
    key: "marketplaceAddress",
    flag: "marketplace-address",
    env: "HOLDFAST_MARKETPLACE_ADDRESS",
    description: "marketplace contract; by default the deployment recorded for the chain's id",
    defaultValue: undefined,
    parse: ethAddress,
  }),
  option({
    key: "ethConfirmations",
    flag: "eth-confirmations",
    env: "HOLDFAST_ETH_CONFIRMATIONS",
    description: "blocks a marketplace event waits before the node acts on it",
    defaultValue: 1,
    parse: wholeNumber(0, 1000),
  }),
  option({
    key: "ethPollInterval",
    flag: "eth-poll-interval",
    env: "HOLDFAST_ETH_POLL_INTERVAL",
    description: "ms between polls of the chain for blocks and events",
    defaultValue: 2_000,
    parse: positiveMilliseconds,
  }),
  option({
    key: "ethMaxLogRange",
    flag: "eth-max-log-range",
    env: "HOLDFAST_ETH_MAX_LOG_RANGE",
    description: "widest block range of one eth_getLogs query (halved when a provider refuses)",
    defaultValue: 2_000,
    parse: wholeNumber(1),
  }),
  option({
    key: "persistence",
    flag: "persistence",
    env: "HOLDFAST_PERSISTENCE",
    description: "host role: sell storage from availabilities, fill slots and prove them",
    defaultValue: false,
    parse: boolean,
  }),
  option({
    key: "circuitDir",
    flag: "circuit-dir",
    env: "HOLDFAST_CIRCUIT_DIR",
    description: "built circuit instance (artifacts.json, wasm, zkey) the host proves with",
    defaultValue: undefined,
    parse: nonEmptyString,
  }),
  option({
    key: "salesWorkers",
    flag: "sales-workers",
    env: "HOLDFAST_SALES_WORKERS",
    description: "slots the host downloads and proves at the same time",
    defaultValue: 2,
    parse: wholeNumber(1, 64),
  }),
  option({
    key: "validator",
    flag: "validator",
    env: "HOLDFAST_VALIDATOR",
    description: "validator role: mark missed proofs and collect the rewards",
    defaultValue: false,
    parse: boolean,
  }),
  option({
    key: "validatorGroups",
    flag: "validator-groups",
    env: "HOLDFAST_VALIDATOR_GROUPS",
    description: "split slots between this many validators (by slot id); all slots if unset",
    defaultValue: undefined,
    parse: wholeNumber(2, 65536),
  }),
  option({
    key: "validatorGroupIndex",
    flag: "validator-group-index",
    env: "HOLDFAST_VALIDATOR_GROUP_INDEX",
    description: "the group this validator watches, from 0 to validator-groups - 1",
    defaultValue: 0,
    parse: wholeNumber(0, 65535),
  }),
] as const;

/** Every setting at its default (for programs and tests that build a config in code). */
export function defaultConfig(): NodeConfig {
  return Object.fromEntries(
    OPTIONS.map((spec) => [
      spec.key,
      Array.isArray(spec.defaultValue) ? [...spec.defaultValue] : spec.defaultValue,
    ]),
  ) as unknown as NodeConfig;
}

/**
 * Rules between settings, checked after each is valid on its own. Returns every problem found.
 */
export function crossCheck(config: NodeConfig): string[] {
  const problems: string[] = [];
  const roles = [config.persistence && "--persistence", config.validator && "--validator"].filter(
    Boolean,
  );
  if (config.ethPrivateKey !== undefined && config.ethKeystore !== undefined)
    problems.push("give --eth-private-key or --eth-keystore, not both");
  if (config.ethKeystore !== undefined && config.ethKeystorePasswordFile === undefined)
    problems.push("--eth-keystore needs --eth-keystore-password-file");
  if (roles.length > 0 && config.ethProvider === undefined)
    problems.push(`${roles.join(" and ")} need --eth-provider`);
  if (
    config.ethProvider !== undefined &&
    config.ethPrivateKey === undefined &&
    config.ethKeystore === undefined
  )
    problems.push("--eth-provider needs an account: --eth-private-key or --eth-keystore");
  if (config.persistence && config.circuitDir === undefined)
    problems.push("--persistence needs --circuit-dir (the circuit the host proves with)");
  if (config.validatorGroups === undefined && config.validatorGroupIndex !== 0)
    problems.push("--validator-group-index needs --validator-groups");
  if (config.validatorGroups !== undefined && config.validatorGroupIndex >= config.validatorGroups)
    problems.push(
      `--validator-group-index must be below --validator-groups (${config.validatorGroups})`,
    );
  return problems;
}
