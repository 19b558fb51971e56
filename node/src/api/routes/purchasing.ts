/**
 * The client role's routes: request storage of a dataset on the marketplace and follow the
 * purchases. Amounts are decimal strings (they exceed 2^53); chain timestamps are unix seconds.
 */
import type { FastifyInstance } from "fastify";
import { HoldfastError } from "../../errors.js";
import { PURCHASE_STATES, purchaseView } from "../../purchasing/purchase.js";
import type { Purchasing } from "../../purchasing/purchasing.js";
import { DEFAULT_NODES, DEFAULT_TOLERANCE } from "../../purchasing/terms.js";
import { errorSchema } from "../errors.js";

/** A whole number as a JSON number or a decimal string (terms.ts checks the value). */
const wholeNumber = [{ type: "string" }, { type: "integer" }] as const;

const amount = (description: string) => ({
  anyOf: wholeNumber,
  description: `${description}; a positive integer, as a decimal string or a JSON number`,
});

const termsBody = {
  type: "object",
  required: [
    "duration",
    "pricePerBytePerSecond",
    "proofProbability",
    "collateralPerByte",
    "expiry",
  ],
  properties: {
    duration: amount("seconds the data is stored, at most the marketplace's requestDurationLimit"),
    pricePerBytePerSecond: amount("tokens per byte of slot per second paid to each host"),
    proofProbability: amount("a proof is required on average once every this many periods"),
    collateralPerByte: amount("tokens per byte of slot each host deposits as collateral"),
    expiry: amount(
      "seconds from the request by which every slot must be filled (else it is cancelled and refunded); below duration",
    ),
    nodes: {
      anyOf: wholeNumber,
      description: `slots, K + M (default ${DEFAULT_NODES}); at most 256`,
    },
    tolerance: {
      anyOf: wholeNumber,
      description: `slots that may be lost, M: the parity and the request's maxSlotLoss (default ${DEFAULT_TOLERANCE}); below nodes`,
    },
  },
} as const;

const str = { type: "string" } as const;
const int = { type: "integer" } as const;

export const purchaseSchema = {
  type: "object",
  properties: {
    id: { type: "string", description: "the request id on chain (0x + 64 hex)" },
    requestId: str,
    state: { type: "string", enum: [...PURCHASE_STATES] },
    cid: { type: "string", description: "the dataset id given" },
    manifestCid: {
      type: "string",
      description: "the verifiable manifest hosts store: the request's content.cid",
    },
    terms: {
      type: "object",
      properties: {
        duration: str,
        pricePerBytePerSecond: str,
        proofProbability: str,
        collateralPerByte: str,
        expiry: str,
        nodes: int,
        tolerance: int,
      },
    },
    request: {
      type: "object",
      description: "the request as sent to the marketplace",
      properties: {
        client: str,
        ask: {
          type: "object",
          properties: {
            proofProbability: str,
            pricePerBytePerSecond: str,
            collateralPerByte: str,
            slots: str,
            slotSize: str,
            duration: str,
            maxSlotLoss: str,
          },
        },
        content: { type: "object", properties: { cid: str, merkleRoot: str } },
        expiry: str,
        nonce: str,
      },
    },
    price: { type: "string", description: "tokens escrowed by the request (its full price)" },
    refunded: { type: "string", description: "tokens withdrawn back by the client" },
    hostPayouts: { type: "string", description: "tokens the hosts collected from the request" },
    txHash: str,
    requestedAt: { type: "integer", description: "chain time of the request (unix seconds)" },
    expiresAt: { type: "integer", description: "chain time by which slots must be filled" },
    endsAt: { type: "integer", description: "chain time at which the storage ends" },
    filledSlots: { type: "array", items: int },
    missedProofs: int,
    withdrawn: { type: "boolean" },
    withdrawals: {
      type: "array",
      items: { type: "object", properties: { txHash: str, amount: str } },
    },
    slotPayouts: {
      type: "array",
      items: {
        type: "object",
        properties: { slotIndex: int, host: str, amount: str, txHash: str },
      },
    },
    error: str,
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    history: {
      type: "array",
      items: {
        type: "object",
        properties: {
          state: { type: "string", enum: [...PURCHASE_STATES] },
          at: { type: "string", format: "date-time" },
        },
      },
    },
  },
} as const;

const errors = { 400: errorSchema, 404: errorSchema, 500: errorSchema, 502: errorSchema };

export function purchasingRoutes(purchasing: Purchasing) {
  return async function (app: FastifyInstance): Promise<void> {
    app.post<{ Params: { cid: string }; Body: unknown }>(
      "/storage/request/:cid",
      {
        // The schema documents the body; parseTerms checks it, with messages naming the rule.
        attachValidation: true,
        schema: {
          summary: "Request storage of a dataset on the marketplace",
          description:
            "Erasure codes the dataset into nodes = K + M slots (K = nodes - tolerance, M = tolerance) and makes it verifiable unless it is already, then sends requestStorage, escrowing slots x duration x pricePerBytePerSecond x slotSize tokens. The node follows the request and withdraws the refund when it ends. 502 ERR_CHAIN when the chain is unreachable or the marketplace refuses (with the contract's error name).",
          tags: ["marketplace"],
          params: {
            type: "object",
            required: ["cid"],
            properties: { cid: { type: "string", description: "the dataset's id" } },
          },
          body: termsBody,
          response: { 201: purchaseSchema, ...errors },
        },
      },
      async (request, reply) => {
        const purchase = await purchasing.request(request.params.cid, request.body);
        return reply.status(201).send(purchaseView(purchase));
      },
    );

    app.get(
      "/storage/purchases",
      {
        schema: {
          summary: "This node's purchases, newest first",
          tags: ["marketplace"],
          response: { 200: { type: "array", items: purchaseSchema }, ...errors },
        },
      },
      async () => purchasing.list().map(purchaseView),
    );

    app.get<{ Params: { id: string } }>(
      "/storage/purchases/:id",
      {
        schema: {
          summary: "One purchase",
          tags: ["marketplace"],
          params: {
            type: "object",
            required: ["id"],
            properties: { id: { type: "string", description: "the purchase's request id" } },
          },
          response: { 200: purchaseSchema, ...errors },
        },
      },
      async (request) => {
        const purchase = purchasing.get(request.params.id);
        if (!purchase) {
          throw new HoldfastError("ERR_NOT_FOUND", `no purchase ${request.params.id} on this node`);
        }
        return purchaseView(purchase);
      },
    );
  };
}
