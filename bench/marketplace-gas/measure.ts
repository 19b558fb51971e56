/**
 * One request's life, transaction by transaction, recording gas from the receipts.
 */
import type { ContractTransactionResponse } from "ethers";
import {
  type Connection,
  exampleConfig,
  exampleRequest,
  requestIdOf,
  testbed,
  type VerifierPlugin,
} from "../../test/contracts/marketplace/testbed.js";

export interface MarketplaceGas {
  transactions: [string, bigint][];
  submitProof: bigint;
  /** 21,000 plus the calldata of the measured submitProof: what any transaction of it pays. */
  submitProofIntrinsic: bigint;
  verifierCold: bigint;
  verifierWarm: bigint;
}

export async function measureMarketplaceGas(
  connection: Connection,
  plugin: VerifierPlugin,
): Promise<MarketplaceGas> {
  const bed = testbed(connection, exampleConfig(), plugin);
  const d = await bed.deploy();
  const { marketplace, token, actors } = d;
  const [host0, host1, host2, host3, host4] = actors.hosts as [
    (typeof actors.hosts)[0],
    (typeof actors.hosts)[0],
    (typeof actors.hosts)[0],
    (typeof actors.hosts)[0],
    (typeof actors.hosts)[0],
  ];
  const market = await marketplace.getAddress();
  const transactions: [string, bigint][] = [];
  async function gasOf(subject: string, tx: Promise<ContractTransactionResponse>) {
    const receipt = await (await tx).wait();
    transactions.push([subject, receipt!.gasUsed]);
    return receipt!.gasUsed;
  }

  const first = exampleRequest(actors.client.address);
  const second = exampleRequest(actors.client.address);
  await token.connect(actors.client).approve(market, 10n ** 30n);
  for (const host of actors.hosts) await token.connect(host).approve(market, 10n ** 30n);
  await gasOf(
    "requestStorage (client's first request)",
    marketplace.connect(actors.client).requestStorage(first),
  );
  await gasOf(
    "requestStorage (client's second request)",
    marketplace.connect(actors.client).requestStorage(second),
  );
  const requestId = requestIdOf(first);

  await gasOf(
    "reserveSlot (first reservation of a slot)",
    marketplace.connect(host0).reserveSlot(requestId, 0n),
  );
  await gasOf(
    "reserveSlot (second reservation)",
    marketplace.connect(host1).reserveSlot(requestId, 0n),
  );
  await gasOf(
    "reserveSlot (last: set full, event)",
    marketplace.connect(host2).reserveSlot(requestId, 0n),
  );

  async function fill(host: typeof host0, index: bigint, subject: string) {
    const slotId = (await import("../../test/contracts/marketplace/testbed.js")).slotIdOf(
      requestId,
      index,
    );
    const { proof } = await bed.proofForNextBlock(slotId, index, first.content.merkleRoot);
    await gasOf(subject, marketplace.connect(host).fillSlot(requestId, index, proof));
    return slotId;
  }
  const slot0 = await fill(host0, 0n, "fillSlot (first slot of the request)");
  await marketplace.connect(host1).reserveSlot(requestId, 1n);
  const slot1 = await fill(host1, 1n, "fillSlot (second slot)");
  await marketplace.connect(host2).reserveSlot(requestId, 2n);
  const slot2 = await fill(host2, 2n, "fillSlot (third slot)");
  await marketplace.connect(host3).reserveSlot(requestId, 3n);
  await fill(host3, 3n, "fillSlot (last slot: starts the request)");

  await bed.advanceToNextPeriod();
  const { proof } = await bed.proofForNextBlock(slot0, 0n, first.content.merkleRoot);
  const proofTx = marketplace.connect(host0).submitProof(slot0, proof);
  const submitProof = await gasOf("submitProof", proofTx);
  const data = connection.ethers.getBytes((await proofTx).data);
  const submitProofIntrinsic =
    21_000n + data.reduce((sum, byte) => sum + (byte === 0 ? 4n : 16n), 0n);

  let missed = bed.periodOf(await bed.latestTimestamp()) + 1n;
  await bed.advanceToMarkable(slot1, missed);
  await gasOf(
    "markProofAsMissing (slash)",
    marketplace.connect(actors.validator).markProofAsMissing(slot1, missed),
  );
  missed = bed.periodOf(await bed.latestTimestamp()) + 1n;
  await bed.advanceToMarkable(slot1, missed);
  await gasOf(
    "markProofAsMissing (slash and remove the host)",
    marketplace.connect(actors.validator).markProofAsMissing(slot1, missed),
  );
  await marketplace.connect(host4).reserveSlot(requestId, 1n);
  await fill(host4, 1n, "fillSlot (repair of a freed slot)");
  await gasOf(
    "freeSlot (host abandons a running slot)",
    marketplace.connect(host2).freeSlot(slot2),
  );

  await bed.time.increase(first.ask.duration + 1n);
  await gasOf(
    "freeSlot (payout after the request finished)",
    marketplace.connect(host0).freeSlot(slot0),
  );
  await gasOf(
    "withdrawFunds (client, finished request)",
    marketplace.connect(actors.client).withdrawFunds(requestId),
  );
  await gasOf(
    "withdrawValidatorReward",
    marketplace.connect(actors.validator).withdrawValidatorReward(),
  );

  const meter = await connection.ethers.deployContract("VerifierGasMeter");
  const sample = await plugin.proofFor([1n, 2n, 3n]);
  const [verifierCold, verifierWarm] = await meter.measure(
    await marketplace.getAddress().then(() => d.verifier.getAddress()),
    sample,
    [1n, 2n, 3n],
  );
  return { transactions, submitProof, submitProofIntrinsic, verifierCold, verifierWarm };
}
