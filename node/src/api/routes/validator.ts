import type { FastifyInstance } from "fastify";
import type { Validator } from "../../validator/validator.js";

const amount = { type: "string", pattern: "^[0-9]+$" } as const;

/** GET /validator: what the validator role watches, has marked and has earned. */
export function validatorRoutes(validator: Validator) {
  return async function (app: FastifyInstance): Promise<void> {
    app.get(
      "/validator",
      {
        schema: {
          summary: "The validator role: watched slots, missed proofs marked, rewards",
          tags: ["validator"],
          response: {
            200: {
              type: "object",
              required: [
                "account",
                "groups",
                "groupIndex",
                "slotsWatched",
                "proofsMarkedMissing",
                "rewardsWithdrawn",
                "rewardPending",
                "lastCheckedPeriod",
              ],
              properties: {
                account: { type: "string", description: "the validator's address" },
                groups: {
                  type: ["integer", "null"],
                  description: "validator groups; null when this validator watches every slot",
                },
                groupIndex: {
                  type: "integer",
                  description: "watches slots with uint256(slotId) mod groups == groupIndex",
                },
                slotsWatched: { type: "integer" },
                proofsMarkedMissing: {
                  type: "integer",
                  description: "missed proofs marked since this node's database was created",
                },
                rewardsWithdrawn: {
                  ...amount,
                  description: "rewards withdrawn so far, token's smallest unit, decimal",
                },
                rewardPending: {
                  ...amount,
                  description: "rewards earned and not withdrawn yet (read from the chain)",
                },
                lastCheckedPeriod: {
                  type: ["string", "null"],
                  pattern: "^[0-9]+$",
                  description: "the last period whose proofs were checked; null before the first",
                },
              },
            },
          },
        },
      },
      async () => {
        const status = await validator.status();
        return {
          account: status.account,
          groups: status.groups ?? null,
          groupIndex: status.groupIndex,
          slotsWatched: status.slotsWatched,
          proofsMarkedMissing: status.proofsMarkedMissing,
          rewardsWithdrawn: String(status.rewardsWithdrawn),
          rewardPending: String(status.rewardPending),
          lastCheckedPeriod:
            status.lastCheckedPeriod === undefined ? null : String(status.lastCheckedPeriod),
        };
      },
    );
  };
}
