/**
 * Deploys the marketplace system on the devnet's chain: TestToken, the Groth16Verifier of the dev
 * circuit's setup, and the Marketplace with proof timings fit for real proofs on a busy machine.
 * Then mints tokens to the accounts that will act on it.
 */
import { NonceManager, Wallet } from "ethers";
import type { CircuitArtifacts } from "../circuits/instances.js";
import { deployHoldfast } from "../deploy/holdfast.js";
import {
  type MarketplaceConfiguration,
  NETWORKS,
  readNetworkParameters,
} from "../deploy/networks.js";
import { TestToken__factory } from "../../node/src/chain/contracts/index.js";
import { devAccount } from "./accounts.js";
import type { Chain } from "./chain.js";

export interface ProofTimings {
  /** Seconds per proof period. */
  period: number;
  /** Seconds after a period in which a missed proof can be marked (at most `downtime` blocks). */
  timeout: number;
  /** Blocks of each 256 in which no proof is asked. */
  downtime: number;
}

/**
 * Proof timings for a devnet with real proofs on a busy machine: a dev-circuit proof takes several
 * seconds when four hosts prove at once on two cores, so a period is a minute; the demo skips the
 * rest of a period once every proof is in, so a period costs only the proving time.
 */
export const DEVNET_PROOF_TIMINGS: ProofTimings = { period: 60, timeout: 20, downtime: 20 };

export interface Deployment {
  token: string;
  verifier: string;
  marketplace: string;
  deployBlock: number;
  config: MarketplaceConfiguration;
}

/**
 * Deploys through the deployment modules (deploy/modules/, scripts/deploy/holdfast.ts) with the
 * `local` network's parameters and the devnet's proof timings, keeping no deployment record.
 */
export async function deploySystem(
  chain: Chain,
  artifacts: CircuitArtifacts,
  timings: ProofTimings = DEVNET_PROOF_TIMINGS,
  log?: (line: string) => void,
): Promise<Deployment> {
  const { network } = await import("hardhat");
  const connection = await network.connect({
    network: NETWORKS.local.hardhatNetwork,
    override: { url: chain.url },
  });
  try {
    const local = await readNetworkParameters("local");
    const parameters = {
      ...local,
      marketplace: { ...local.marketplace, proofs: { ...local.marketplace.proofs, ...timings } },
    };
    const deployed = await deployHoldfast(connection, {
      parameters,
      verificationKey: artifacts.vkeyJson,
      zkeyHash: artifacts.zkeyHash,
      deploymentsDir: null,
      ...(log ? { log } : {}),
    });
    return {
      token: deployed.token,
      verifier: deployed.verifier,
      marketplace: deployed.marketplace,
      deployBlock: deployed.deployBlock,
      config: {
        ...parameters.marketplace,
        proofs: { ...parameters.marketplace.proofs, zkeyHash: artifacts.zkeyHash },
      },
    };
  } finally {
    await connection.close();
  }
}

/** Mints `amount` tokens to each address (the deployer owns the test token). */
export async function fund(
  chain: Chain,
  deployment: Deployment,
  addresses: readonly string[],
  amount: bigint,
): Promise<void> {
  const deployer = new NonceManager(new Wallet(devAccount(0).privateKey, chain.provider));
  const token = TestToken__factory.connect(deployment.token, deployer);
  for (const address of addresses) await (await token.mint(address, amount)).wait();
}
