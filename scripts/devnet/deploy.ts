/**
 * Deploys the marketplace system on the devnet's chain: TestToken, the Groth16Verifier of the dev
 * circuit's setup, and the Marketplace with proof timings short enough for a demo. Then mints tokens
 * to the accounts that will act on it.
 */
import { NonceManager, Wallet } from "ethers";
import type { CircuitArtifacts } from "../circuits/instances.js";
import { readVerificationKey } from "../deploy/verifier-parameters.js";
import {
  Groth16Verifier__factory,
  Marketplace__factory,
  TestToken__factory,
} from "../../node/src/chain/contracts/index.js";
import type { MarketplaceConfigStruct } from "../../node/src/chain/contracts/marketplace/Marketplace.js";
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
  config: MarketplaceConfigStruct;
}

/** The marketplace's configuration: Codex's collateral rules (as deploy/parameters/local.json) with `timings`. */
export function devnetConfig(timings: ProofTimings, zkeyHash: string): MarketplaceConfigStruct {
  return {
    collateral: {
      repairRewardPercentage: 10,
      maxNumberOfSlashes: 2,
      slashPercentage: 20,
      validatorRewardPercentage: 20,
    },
    proofs: {
      period: timings.period,
      timeout: timings.timeout,
      downtime: timings.downtime,
      downtimeProduct: 67,
      zkeyHash,
      minBlockTimeMs: 1000,
    },
    reservations: { maxReservations: 3, windowDoublings: 0, windowExpansionPercentage: 50 },
    requestDurationLimit: 30 * 86_400,
  };
}

export async function deploySystem(
  chain: Chain,
  artifacts: CircuitArtifacts,
  timings: ProofTimings = DEVNET_PROOF_TIMINGS,
): Promise<Deployment> {
  // The marketplace reads block hashes up to 256 blocks back and refuses to exist before that.
  const height = await chain.blockNumber();
  if (height < 300) await chain.mineBlocks(300 - height);
  const deployer = new NonceManager(new Wallet(devAccount(0).privateKey, chain.provider));
  const token = await new TestToken__factory(deployer).deploy(devAccount(0).address, 0n);
  await token.waitForDeployment();
  const verifier = await new Groth16Verifier__factory(deployer).deploy(
    await readVerificationKey(artifacts.vkeyJson),
  );
  await verifier.waitForDeployment();
  const config = devnetConfig(timings, artifacts.zkeyHash);
  const marketplace = await new Marketplace__factory(deployer).deploy(
    config,
    await token.getAddress(),
    await verifier.getAddress(),
  );
  await marketplace.waitForDeployment();
  const receipt = await marketplace.deploymentTransaction()!.wait();
  return {
    token: await token.getAddress(),
    verifier: await verifier.getAddress(),
    marketplace: await marketplace.getAddress(),
    deployBlock: receipt!.blockNumber,
    config,
  };
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
