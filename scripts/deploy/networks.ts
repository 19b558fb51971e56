/**
 * The networks Holdfast deploys to and their marketplace parameters (deploy/parameters/<name>.json,
 * Ignition's parameters format). Reading a parameters file checks its shape and the proof-timing
 * rules against the chain's block time before anything is sent; the constructor
 * (contracts/marketplace/Configuration.sol) judges the same configuration again on chain.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "../lib/paths.js";

/** The networks with a parameters file. */
export const NETWORK_NAMES = ["local", "taiko", "taikoHoodi", "taikoHekla"] as const;

export type NetworkName = (typeof NETWORK_NAMES)[number];

export interface NetworkDescriptor {
  /** Name of the parameters file. */
  name: NetworkName;
  /** The Hardhat network (hardhat.config.ts) that reaches it. */
  hardhatNetwork: string;
  chainId: bigint;
  /**
   * The shortest time between two blocks the chain is expected to produce, in milliseconds: the
   * configuration's minBlockTimeMs must not exceed it, or periods could span more blocks than the
   * contract's check assumed.
   */
  fastestBlockTimeMs: number;
  /** Where that figure comes from. */
  blockTimeSource: string;
  /** Whether the network may get a test token (a faucet); otherwise an existing token is required. */
  testToken: boolean;
}

const TAIKO_PRECONF_BLOCK_TIME =
  "docs.taiko.xyz/protocol/preconfirmations: preconfirmed blocks come at the preconfer's " +
  "configured block time, 'realistically 500 milliseconds to 2 seconds'";

export const NETWORKS = {
  local: {
    name: "local",
    hardhatNetwork: "localhost",
    chainId: 31337n,
    // Hardhat's simulated chain gives every block a timestamp at least one second after the last
    // (allowBlocksWithSameTimestamp is off); hardhat_mine with interval 0 is test tooling only.
    fastestBlockTimeMs: 1000,
    blockTimeSource: "Hardhat EDR: consecutive block timestamps differ by at least 1 s",
    testToken: true,
  },
  taiko: {
    name: "taiko",
    hardhatNetwork: "taiko",
    chainId: 167000n,
    fastestBlockTimeMs: 500,
    blockTimeSource: TAIKO_PRECONF_BLOCK_TIME,
    testToken: false,
  },
  taikoHoodi: {
    name: "taikoHoodi",
    hardhatNetwork: "taikoHoodi",
    chainId: 167013n,
    fastestBlockTimeMs: 500,
    blockTimeSource: TAIKO_PRECONF_BLOCK_TIME,
    testToken: true,
  },
  taikoHekla: {
    name: "taikoHekla",
    hardhatNetwork: "taikoHekla",
    chainId: 167009n,
    fastestBlockTimeMs: 500,
    blockTimeSource: TAIKO_PRECONF_BLOCK_TIME,
    testToken: true,
  },
} as const satisfies Record<NetworkName, NetworkDescriptor>;

export function isNetworkName(name: string): name is NetworkName {
  return (NETWORK_NAMES as readonly string[]).includes(name);
}

/** The network with chain id `chainId`, if it is one of ours. */
export function networkByChainId(chainId: bigint): NetworkDescriptor | undefined {
  return Object.values<NetworkDescriptor>(NETWORKS).find((n) => n.chainId === chainId);
}

export const PARAMETERS_DIR = path.join(repoRoot, "deploy", "parameters");

/** MarketplaceConfig as deploy/parameters/<network>.json holds it: zkeyHash comes with the setup. */
export interface MarketplaceParameters {
  collateral: {
    repairRewardPercentage: number;
    maxNumberOfSlashes: number;
    slashPercentage: number;
    validatorRewardPercentage: number;
  };
  proofs: {
    period: number;
    timeout: number;
    downtime: number;
    downtimeProduct: number;
    minBlockTimeMs: number;
  };
  reservations: {
    maxReservations: number;
    windowDoublings: number;
    windowExpansionPercentage: number;
  };
  requestDurationLimit: number;
}

/** The constructor's argument: the parameters with the setup's zkey hash. */
export type MarketplaceConfiguration = Omit<MarketplaceParameters, "proofs"> & {
  proofs: MarketplaceParameters["proofs"] & { zkeyHash: string };
};

export interface NetworkParameters {
  marketplace: MarketplaceParameters;
  /** TestToken's parameters when the network deploys one (faucetLimit in token wei). */
  testToken?: { faucetLimit?: bigint };
}

export class DeployParametersError extends Error {
  override readonly name = "DeployParametersError";

  constructor(
    readonly source: string,
    /** Dotted path of the offending field, or "" for the whole file. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}${field ? ` ${field}` : ""}: ${message}`, options);
  }
}

/** Integer bounds of each field: the Solidity type's (uint8, uint32, uint64). */
const UINT8 = 255;
const UINT32 = 2 ** 32 - 1;
const SAFE = Number.MAX_SAFE_INTEGER; // uint64 fields, as far as a JSON number is exact
const FIELDS = {
  collateral: {
    repairRewardPercentage: UINT8,
    maxNumberOfSlashes: UINT8,
    slashPercentage: UINT8,
    validatorRewardPercentage: UINT8,
  },
  proofs: {
    period: SAFE,
    timeout: SAFE,
    downtime: UINT8,
    downtimeProduct: UINT8,
    minBlockTimeMs: UINT32,
  },
  reservations: {
    maxReservations: UINT8,
    windowDoublings: UINT8,
    windowExpansionPercentage: UINT8,
  },
  requestDurationLimit: SAFE,
} as const;

/** Checks the shape of a MarketplaceParameters value (integers within their Solidity types). */
export function parseMarketplaceParameters(value: unknown, source: string): MarketplaceParameters {
  return parseFields(value, FIELDS, source, "") as unknown as MarketplaceParameters;
}

type FieldSpec = number | { readonly [key: string]: FieldSpec };

function parseFields(value: unknown, spec: FieldSpec, source: string, at: string): unknown {
  if (typeof spec === "number") {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0 || value > spec) {
      throw new DeployParametersError(
        source,
        at,
        `must be an integer in [0, ${spec}], got ${JSON.stringify(value)}`,
      );
    }
    return value;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DeployParametersError(source, at, "must be an object");
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(spec, key)) {
      throw new DeployParametersError(source, join(at, key), "is not a configuration field");
    }
  }
  for (const [key, fieldSpec] of Object.entries(spec)) {
    if (!Object.hasOwn(value, key)) {
      throw new DeployParametersError(source, join(at, key), "is missing");
    }
    out[key] = parseFields(
      (value as Record<string, unknown>)[key],
      fieldSpec,
      source,
      join(at, key),
    );
  }
  return out;
}

const join = (at: string, key: string) => (at ? `${at}.${key}` : key);

/** Most blocks a window of `seconds` can hold when blocks are at least `blockTimeMs` apart. */
export function maxBlocksIn(seconds: number, blockTimeMs: number): number {
  return Math.ceil((seconds * 1000) / blockTimeMs);
}

/**
 * Why `proofs` does not suit a chain whose blocks can come `fastestBlockTimeMs` apart ([] when it
 * does). The same rules as the constructor's, on the chain's real block time: minBlockTimeMs is at
 * most that block time, a period spans at most 256 - downtime blocks, a timeout at most downtime.
 */
export function proofTimingProblems(
  proofs: MarketplaceParameters["proofs"],
  fastestBlockTimeMs: number,
): string[] {
  const problems: string[] = [];
  if (proofs.minBlockTimeMs <= 0) return ["minBlockTimeMs must be positive"];
  if (proofs.minBlockTimeMs > fastestBlockTimeMs) {
    problems.push(
      `minBlockTimeMs ${proofs.minBlockTimeMs} exceeds the chain's fastest block time ` +
        `${fastestBlockTimeMs} ms`,
    );
  }
  const blockTime = Math.min(proofs.minBlockTimeMs, fastestBlockTimeMs);
  const periodBlocks = maxBlocksIn(proofs.period, blockTime);
  if (periodBlocks > 256 - proofs.downtime) {
    problems.push(
      `a period of ${proofs.period} s spans up to ${periodBlocks} blocks, more than ` +
        `256 - downtime = ${256 - proofs.downtime}`,
    );
  }
  const timeoutBlocks = maxBlocksIn(proofs.timeout, blockTime);
  if (timeoutBlocks > proofs.downtime) {
    problems.push(
      `a timeout of ${proofs.timeout} s spans up to ${timeoutBlocks} blocks, more than ` +
        `downtime = ${proofs.downtime}`,
    );
  }
  return problems;
}

/** The parameters file of `network` (deploy/parameters/<name>.json), read and checked. */
export async function readNetworkParameters(
  network: NetworkName,
  dir = PARAMETERS_DIR,
): Promise<NetworkParameters> {
  const file = path.join(dir, `${network}.json`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new DeployParametersError(file, "", `cannot read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseNetworkParameters(json, NETWORKS[network], file);
}

/** Checks a parameters file's content for `network`; `source` names it in errors. */
export function parseNetworkParameters(
  json: unknown,
  network: NetworkDescriptor,
  source: string,
): NetworkParameters {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new DeployParametersError(source, "", "must be an object of module parameters");
  }
  const modules = json as Record<string, unknown>;
  for (const key of Object.keys(modules)) {
    if (key !== "Marketplace" && key !== "TestToken") {
      throw new DeployParametersError(
        source,
        key,
        "unknown module (expected Marketplace, TestToken)",
      );
    }
  }
  const marketplaceModule = modules.Marketplace as Record<string, unknown> | undefined;
  if (typeof marketplaceModule !== "object" || marketplaceModule === null) {
    throw new DeployParametersError(source, "Marketplace", "is missing");
  }
  const marketplace = parseMarketplaceParameters(
    marketplaceModule.configuration,
    `${source} Marketplace.configuration`,
  );
  const problems = proofTimingProblems(marketplace.proofs, network.fastestBlockTimeMs);
  if (problems.length > 0) {
    throw new DeployParametersError(
      source,
      "Marketplace.configuration.proofs",
      `${problems.join("; ")} (${network.name}: ${network.blockTimeSource})`,
    );
  }
  const parameters: NetworkParameters = { marketplace };
  if (modules.TestToken !== undefined) {
    if (!network.testToken) {
      throw new DeployParametersError(
        source,
        "TestToken",
        `${network.name} takes an existing token, not a test token`,
      );
    }
    parameters.testToken = parseTestToken(modules.TestToken, source);
  }
  return parameters;
}

function parseTestToken(value: unknown, source: string): { faucetLimit?: bigint } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DeployParametersError(source, "TestToken", "must be an object");
  }
  const out: { faucetLimit?: bigint } = {};
  for (const [key, raw] of Object.entries(value)) {
    if (key !== "faucetLimit") {
      throw new DeployParametersError(source, `TestToken.${key}`, "unknown parameter");
    }
    // Ignition's parameter files write bigints as "<digits>n".
    const match = typeof raw === "string" ? /^(\d+)n$/.exec(raw) : null;
    if (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0) {
      out.faucetLimit = BigInt(raw);
    } else if (match) {
      out.faucetLimit = BigInt(match[1]!);
    } else {
      throw new DeployParametersError(
        source,
        "TestToken.faucetLimit",
        `must be a non-negative integer or "<digits>n", got ${JSON.stringify(raw)}`,
      );
    }
  }
  return out;
}
