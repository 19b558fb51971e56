/**
 * The devnet's money, checked from the outside: the marketplace's token balance against every
 * transfer its events imply, every account against the token's supply, and each settled request's
 * payouts against the marketplace's rules (contracts/marketplace/Payouts.sol). Used by the soak run
 * after every period.
 */
import { TestToken__factory } from "../../node/src/chain/contracts/index.js";
import { DEV_ACCOUNT_COUNT, devAccount } from "./accounts.js";
import type { Devnet } from "./devnet.js";
import type { RequestView, SlotTenure } from "./market.js";

export interface Violation {
  check: string;
  detail: string;
}

/** When a request stopped earning: its end, its expiry (cancelled) or the moment it failed. */
export async function settledAt(view: RequestView): Promise<bigint | undefined> {
  const state = await view.devnet.market.requestState(view.requestId);
  if (state === "finished") return view.endsAt();
  if (state === "cancelled") return view.devnet.market.requestExpiry(view.requestId);
  if (state === "failed") return view.events("RequestFailed")[0]?.timestamp;
  return undefined;
}

/**
 * Token conservation: the supply is what was minted; every token is held by a known account or the
 * marketplace; and the marketplace holds exactly what came in (prices, deposits) less what went out
 * (payouts, refunds, validator rewards), as its events tell.
 */
export async function checkConservation(
  devnet: Devnet,
  views: readonly RequestView[],
  supply: bigint,
): Promise<Violation[]> {
  const token = TestToken__factory.connect(devnet.deployment.token, devnet.chain.provider);
  const problems: Violation[] = [];
  // Everything is read at one block, the last whose events the observer has: transfers go on.
  await devnet.observer.poll();
  const blockTag = devnet.observer.lastBlock;
  const at = { blockTag };
  const totalSupply = await token.totalSupply(at);
  if (totalSupply !== supply) {
    problems.push({ check: "supply", detail: `supply ${totalSupply}, minted ${supply}` });
  }
  let held = await token.balanceOf(devnet.deployment.marketplace, at);
  const inMarketplace = held;
  for (let i = 0; i < DEV_ACCOUNT_COUNT; i++) {
    held += await token.balanceOf(devAccount(i).address, at);
  }
  if (held !== totalSupply) {
    problems.push({
      check: "holders",
      detail: `accounts and marketplace hold ${held} of ${totalSupply}: tokens went elsewhere`,
    });
  }
  let expected = 0n;
  for (const view of views) {
    expected += BigInt(view.slots) * view.request.ask.duration * view.pricePerSlotPerSecond;
    for (const tenure of view.tenures(blockTag)) expected += view.deposit(tenure);
  }
  const out = (name: string) =>
    devnet.observer
      .find(name)
      .filter((e) => e.blockNumber <= blockTag)
      .reduce((sum, e) => sum + (e.args.amount as bigint), 0n);
  expected -= out("SlotPaid") + out("FundsWithdrawn") + out("ValidatorRewardWithdrawn");
  if (inMarketplace !== expected) {
    problems.push({
      check: "escrow",
      detail: `marketplace holds ${inMarketplace}, its events account for ${expected}`,
    });
  }
  return problems;
}

/**
 * For a request that has settled (every remaining host paid, the client refunded): each payout is
 * the rule's amount, and the refund is exactly what the hosts and validators did not get.
 * Returns undefined while the request has not settled yet.
 */
export async function checkSettlement(view: RequestView): Promise<Violation[] | undefined> {
  const at = await settledAt(view);
  if (at === undefined) return undefined;
  const holders = view.holders().filter((t): t is SlotTenure => t !== undefined);
  const paid = view.events("SlotPaid");
  const refunds = view.events("FundsWithdrawn");
  if (refunds.length === 0 || paid.length < holders.length) return undefined;
  const problems: Violation[] = [];
  const id = view.requestId.slice(0, 10);
  let paidOut = 0n;
  for (const tenure of holders) {
    const payouts = paid.filter(
      (e) => String(e.args.slotId) === tenure.slotId && e.args.host === tenure.host,
    );
    const due = view.hostPayout(tenure, at);
    const got = payouts.map((e) => e.args.amount as bigint);
    if (got.length !== 1 || got[0] !== due) {
      problems.push({
        check: "host payout",
        detail: `${id} slot ${tenure.slotIndex}: paid [${got.join(", ")}], due ${due}`,
      });
    }
    paidOut += got.reduce((a, b) => a + b, 0n);
  }
  const config = view.devnet.deployment.config.collateral;
  const slash = (view.collateralPerSlot * BigInt(config.slashPercentage)) / 100n;
  const reward = (slash * BigInt(config.validatorRewardPercentage)) / 100n;
  const marks = view.events("ProofMarkedMissing").length;
  const price = BigInt(view.slots) * view.request.ask.duration * view.pricePerSlotPerSecond;
  const deposits = view.tenures().reduce((sum, t) => sum + view.deposit(t), 0n);
  const refund = price + deposits - paidOut - BigInt(marks) * reward;
  const got = refunds.map((e) => e.args.amount as bigint);
  if (got.length !== 1 || got[0] !== refund) {
    problems.push({
      check: "client refund",
      detail: `${id}: refunded [${got.join(", ")}], due ${refund}`,
    });
  }
  return problems;
}
