/**
 * A host's sales fill slots at the same time (salesWorkers > 1). Each fill approves its collateral
 * first; the approvals of two fills must not overlap (an ERC-20 approve sets the allowance, so the
 * second fill would find the first one's allowance, skip its own approve, and then lack it).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { MarketplaceClient, slotIdOf } from "../../../node/src/chain/marketplace-client.js";
import type { Groth16ProofArg } from "../../../node/src/proof/groth16-encoding.js";
import { entropyFromChallenge } from "../../../node/src/proof/public-inputs.js";
import {
  exampleRequest,
  rootToField,
  testVerifier,
  testbed,
} from "../../contracts/marketplace/testbed.js";
import { localWallet } from "../chain/accounts.js";

describe("concurrent fills of one host", function () {
  it("fill two slots at once, each with its own collateral approved", async function () {
    const connection = await network.create();
    const bed = testbed(connection);
    const d = await bed.deploy();
    const request = exampleRequest(d.actors.client.address);
    const { requestId } = await bed.requestStorage(d, request);
    // HD index 2 is the testbed's first host, funded with tokens.
    const wallet = localWallet(2, connection.ethers.provider);
    expect(wallet.address).to.equal(d.actors.hosts[0]!.address);
    const client = await MarketplaceClient.connect({
      provider: connection.ethers.provider,
      signer: wallet,
      address: await d.marketplace.getAddress(),
      confirmations: 0,
    });
    const collateral = request.ask.collateralPerByte * request.ask.slotSize;
    const proofOf = async (slotIndex: bigint) => {
      const challenge = await client.getChallenge(slotIdOf(requestId, slotIndex));
      // The test verifier's proofs are plain bigints, as Groth16ProofArg holds them.
      return (await testVerifier.proofFor([
        entropyFromChallenge(challenge),
        rootToField(request.content.merkleRoot),
        slotIndex,
      ])) as Groth16ProofArg;
    };
    for (const slotIndex of [0n, 1n]) await client.reserveSlot(requestId, slotIndex);
    // A proof answers one period's challenge: start at a period's beginning, with a period to spare.
    await bed.advanceToNextPeriod();
    // A challenge is the hash of the block `pointer` blocks back, the same at every block until the
    // pointer wraps past 255. The proofs are made at the latest block and the fills land up to four
    // blocks later (an approve and a fill each): move past a wrap first.
    const period = bed.periodOf(await bed.latestTimestamp());
    const slotIds = [0n, 1n].map((slotIndex) => slotIdOf(requestId, slotIndex));
    const wrapsSoon = (block: number) =>
      slotIds.some((id) => bed.pointerAt(id, period, block) > 247);
    while (wrapsSoon(await connection.ethers.provider.getBlockNumber())) await bed.mineBlocks(1);
    const proofs = [await proofOf(0n), await proofOf(1n)];
    await Promise.all(
      [0n, 1n].map((slotIndex) =>
        client.fillSlot(requestId, slotIndex, proofs[Number(slotIndex)]!, collateral),
      ),
    );
    for (const slotIndex of [0n, 1n])
      expect(await client.getHost(slotIdOf(requestId, slotIndex))).to.equal(wallet.address);
  });
});
