/**
 * The host's routes: availabilities (what storage the node offers) and the slots it sells. Amounts
 * are decimal strings (they exceed 2^53); sizes and durations may also be given as integers.
 */
import type { FastifyInstance } from "fastify";
import { HoldfastError } from "../../errors.js";
import type { Availability } from "../../sales/availability.js";
import type { AvailabilityInput } from "../../sales/availability-store.js";
import { SALE_STATES, type SaleRecord } from "../../sales/records.js";
import type { Sales } from "../../sales/sales.js";
import { errorSchema } from "../errors.js";

const amount = {
  anyOf: [
    { type: "string", pattern: "^[0-9]{1,78}$" },
    { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  ],
} as const;

const AVAILABILITY_FIELDS = {
  totalSize: { ...amount, description: "bytes offered (> 0)" },
  duration: { ...amount, description: "longest storage duration accepted, seconds (> 0)" },
  minPricePerBytePerSecond: { ...amount, description: "lowest price accepted, token units" },
  totalCollateral: { ...amount, description: "collateral the host puts up at most, token units" },
  until: {
    ...amount,
    description: "unix seconds after which no storage may still be owed; 0: no limit",
  },
  enabled: { type: "boolean" },
} as const;

const decimal = { type: "string", pattern: "^[0-9]+$" } as const;

const availabilitySchema = {
  type: "object",
  required: [
    "id",
    "totalSize",
    "freeSize",
    "duration",
    "minPricePerBytePerSecond",
    "totalCollateral",
    "freeCollateral",
    "until",
    "enabled",
  ],
  properties: {
    id: { type: "string" },
    totalSize: decimal,
    freeSize: decimal,
    duration: decimal,
    minPricePerBytePerSecond: decimal,
    totalCollateral: decimal,
    freeCollateral: decimal,
    until: decimal,
    enabled: { type: "boolean" },
  },
} as const;

const slotSchema = {
  type: "object",
  required: [
    "slotId",
    "requestId",
    "slotIndex",
    "state",
    "createdAt",
    "updatedAt",
    "proofsSubmitted",
    "proofsMissed",
    "history",
  ],
  properties: {
    slotId: { type: "string" },
    requestId: { type: "string" },
    slotIndex: { type: "integer" },
    state: { type: "string", enum: [...SALE_STATES] },
    reason: { type: "string" },
    mismatches: {
      type: "array",
      items: {
        type: "object",
        properties: {
          availabilityId: { type: "string" },
          reasons: { type: "array", items: { type: "string" } },
        },
      },
    },
    availabilityId: { type: "string" },
    manifestCid: { type: "string" },
    repair: { type: "boolean" },
    createdAt: { type: "string", format: "date-time" },
    updatedAt: { type: "string", format: "date-time" },
    slotSize: decimal,
    pricePerBytePerSecond: decimal,
    collateral: { ...decimal, description: "collateral deposited when filling, token units" },
    filledAt: { ...decimal, description: "chain time of the fill, unix seconds" },
    proofsSubmitted: { type: "integer" },
    proofsMissed: { type: "integer" },
    lastProofPeriod: decimal,
    payout: { ...decimal, description: "what freeing the slot paid (SlotPaid), token units" },
    history: {
      type: "array",
      items: {
        type: "object",
        properties: { state: { type: "string" }, at: { type: "string", format: "date-time" } },
      },
    },
  },
} as const;

const errors = { 400: errorSchema, 404: errorSchema };

type AmountJson = string | number;
type AvailabilityBody = Partial<Record<Exclude<keyof AvailabilityInput, "enabled">, AmountJson>> & {
  enabled?: boolean;
};

export function salesRoutes(sales: Sales) {
  return async function (app: FastifyInstance): Promise<void> {
    app.post<{ Body: AvailabilityBody }>(
      "/sales/availability",
      {
        schema: {
          summary: "Offer storage: space, duration, minimum price and collateral",
          tags: ["sales"],
          body: {
            type: "object",
            additionalProperties: false,
            required: ["totalSize", "duration", "minPricePerBytePerSecond", "totalCollateral"],
            properties: AVAILABILITY_FIELDS,
          },
          response: { 201: availabilitySchema, ...errors },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const created = await sales.availabilities.create({
          ...parseAmounts(body),
          until: body.until === undefined ? 0n : toBigint(body.until),
          enabled: body.enabled ?? true,
        } as AvailabilityInput);
        return reply.status(201).send(availabilityJson(created));
      },
    );

    app.get(
      "/sales/availability",
      {
        schema: {
          summary: "The node's availabilities, with what running sales left free",
          tags: ["sales"],
          response: { 200: { type: "array", items: availabilitySchema } },
        },
      },
      async () => sales.availabilities.list().map(availabilityJson),
    );

    app.patch<{ Params: { id: string }; Body: AvailabilityBody }>(
      "/sales/availability/:id",
      {
        schema: {
          summary: "Change an availability; it cannot shrink below what running sales reserved",
          tags: ["sales"],
          params: {
            type: "object",
            required: ["id"],
            properties: { id: { type: "string" } },
          },
          body: {
            type: "object",
            additionalProperties: false,
            minProperties: 1,
            properties: AVAILABILITY_FIELDS,
          },
          response: { 200: availabilitySchema, ...errors },
        },
      },
      async (request) =>
        availabilityJson(
          await sales.availabilities.update(request.params.id, {
            ...parseAmounts(request.body),
            ...(request.body.until !== undefined ? { until: toBigint(request.body.until) } : {}),
            ...(request.body.enabled !== undefined ? { enabled: request.body.enabled } : {}),
          }),
        ),
    );

    app.get(
      "/sales/slots",
      {
        schema: {
          summary: "The slots this host works on or worked on, with the state of each sale",
          tags: ["sales"],
          response: { 200: { type: "array", items: slotSchema } },
        },
      },
      async () => sales.list().map(slotJson),
    );

    app.get<{ Params: { slotId: string } }>(
      "/sales/slots/:slotId",
      {
        schema: {
          summary: "One slot's sale",
          tags: ["sales"],
          params: {
            type: "object",
            required: ["slotId"],
            properties: { slotId: { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } },
          },
          response: { 200: slotSchema, ...errors },
        },
      },
      async (request) => {
        const record = sales.get(request.params.slotId.toLowerCase());
        if (!record)
          throw new HoldfastError("ERR_NOT_FOUND", `no sale of slot ${request.params.slotId}`);
        return slotJson(record);
      },
    );
  };
}

function toBigint(value: AmountJson): bigint {
  return BigInt(value);
}

function parseAmounts(body: AvailabilityBody): Partial<AvailabilityInput> {
  const out: Partial<AvailabilityInput> = {};
  for (const key of [
    "totalSize",
    "duration",
    "minPricePerBytePerSecond",
    "totalCollateral",
  ] as const) {
    const value = body[key];
    if (value !== undefined) out[key] = toBigint(value);
  }
  return out;
}

export function availabilityJson(a: Availability) {
  return {
    id: a.id,
    totalSize: a.totalSize.toString(),
    freeSize: a.freeSize.toString(),
    duration: a.duration.toString(),
    minPricePerBytePerSecond: a.minPricePerBytePerSecond.toString(),
    totalCollateral: a.totalCollateral.toString(),
    freeCollateral: a.freeCollateral.toString(),
    until: a.until.toString(),
    enabled: a.enabled,
  };
}

export function slotJson(r: SaleRecord) {
  const text = (x: bigint | undefined) => (x === undefined ? undefined : x.toString());
  return {
    slotId: r.slotId,
    requestId: r.requestId,
    slotIndex: r.slotIndex,
    state: r.state,
    reason: r.reason,
    mismatches: r.mismatches,
    availabilityId: r.availabilityId,
    manifestCid: r.manifestCid,
    repair: r.repair,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    slotSize: text(r.request?.ask.slotSize),
    pricePerBytePerSecond: text(r.request?.ask.pricePerBytePerSecond),
    collateral: text(r.collateral),
    filledAt: text(r.filledAt),
    proofsSubmitted: r.proofsSubmitted,
    proofsMissed: r.proofsMissed,
    lastProofPeriod: text(r.lastProofPeriod),
    payout: text(r.payout),
    history: r.history.map((h) => ({ state: h.state, at: new Date(h.at).toISOString() })),
  };
}
