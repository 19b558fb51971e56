/** The sales state machine's chain, over the node's MarketplaceClient. */
import type { MarketplaceClient } from "../chain/marketplace-client.js";
import { HoldfastError } from "../errors.js";
import type { SalesChain } from "./ports.js";

export function marketplaceChain(client: MarketplaceClient): SalesChain {
  const account = client.account;
  if (!account) throw new HoldfastError("ERR_INVALID_CONFIG", "the host role needs an account");
  const paidIn = (
    logs: readonly Parameters<MarketplaceClient["decodeEvent"]>[0][],
    slotId: string,
  ) => {
    for (const log of logs) {
      const event = client.decodeEvent(log);
      if (event?.name === "SlotPaid" && event.slotId === slotId) return event.amount;
    }
    return undefined;
  };
  return {
    account,
    period: client.config.proofs.period,
    repairRewardPercentage: client.config.collateral.repairRewardPercentage,
    now: () => client.now(),
    getRequest: (id) => client.getRequest(id),
    requestState: (id) => client.requestState(id),
    requestEnd: (id) => client.requestEnd(id),
    slotState: (id) => client.slotState(id),
    getHost: (id) => client.getHost(id),
    currentPeriod: () => client.currentPeriod(),
    getChallenge: (id) => client.getChallenge(id),
    isProofRequired: (id) => client.isProofRequired(id),
    willProofBeRequired: (id) => client.willProofBeRequired(id),
    canReserveSlot: (id, index, host) => client.canReserveSlot(id, index, host),
    reservationEligibleAt: (id, index, host) => client.reservationEligibleAt(id, index, host),
    async reserveSlot(id, index, signal) {
      await client.reserveSlot(id, index, signal);
    },
    async fillSlot(id, index, proof, collateral, signal) {
      const receipt = await client.fillSlot(id, index, proof, collateral, signal);
      const block = await client.provider.getBlock(receipt.blockNumber);
      if (!block) throw new HoldfastError("ERR_CHAIN", `block ${receipt.blockNumber} not found`);
      return { blockNumber: receipt.blockNumber, timestamp: BigInt(block.timestamp) };
    },
    async submitProof(slotId, proof, signal) {
      await client.submitProof(slotId, proof, signal);
    },
    async freeSlot(slotId, signal) {
      const receipt = await client.freeSlot(slotId, signal);
      return { paid: paidIn(receipt.logs, slotId) };
    },
    async slotPayment(slotId, fromBlock) {
      const logs = await client.provider.getLogs({
        address: client.address,
        topics: [client.contract.interface.getEvent("SlotPaid").topicHash, slotId],
        fromBlock,
        toBlock: "latest",
      });
      return paidIn(logs, slotId);
    },
  };
}
