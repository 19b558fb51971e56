import { expect } from "chai";
import { network } from "hardhat";
import { groupOfSlot } from "../../../node/src/validator/groups.js";
import {
  STARTING_BALANCE,
  slotIdOf,
  validatorRewardPerSlash,
} from "../../contracts/marketplace/testbed.js";
import {
  SECOND_VALIDATOR_ACCOUNT,
  type ValidatorNode,
  rangeLimitedProvider,
  startValidatorNode,
  validatorChain,
} from "./fixture.js";

describe("validator role", function () {
  this.timeout(120_000);
  const nodes: ValidatorNode[] = [];
  afterEach(async function () {
    for (const node of nodes.splice(0)) await node.destroy();
  });

  async function start(...args: Parameters<typeof startValidatorNode>) {
    const node = await startValidatorNode(...args);
    nodes.push(node);
    return node;
  }

  it("marks every missed required proof exactly once, stops at ended slots and withdraws the exact reward", async function () {
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const { tb, d, ethers } = chain;
    const { validator, node } = await start(ethers.provider, chain.address);
    const account = (await validator.status()).account;
    expect(account).to.equal(d.actors.validator.address);

    // Four slots; the host of slot 0 proves every period, the other three never do.
    const { request, slotIds } = await chain.filledRequest(4);
    await validator.tick();
    expect(validator.watchedSlots.map((s) => s.slotId)).to.have.members(slotIds);

    await chain.endPeriod(); // the fill period: nothing was required in it
    const periods: bigint[] = [];
    for (let round = 0; round < 3; round++) {
      await tb.submitProof(d, request, 0n, d.actors.hosts[0]!);
      const period = await chain.endPeriodRequiringProofs(slotIds);
      periods.push(period);
      await validator.tick();
      // A second tick in the same window finds every slot settled and sends nothing.
      const nonce = await ethers.provider.getTransactionCount(account);
      await validator.tick();
      expect(await ethers.provider.getTransactionCount(account)).to.equal(nonce);
    }

    // Rounds 1 and 2: slots 1-3 marked. Round 3: the second removed host (at three missed proofs)
    // fails the request (maxSlotLoss 1), so the third slot no longer accepts marks.
    const marks = await chain.marks();
    const key = (m: { slotId: string; period: bigint }) => `${m.slotId}/${m.period}`;
    expect(new Set(marks.map(key)).size, "no slot and period marked twice").to.equal(marks.length);
    expect(marks.every((m) => m.validator === account)).to.equal(true);
    expect(marks.filter((m) => m.slotId === slotIds[0])).to.have.length(0);
    for (const period of periods.slice(0, 2)) {
      expect(marks.filter((m) => m.period === period).map((m) => m.slotId)).to.have.members(
        slotIds.slice(1),
      );
    }
    expect(marks.filter((m) => m.period === periods[2])).to.have.length(2);
    expect(marks).to.have.length(8);
    expect(await d.marketplace.requestState(chain.requestIdOf(request))).to.equal(4n); // Failed

    // The reward: slash x validatorRewardPercentage per mark, all withdrawn.
    const reward = 8n * validatorRewardPerSlash(tb.config, request.ask);
    expect(reward).to.equal(8n * 286_720n);
    expect(await d.token.balanceOf(account)).to.equal(STARTING_BALANCE + reward);
    expect(await d.marketplace.validatorReward(account)).to.equal(0n);
    // Every transaction the validator sent succeeded: marks and withdrawals, no reverts.
    const withdrawals = await d.marketplace.queryFilter(
      d.marketplace.filters.ValidatorRewardWithdrawn(account),
    );
    expect(await ethers.provider.getTransactionCount(account)).to.equal(8 + withdrawals.length);

    // Freed slots and the failed request leave the watched set.
    await validator.tick();
    expect(validator.watchedSlots).to.have.length(0);

    const api = await fetch(`${node.apiUrl}/api/v1/validator`);
    expect(api.status).to.equal(200);
    expect(await api.json()).to.deep.equal({
      account,
      groups: null,
      groupIndex: 0,
      slotsWatched: 0,
      proofsMarkedMissing: 8,
      rewardsWithdrawn: String(reward),
      rewardPending: "0",
      lastCheckedPeriod: String(periods[2]),
    });
    const metrics = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
    expect(metrics).to.match(/^holdfast_validator_proofs_marked_missing_total 8$/m);
    expect(metrics).to.match(/^holdfast_validator_slots_watched 0$/m);
    expect(metrics).to.include(`holdfast_validator_rewards_withdrawn_tokens_total ${reward}`);
    // The honest slot was checked in each of the three periods (a loaded machine may add a check
    // when a tick lands in a window twice before the slot is settled; it is never marked).
    const proven = /^holdfast_validator_checks_total\{outcome="proven"\} (\d+)$/m.exec(metrics);
    expect(proven, "proven checks are counted").to.not.equal(null);
    expect(Number(proven![1])).to.be.at.least(3);
  });

  it("runs on its own timer: follows new slots and marks without being driven", async function () {
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const { ethers } = chain;
    await start(ethers.provider, chain.address, { config: { ethPollInterval: 50 } });
    const { slotIds } = await chain.filledRequest(2);
    await chain.endPeriod();
    const period = await chain.endPeriodRequiringProofs(slotIds);
    const deadline = Date.now() + 20_000;
    while ((await chain.marks()).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const marks = await chain.marks();
    expect(marks.map((m) => m.slotId)).to.have.members(slotIds);
    expect(marks.every((m) => m.period === period)).to.equal(true);
  });

  it("re-checks a slot whose pointer is in downtime and marks it once the pointer leaves it", async function () {
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const { tb, ethers } = chain;
    const { validator } = await start(ethers.provider, chain.address);
    const { slotIds } = await chain.filledRequest(1);
    const slotId = slotIds[0]!;
    await chain.endPeriod();
    const period = await chain.endPeriod();
    // The next block's pointer is at the start of downtime: no proof is required there.
    const next = (await ethers.provider.getBlockNumber()) + 1;
    await tb.mineBlocks((256 - tb.pointerAt(slotId, period, next)) % 256);
    expect(tb.pointerAt(slotId, period, (await ethers.provider.getBlockNumber()) + 1)).to.equal(0);
    await validator.tick();
    expect(await chain.marks()).to.have.length(0);
    await tb.mineBlocks(2); // the pointer leaves the 2-block downtime
    await validator.tick();
    expect((await chain.marks()).map((m) => [m.slotId, m.period])).to.deep.equal([
      [slotId, period],
    ]);
  });

  it("forgets the slots of a request that finished, without sending anything", async function () {
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const { d, ethers } = chain;
    const { validator } = await start(ethers.provider, chain.address);
    const account = (await validator.status()).account;
    // Three periods long: it finishes (no event) while its slots are watched.
    const { requestId, slotIds } = await chain.filledRequest(2, { duration: 360n });
    await validator.tick();
    expect(validator.watchedSlots).to.have.length(2);
    const end = await d.marketplace.requestEnd(requestId);
    const last = chain.tb.periodOf(end);
    while (chain.tb.periodOf(await chain.tb.latestTimestamp()) < last) await chain.endPeriod();
    await chain.endPeriodRequiringProofs(slotIds);
    await validator.tick();
    expect(await d.marketplace.requestState(requestId)).to.equal(3n); // Finished
    expect(validator.watchedSlots).to.have.length(0);
    expect(await ethers.provider.getTransactionCount(account)).to.equal(0);
  });

  it("splits slots between two validators by uint256(slotId) mod groups; each marks only its own", async function () {
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const { ethers } = chain;
    const groups = { validatorGroups: 2 };
    const first = await start(ethers.provider, chain.address, {
      config: { ...groups, validatorGroupIndex: 0 },
    });
    const second = await start(ethers.provider, chain.address, {
      account: SECOND_VALIDATOR_ACCOUNT,
      config: { ...groups, validatorGroupIndex: 1 },
    });
    // Five slots with at least two in each group, so the split is visible.
    const { slotIds } = await chain.filledRequest(5, {
      accept(request) {
        const ids = [0, 1, 2, 3, 4].map((i) => slotIdOf(chain.requestIdOf(request), i));
        const odd = ids.filter((id) => BigInt(id) % 2n === 1n).length;
        return odd >= 2 && odd <= 3;
      },
    });
    const inGroup = (index: number) => slotIds.filter((id) => groupOfSlot(id, 2) === index);
    await first.validator.tick();
    await second.validator.tick();
    expect(first.validator.watchedSlots.map((s) => s.slotId)).to.have.members(inGroup(0));
    expect(second.validator.watchedSlots.map((s) => s.slotId)).to.have.members(inGroup(1));

    await chain.endPeriod();
    const period = await chain.endPeriodRequiringProofs(slotIds);
    await first.validator.tick();
    await second.validator.tick();
    const marks = await chain.marks();
    const firstAccount = (await first.validator.status()).account;
    const secondAccount = (await second.validator.status()).account;
    expect(marks.filter((m) => m.validator === firstAccount).map((m) => m.slotId)).to.have.members(
      inGroup(0),
    );
    expect(marks.filter((m) => m.validator === secondAccount).map((m) => m.slotId)).to.have.members(
      inGroup(1),
    );
    expect(marks.every((m) => m.period === period)).to.equal(true);
    expect(marks).to.have.length(5);
  });

  it("two validators watching the same slots race: each proof is marked once and the loser only logs", async function () {
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const { ethers } = chain;
    const a = await start(ethers.provider, chain.address);
    const b = await start(ethers.provider, chain.address, { account: SECOND_VALIDATOR_ACCOUNT });
    const { slotIds } = await chain.filledRequest(3);
    await Promise.all([a.validator.tick(), b.validator.tick()]);
    await chain.endPeriod();
    const period = await chain.endPeriodRequiringProofs(slotIds, 40);
    await Promise.all([a.validator.tick(), b.validator.tick()]);
    const marks = await chain.marks();
    expect(marks.map((m) => m.slotId)).to.have.members(slotIds);
    expect(marks.every((m) => m.period === period)).to.equal(true);
    let marked = 0;
    for (const { node } of [a, b]) {
      const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
      const sample = (series: string) =>
        Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
      const outcome = (name: string) =>
        sample(`holdfast_validator_checks_total{outcome="${name}"}`);
      // Each validator settled every slot: it marked it, or found (or lost the race to) the other's mark.
      expect(outcome("marked") + outcome("already_marked") + outcome("lost_race")).to.equal(3);
      expect(text, "no validator errors").to.not.match(/^holdfast_validator_errors_total\{/m);
      marked += outcome("marked");
    }
    expect(marked).to.equal(3);
    // Both are settled for the period: another round of ticks sends nothing.
    const nonces = async () =>
      Promise.all(
        [a, b].map(async (v) =>
          ethers.provider.getTransactionCount((await v.validator.status()).account),
        ),
      );
    const before = await nonces();
    await Promise.all([a.validator.tick(), b.validator.tick()]);
    expect(await nonces()).to.deep.equal(before);
  });

  it("follows the slots through a provider that refuses wide log ranges, and resumes after a restart without marking twice", async function () {
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const { d, ethers } = chain;
    const limited = rangeLimitedProvider(ethers.provider, 8);
    let node = await start(limited.provider, chain.address, {
      config: { ethMaxLogRange: 5_000 },
    });
    const account = (await node.validator.status()).account;
    const first = await chain.filledRequest(2);
    await node.validator.tick();
    // The chain is ~330 blocks long and the poller started at block 0 asking for 5,000 at once.
    expect(limited.stats.refused).to.be.greaterThan(0);
    expect(node.validator.watchedSlots.map((s) => s.slotId)).to.have.members(first.slotIds);

    await chain.endPeriod();
    const period = await chain.endPeriodRequiringProofs(first.slotIds);
    const polledTo = await ethers.provider.getBlockNumber(); // the tick reads events up to here
    await node.validator.tick();
    expect((await chain.marks()).map((m) => [m.slotId, m.period])).to.have.deep.members(
      first.slotIds.map((id) => [id, period]),
    );

    // Stopped inside the marking window; a second request is filled while it is down.
    await node.stop();
    nodes.pop();
    const second = await chain.filledRequest(1);
    const nonce = await ethers.provider.getTransactionCount(account);
    limited.stats.queries.length = 0;
    node = await start(limited.provider, chain.address, { dataDir: node.dataDir });
    await node.validator.tick();
    // The cursor resumes where the node stopped; the watched set comes back from the database.
    expect(limited.stats.queries.length).to.be.greaterThan(0);
    expect(Math.min(...limited.stats.queries.map((q) => q.fromBlock))).to.equal(polledTo + 1);
    expect(node.validator.watchedSlots.map((s) => s.slotId)).to.have.members([
      ...first.slotIds,
      ...second.slotIds,
    ]);
    // Still inside the window of `period`: nothing is marked again and no transaction is sent.
    expect(await chain.marks()).to.have.length(2);
    expect(await ethers.provider.getTransactionCount(account)).to.equal(nonce);
    expect((await node.validator.status()).proofsMarkedMissing).to.equal(2);

    // The next period: the first request's slots are marked; the new slot was filled in it.
    const all = [...first.slotIds, ...second.slotIds];
    const next = await chain.endPeriodRequiringProofs(all);
    await node.validator.tick();
    const nextMarks = (await chain.marks()).filter((m) => m.period === next);
    expect(nextMarks.map((m) => m.slotId)).to.have.members(first.slotIds);
    // And the one after: all three, once each.
    const after = await chain.endPeriodRequiringProofs(all);
    await node.validator.tick();
    const marks = await chain.marks();
    expect(marks.filter((m) => m.period === after).map((m) => m.slotId)).to.have.members(all);
    expect(new Set(marks.map((m) => `${m.slotId}/${m.period}`)).size).to.equal(7);
    expect(marks).to.have.length(7);
    expect((await node.validator.status()).proofsMarkedMissing).to.equal(7);
    expect(await d.marketplace.validatorReward(account)).to.equal(0n);
  });
});
