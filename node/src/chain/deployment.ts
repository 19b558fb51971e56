/**
 * Reads the deployment record Hardhat Ignition keeps per chain (deploy/deployments/chain-<id>/ in the
 * repository, written by `npm run deploy`): which marketplace, token and verifier a node on that
 * chain talks to, and the block the marketplace was deployed in (where scanning its events starts).
 * The files are untrusted input: anything malformed is refused with a DeploymentRecordError.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { getAddress, isAddress } from "ethers";

export interface Deployment {
  chainId: bigint;
  marketplace: string;
  token: string;
  verifier: string;
  /** The block of the marketplace's deployment transaction, when the journal is there to say it. */
  deployBlock?: number;
}

export type DeploymentRecordErrorCode =
  /** A file of the record exists but cannot be read. */
  | "ERR_UNREADABLE"
  /** A file of the record is not what Ignition writes (not JSON, wrong types, bad addresses). */
  | "ERR_MALFORMED"
  /** The record lacks one of the contracts (a deployment that did not finish, or another module). */
  | "ERR_INCOMPLETE";

export class DeploymentRecordError extends Error {
  override readonly name = "DeploymentRecordError";

  constructor(
    readonly code: DeploymentRecordErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

/** Ignition future ids of the contracts, as the modules in deploy/modules/ name them. */
export const DEPLOYMENT_FUTURES = {
  marketplace: "Marketplace#Marketplace",
  verifier: "Groth16Verifier#Groth16Verifier",
  /** Holdfast.ts deploys a test token; HoldfastExistingToken.ts names an existing one. */
  token: ["TestToken#TestToken", "ExistingToken#Token"],
} as const;

/**
 * The repository's deploy/deployments. This file is node/src/chain/deployment.ts or, built,
 * node/dist/chain/deployment.js: three levels below the package root either way.
 */
export const DEFAULT_DEPLOYMENTS_DIR = path.resolve(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "deploy",
  "deployments",
);

/** The folder Ignition keeps chain `chainId`'s record in. */
export function deploymentDir(chainId: bigint, dir = DEFAULT_DEPLOYMENTS_DIR): string {
  return path.join(dir, `chain-${chainId}`);
}

/**
 * The deployment recorded for chain `chainId` under `options.dir` (default: the repository's
 * deploy/deployments), or undefined when there is none. Throws DeploymentRecordError when a record
 * exists but is unreadable, malformed or incomplete.
 */
export async function readDeployment(
  chainId: bigint,
  options: { dir?: string } = {},
): Promise<Deployment | undefined> {
  if (typeof chainId !== "bigint" || chainId <= 0n) {
    throw new RangeError(`chain id must be a positive bigint, got ${String(chainId)}`);
  }
  const folder = deploymentDir(chainId, options.dir);
  const addressesFile = path.join(folder, "deployed_addresses.json");
  const addressesText = await readIfExists(addressesFile);
  if (addressesText === undefined) return undefined;
  const addresses = parseAddresses(addressesFile, addressesText);

  const pick = (label: string, ids: readonly string[]): string => {
    const present = ids.filter((id) => addresses.has(id));
    if (present.length === 0) {
      throw new DeploymentRecordError(
        "ERR_INCOMPLETE",
        addressesFile,
        `no ${label} (expected ${ids.map((id) => `"${id}"`).join(" or ")})`,
      );
    }
    if (present.length > 1) {
      throw new DeploymentRecordError(
        "ERR_MALFORMED",
        addressesFile,
        `more than one ${label}: ${present.join(", ")}`,
      );
    }
    return addresses.get(present[0]!)!;
  };

  const deployment: Deployment = {
    chainId,
    marketplace: pick("marketplace", [DEPLOYMENT_FUTURES.marketplace]),
    token: pick("token", DEPLOYMENT_FUTURES.token),
    verifier: pick("verifier", [DEPLOYMENT_FUTURES.verifier]),
  };
  const journalFile = path.join(folder, "journal.jsonl");
  const journal = await readIfExists(journalFile);
  if (journal !== undefined) {
    const deployBlock = confirmedBlock(journalFile, journal, DEPLOYMENT_FUTURES.marketplace);
    if (deployBlock !== undefined) deployment.deployBlock = deployBlock;
  }
  return deployment;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new DeploymentRecordError("ERR_UNREADABLE", file, (error as Error).message, {
      cause: error,
    });
  }
}

/** deployed_addresses.json: an object from future id to checksummed address. */
function parseAddresses(file: string, text: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DeploymentRecordError("ERR_MALFORMED", file, "not JSON", { cause: error });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new DeploymentRecordError("ERR_MALFORMED", file, "not an object of addresses");
  }
  const addresses = new Map<string, string>();
  for (const [id, value] of Object.entries(json)) {
    if (typeof value !== "string" || !isAddress(value)) {
      throw new DeploymentRecordError(
        "ERR_MALFORMED",
        file,
        `"${id}" is not an address: ${JSON.stringify(value)}`,
      );
    }
    addresses.set(id, getAddress(value));
  }
  return addresses;
}

/**
 * The block of the last confirmed transaction of `futureId` in Ignition's journal (one JSON message
 * per line; a deployment's confirmation carries the receipt), or undefined when none is confirmed.
 */
function confirmedBlock(file: string, text: string, futureId: string): number | undefined {
  let block: number | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch (error) {
      throw new DeploymentRecordError("ERR_MALFORMED", file, `line ${i + 1} is not JSON`, {
        cause: error,
      });
    }
    if (!isConfirmation(message) || message.futureId !== futureId) continue;
    const blockNumber = message.receipt?.blockNumber;
    if (typeof blockNumber !== "number" || !Number.isSafeInteger(blockNumber) || blockNumber < 0) {
      throw new DeploymentRecordError(
        "ERR_MALFORMED",
        file,
        `line ${i + 1}: the confirmation of ${futureId} has no block number`,
      );
    }
    block = blockNumber;
  }
  return block;
}

interface Confirmation {
  type: "TRANSACTION_CONFIRM";
  futureId: unknown;
  receipt?: { blockNumber?: unknown };
}

function isConfirmation(message: unknown): message is Confirmation {
  return (
    typeof message === "object" &&
    message !== null &&
    (message as { type?: unknown }).type === "TRANSACTION_CONFIRM"
  );
}
