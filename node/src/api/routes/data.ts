import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { DataService } from "../../dataset/service.js";
import { HoldfastError, isHoldfastError } from "../../errors.js";
import type { Manifest } from "../../manifest/manifest.js";
import type { NodeMetrics } from "../../metrics/metrics.js";
import { errorSchema } from "../errors.js";

const idParam = {
  type: "object",
  required: ["id"],
  properties: {
    id: {
      type: "string",
      description: "a manifest CID (CIDv1, SHA-256), as returned by an upload",
    },
  },
} as const;

const manifestSchema = {
  type: "object",
  additionalProperties: true,
  properties: {
    treeCid: { type: "string" },
    blocksCount: { type: "integer" },
    blockSize: { type: "integer" },
    datasetSize: { type: "integer" },
    filename: { type: "string" },
    mimetype: { type: "string" },
    protected: { type: "object", additionalProperties: true },
    verifiable: { type: "object", additionalProperties: true },
  },
} as const;

const datasetSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    kind: { type: "string", enum: ["basic", "protected", "verifiable"] },
    treeCid: { type: "string" },
    datasetSize: { type: "integer" },
    filename: { type: "string" },
    mimetype: { type: "string" },
    createdAt: { type: "string", format: "date-time" },
  },
} as const;

const errors = {
  400: errorSchema,
  404: errorSchema,
  413: errorSchema,
  500: errorSchema,
  507: errorSchema,
};

/** filename from `Content-Disposition: attachment; filename="x"` (or RFC 5987 filename*=UTF-8''x). */
export function filenameFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;\s]+)/i.exec(header);
  let name: string | undefined;
  try {
    name = extended ? decodeURIComponent(extended[1]!) : (plain?.[1] ?? plain?.[2]);
  } catch {
    throw new HoldfastError(
      "ERR_INVALID_ARGUMENT",
      "the Content-Disposition filename is not valid percent-encoding",
    );
  }
  if (name !== undefined && (name.length === 0 || name.length > 255 || hasControlOrSlash(name))) {
    throw new HoldfastError(
      "ERR_INVALID_ARGUMENT",
      "the filename must be 1 to 255 characters without slashes or control characters",
    );
  }
  return name;
}

function hasControlOrSlash(name: string): boolean {
  return [...name].some((c) => c.charCodeAt(0) < 0x20 || c === "/" || c === "\\");
}

export function dataRoutes(
  service: DataService,
  metrics: NodeMetrics,
  maxUploadSize: number | undefined,
) {
  return async function (app: FastifyInstance): Promise<void> {
    // Upload bodies are streamed as they arrive, whatever their type: no parser buffers them.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, _payload, done) => done(null));

    app.post(
      "/data",
      {
        schema: {
          summary: "Upload a file",
          description:
            "The raw request body is the file. Optional headers: Content-Type (kept as the mimetype) and Content-Disposition with a filename.",
          tags: ["data"],
          response: {
            201: {
              type: "object",
              required: ["id", "manifest"],
              properties: {
                id: { type: "string", description: "the manifest CID" },
                manifest: manifestSchema,
              },
            },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const declared = request.headers["content-length"];
        if (
          maxUploadSize !== undefined &&
          declared !== undefined &&
          Number(declared) > maxUploadSize
        ) {
          request.raw.resume(); // drain without storing, so the error response reaches the client
          throw new HoldfastError(
            "ERR_UPLOAD_TOO_LARGE",
            `the upload of ${declared} bytes exceeds the limit of ${maxUploadSize} bytes`,
          );
        }
        const controller = new AbortController();
        const onClose = () => {
          if (!request.raw.complete) controller.abort();
        };
        request.raw.on("close", onClose);
        try {
          const mimetype = request.headers["content-type"]?.split(";")[0]?.trim();
          const meta: { filename?: string; mimetype?: string } = {};
          const filename = filenameFrom(request.headers["content-disposition"]);
          if (filename) meta.filename = filename;
          if (mimetype) meta.mimetype = mimetype;
          const { cid, manifest } = await service.upload(request.raw, meta, {
            signal: controller.signal,
          });
          metrics.uploads.inc({ outcome: "ok" });
          metrics.uploadedBytes.inc(manifest.datasetSize);
          return reply.status(201).send({ id: cid, manifest });
        } catch (error) {
          const failure =
            isHoldfastError(error) && error.code !== "ERR_ABORTED"
              ? error
              : new HoldfastError(
                  "ERR_UPLOAD_ABORTED",
                  "the upload was interrupted before the body was complete; nothing was stored",
                  { cause: error },
                );
          metrics.uploads.inc({ outcome: failure.code });
          if (failure.code === "ERR_UPLOAD_TOO_LARGE" || failure.code === "ERR_QUOTA_EXCEEDED")
            request.raw.resume();
          throw failure;
        } finally {
          request.raw.off("close", onClose);
        }
      },
    );

    app.get(
      "/data",
      {
        schema: {
          summary: "List stored datasets",
          tags: ["data"],
          response: {
            200: {
              type: "object",
              properties: { datasets: { type: "array", items: datasetSchema } },
            },
          },
        },
      },
      async () => ({
        datasets: (await service.list()).map((d) => ({
          id: d.manifestCid,
          kind: d.kind,
          treeCid: d.treeCid,
          datasetSize: d.datasetSize,
          filename: d.filename,
          mimetype: d.mimetype,
          createdAt: d.createdAt,
        })),
      }),
    );

    app.get<{ Params: { id: string } }>(
      "/data/:id",
      {
        schema: {
          summary: "Download a dataset",
          description:
            "Streams the original bytes, verifying every block; protected datasets decode lost or corrupt blocks.",
          tags: ["data"],
          params: idParam,
          response: { 200: { type: "string", format: "binary" }, ...errors },
        },
      },
      async (request, reply) => download(service, metrics, request, reply),
    );

    app.get<{ Params: { id: string } }>(
      "/data/:id/manifest",
      {
        schema: {
          summary: "A dataset's manifest",
          tags: ["data"],
          params: idParam,
          response: { 200: manifestSchema, ...errors },
        },
      },
      async (request) => service.manifest(request.params.id),
    );

    app.delete<{ Params: { id: string } }>(
      "/data/:id",
      {
        schema: {
          summary: "Delete a dataset",
          tags: ["data"],
          params: idParam,
          response: { 204: { type: "null" }, ...errors },
        },
      },
      async (request, reply) => {
        await service.delete(request.params.id);
        return reply.status(204).send();
      },
    );
  };
}

/** Routes with JSON bodies live outside the raw-body plugin above. */
export function protectRoutes(service: DataService) {
  return async function (app: FastifyInstance): Promise<void> {
    app.post<{ Params: { id: string }; Body: { ecK: number; ecM: number } }>(
      "/data/:id/protect",
      {
        schema: {
          summary: "Erasure code a dataset and build its slot and dataset roots",
          description:
            "Stores a protected and a verifiable manifest; returns both ids and the verifiable manifest.",
          tags: ["data"],
          params: idParam,
          body: {
            type: "object",
            required: ["ecK", "ecM"],
            additionalProperties: false,
            properties: {
              ecK: { type: "integer", minimum: 1, maximum: 255, description: "data slots (K)" },
              ecM: {
                type: "integer",
                minimum: 1,
                maximum: 255,
                description: "parity slots (M); K + M <= 256",
              },
            },
          },
          response: {
            201: {
              type: "object",
              properties: {
                protectedId: { type: "string" },
                verifiableId: { type: "string" },
                manifest: manifestSchema,
              },
            },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const controller = new AbortController();
        // The client going away aborts the work; a finished response closing does not.
        reply.raw.once("close", () => {
          if (!reply.raw.writableFinished) controller.abort();
        });
        const result = await service.protect(request.params.id, request.body, {
          signal: controller.signal,
        });
        return reply.status(201).send({
          protectedId: result.protectedCid,
          verifiableId: result.verifiableCid,
          manifest: result.manifest,
        });
      },
    );
  };
}

async function download(
  service: DataService,
  metrics: NodeMetrics,
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
) {
  const controller = new AbortController();
  reply.raw.once("close", () => controller.abort());
  let manifest: Manifest;
  let stream: AsyncIterable<Uint8Array>;
  try {
    ({ manifest, stream } = await service.download(request.params.id, {
      signal: controller.signal,
    }));
  } catch (error) {
    metrics.downloads.inc({ outcome: isHoldfastError(error) ? error.code : "ERR_INTERNAL" });
    throw error;
  }
  async function* counted() {
    try {
      for await (const chunk of stream) {
        metrics.downloadedBytes.inc(chunk.length);
        yield chunk;
      }
      metrics.downloads.inc({ outcome: "ok" });
    } catch (error) {
      metrics.downloads.inc({ outcome: isHoldfastError(error) ? error.code : "ERR_INTERNAL" });
      request.log.error(
        { err: error, id: request.params.id },
        "download failed after the headers were sent",
      );
      throw error;
    }
  }
  void reply
    .header("content-type", manifest.mimetype ?? "application/octet-stream")
    .header("content-length", manifest.datasetSize);
  if (manifest.filename) {
    void reply.header(
      "content-disposition",
      `attachment; filename*=UTF-8''${encodeURIComponent(manifest.filename)}`,
    );
  }
  return reply.send(Readable.from(counted(), { objectMode: false }));
}
