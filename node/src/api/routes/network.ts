import { Readable } from "node:stream";
import { multiaddr } from "@multiformats/multiaddr";
import type { FastifyInstance } from "fastify";
import { parseCid } from "../../blocks/cid.js";
import { HoldfastError } from "../../errors.js";
import { NetworkError } from "../../network/errors.js";
import type { FetchJobs } from "../../network/jobs.js";
import type { Network } from "../../network/network.js";
import { parsePeerId } from "../../network/options.js";
import type { Retrieval } from "../../network/retrieval.js";
import { errorSchema } from "../errors.js";

export interface NetworkApi {
  network: Network;
  retrieval: Retrieval;
  jobs: FetchJobs;
}

const idParam = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", description: "a manifest CID (CIDv1, SHA-256)" } },
} as const;

const errors = { 400: errorSchema, 404: errorSchema, 500: errorSchema, 502: errorSchema };

const jobSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    slot: { type: "integer" },
    state: { type: "string", enum: ["running", "done", "failed"] },
    startedAt: { type: "string" },
    finishedAt: { type: "string" },
    rebuilt: { type: "integer", description: "slot blocks rebuilt by erasure decoding" },
    progress: { type: "object", additionalProperties: true },
    error: { type: "object", additionalProperties: true },
  },
} as const;

export function networkRoutes({ network, retrieval, jobs }: NetworkApi) {
  return async function (app: FastifyInstance): Promise<void> {
    app.get<{ Params: { id: string } }>(
      "/data/:id/network/stream",
      {
        schema: {
          summary: "Download a dataset from the network, streaming, storing it as it goes",
          description:
            "Finds providers through the DHT, fetches and verifies every block, rebuilds missing ones of protected datasets by erasure decoding, streams the original bytes and stores the dataset under the same id. A stored dataset is streamed from the store.",
          tags: ["network"],
          params: idParam,
          response: { ...errors },
        },
      },
      async (request, reply) => {
        parseCid(request.params.id);
        const abort = new AbortController();
        request.raw.on("close", () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        const { manifest, stream } = await retrieval.download(request.params.id, {
          signal: abort.signal,
        });
        void reply.header("content-type", manifest.mimetype ?? "application/octet-stream");
        if (manifest.filename) {
          void reply.header(
            "content-disposition",
            `attachment; filename*=UTF-8''${encodeURIComponent(manifest.filename)}`,
          );
        }
        return reply.send(Readable.from(stream, { objectMode: false }));
      },
    );

    app.post<{ Params: { id: string }; Body: { slot?: number } | undefined }>(
      "/data/:id/network",
      {
        schema: {
          summary: "Fetch a dataset, or exactly one slot of a protected dataset, in the background",
          description:
            "Returns at once; GET the same path for the outcome. With { slot }, missing blocks of the slot are rebuilt from the other slots (slot repair).",
          tags: ["network"],
          params: idParam,
          body: {
            type: ["object", "null"],
            additionalProperties: false,
            properties: { slot: { type: "integer", minimum: 0 } },
          },
          response: { 202: jobSchema, ...errors },
        },
      },
      async (request, reply) => {
        const id = parseCid(request.params.id).toString();
        const slot = request.body?.slot;
        const job = jobs.start(id, slot, async (signal, onProgress) => {
          if (slot !== undefined) return retrieval.fetchSlot(id, slot, { signal, onProgress });
          const { stream } = await retrieval.download(id, { signal, onProgress });
          for await (const _ of stream) {
            // stored as it goes; nothing else to do with the bytes
          }
        });
        return reply.status(202).send(job);
      },
    );

    app.get<{ Params: { id: string }; Querystring: { slot?: string } }>(
      "/data/:id/network",
      {
        schema: {
          summary: "The outcome of a background fetch",
          tags: ["network"],
          params: idParam,
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: { slot: { type: "string", pattern: "^[0-9]{1,5}$" } },
          },
          response: { 200: jobSchema, ...errors },
        },
      },
      async (request) => {
        const id = parseCid(request.params.id).toString();
        const slot = request.query.slot === undefined ? undefined : Number(request.query.slot);
        const job = jobs.get(id, slot);
        if (!job) throw new HoldfastError("ERR_NOT_FOUND", `no fetch of ${id} was started`);
        return job;
      },
    );

    app.get(
      "/peer",
      {
        schema: {
          summary: "This node's peer id and the multiaddrs peers can dial",
          tags: ["network"],
          response: {
            200: {
              type: "object",
              required: ["id", "addrs"],
              properties: {
                id: { type: "string" },
                addrs: { type: "array", items: { type: "string" } },
              },
            },
          },
        },
      },
      async () => ({
        id: network.peerId.toString(),
        addrs: network.multiaddrs.map((a) => a.toString()),
      }),
    );

    app.post<{ Params: { peerId: string }; Body: { addrs?: string[] } | undefined }>(
      "/connect/:peerId",
      {
        schema: {
          summary: "Connect to a peer, at the given multiaddrs or those the node knows",
          tags: ["network"],
          params: {
            type: "object",
            required: ["peerId"],
            properties: { peerId: { type: "string" } },
          },
          body: {
            type: ["object", "null"],
            additionalProperties: false,
            properties: { addrs: { type: "array", maxItems: 32, items: { type: "string" } } },
          },
          response: {
            200: {
              type: "object",
              properties: { id: { type: "string" }, connected: { type: "boolean" } },
            },
            ...errors,
          },
        },
      },
      async (request) => {
        const peer = parsePeerId(request.params.peerId);
        const addrs = (request.body?.addrs ?? []).map((text) => {
          try {
            const addr = multiaddr(text);
            const p2p = addr.getComponents().find((c) => c.name === "p2p");
            if (p2p && p2p.value !== peer.toString()) {
              throw new Error(`it names another peer (${p2p.value})`);
            }
            return addr;
          } catch (error) {
            throw new NetworkError(
              "ERR_INVALID_MULTIADDR",
              `"${text}" is not a usable multiaddr: ${(error as Error).message}`,
            );
          }
        });
        await network.connect(peer, addrs, { signal: AbortSignal.timeout(15_000) });
        return { id: peer.toString(), connected: true };
      },
    );
  };
}
