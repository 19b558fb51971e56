import type { FastifyInstance } from "fastify";
import type { MarketplaceClient } from "../../chain/marketplace-client.js";
import { HoldfastError } from "../../errors.js";
import { errorSchema } from "../errors.js";

/** The node's chain account: what `holdfast balances` shows. Served when the node has a chain. */
export function accountRoutes(client: MarketplaceClient) {
  return async function (app: FastifyInstance): Promise<void> {
    app.get(
      "/account",
      {
        schema: {
          summary: "The node's chain account and its balances",
          description:
            "Amounts are decimal strings in the smallest unit (token units of the marketplace's ERC-20; wei).",
          tags: ["marketplace"],
          response: {
            200: {
              type: "object",
              required: ["address", "token", "tokenBalance", "ethBalance"],
              properties: {
                address: { type: "string" },
                token: { type: "string", description: "the marketplace's payment token" },
                tokenBalance: { type: "string" },
                ethBalance: { type: "string" },
              },
            },
            502: errorSchema,
          },
        },
      },
      async () => {
        const address = client.account;
        if (address === undefined) {
          throw new HoldfastError("ERR_INVALID_CONFIG", "the node has no chain account");
        }
        try {
          const [tokenBalance, ethBalance] = await Promise.all([
            client.tokenBalance(address),
            client.provider.getBalance(address),
          ]);
          return {
            address,
            token: client.tokenAddress,
            tokenBalance: tokenBalance.toString(),
            ethBalance: ethBalance.toString(),
          };
        } catch (error) {
          throw new HoldfastError(
            "ERR_CHAIN",
            `cannot read the balances: ${(error as Error).message}`,
            { cause: error },
          );
        }
      },
    );
  };
}
