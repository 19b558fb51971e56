import { expect } from "chai";
import { network } from "hardhat";
import { exampleRequest, RequestState, SlotState, testbed } from "./testbed.js";

const bed = testbed(await network.create());

describe("Marketplace smoke", function () {
  it("runs a request from start to payout", async function () {
    const d = await bed.networkHelpers.loadFixture(bed.deploy);
    const request = exampleRequest(d.actors.client.address);
    const { requestId, fills } = await bed.startRequest(d, request);
    expect(await d.marketplace.requestState(requestId)).to.equal(RequestState.Started);
    await bed.advanceToNextPeriod();
    await bed.submitProof(d, request, 0n, d.actors.hosts[0]!);
    await bed.missProof(d, fills[1]!.slotId);
    expect(await d.marketplace.missingProofs(fills[1]!.slotId)).to.equal(1n);
    await bed.time.increase(request.ask.duration + 1n);
    expect(await d.marketplace.slotState(fills[0]!.slotId)).to.equal(SlotState.Finished);
    await d.marketplace.connect(d.actors.hosts[0]!).freeSlot(fills[0]!.slotId);
    await d.marketplace.connect(d.actors.client).withdrawFunds(requestId);
  });
});
