import { rm } from "node:fs/promises";
import type { Provider } from "ethers";
import type { NodeConfig } from "../../../node/src/config/options.js";
import type { HoldfastNode } from "../../../node/src/node.js";
import type { PurchaseView } from "../../../node/src/purchasing/purchase.js";
import { localNodeConfig, startLocalNode, tempDataDir } from "../../helpers/local-node.js";
import type { Request } from "../../contracts/marketplace/testbed.js";

/**
 * A node in this process with the client role on an injected chain provider (Hardhat's, in
 * process). The data folder outlives stop() unless `remove` is called, so a test can restart a
 * node on the same database.
 */
export async function startClientNode(
  options: { provider?: Provider; dataDir?: string } & Partial<NodeConfig>,
): Promise<{ node: HoldfastNode; url: string; dataDir: string; stop(): Promise<void> }> {
  const { provider, dataDir: given, ...overrides } = options;
  const dataDir = given ?? (await tempDataDir("purchasing"));
  const config = localNodeConfig(dataDir, {
    ethConfirmations: 0,
    // Tests drive the role with purchasing.sync(); the timer is checked by its own test.
    ethPollInterval: 3_600_000,
    ...overrides,
  });
  const node = await startLocalNode(config, provider ? { provider } : {});
  return { node, url: `${node.apiUrl}/api/v1`, dataDir, stop: () => node.stop() };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Bytes of `blocks` 64 KiB blocks, each different. */
export function datasetBytes(blocks: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(blocks * 65_536);
  let x = seed * 2_654_435_761;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

export async function uploadBytes(url: string, bytes: Uint8Array): Promise<string> {
  const response = await fetch(`${url}/data`, { method: "POST", body: bytes });
  if (response.status !== 201) throw new Error(`upload failed: ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}

export async function postJson(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

export async function getJson<T>(url: string): Promise<{ status: number; json: T }> {
  const response = await fetch(url);
  return { status: response.status, json: (await response.json()) as T };
}

/** The request a purchase sent, as the contract testbed's helpers take it. */
export function requestOf(purchase: PurchaseView): Request {
  const r = purchase.request;
  return {
    client: r.client,
    ask: {
      proofProbability: BigInt(r.ask.proofProbability),
      pricePerBytePerSecond: BigInt(r.ask.pricePerBytePerSecond),
      collateralPerByte: BigInt(r.ask.collateralPerByte),
      slots: BigInt(r.ask.slots),
      slotSize: BigInt(r.ask.slotSize),
      duration: BigInt(r.ask.duration),
      maxSlotLoss: BigInt(r.ask.maxSlotLoss),
    },
    content: { ...r.content },
    expiry: BigInt(r.expiry),
    nonce: r.nonce,
  };
}

/** Terms that fit the example marketplace (30-day duration limit): 2 data + 1 parity slots. */
export const TERMS = {
  duration: 86_400,
  pricePerBytePerSecond: "2",
  proofProbability: 3,
  collateralPerByte: "5",
  expiry: 3_600,
  nodes: 3,
  tolerance: 1,
};
