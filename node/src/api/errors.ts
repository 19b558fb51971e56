import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, HoldfastError } from "../errors.js";

/** HTTP status per error code: the client's mistakes are 4xx, the node's trouble 5xx. */
const STATUS: Record<ErrorCode, number> = {
  ERR_INVALID_CID: 400,
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_EC_PARAMS: 400,
  ERR_UPLOAD_ABORTED: 400,
  ERR_ABORTED: 400,
  ERR_NOT_FOUND: 404,
  ERR_UPLOAD_TOO_LARGE: 413,
  ERR_INVALID_MANIFEST: 422,
  ERR_QUOTA_EXCEEDED: 507,
  ERR_CORRUPT_BLOCK: 500,
  ERR_DECODE_FAILED: 500,
  ERR_INVALID_CONFIG: 500,
  ERR_STORE_CLOSED: 503,
};

export const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
} as const;

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function statusOf(error: HoldfastError): number {
  return STATUS[error.code];
}

/** One shape for every error response: { error: { code, message } }. */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error instanceof HoldfastError) {
    const status = statusOf(error);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    void reply.status(status).send(errorBody(error.code, error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    void reply.status(400).send(errorBody("ERR_INVALID_ARGUMENT", fastifyError.message));
    return;
  }
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    void reply
      .status(fastifyError.statusCode)
      .send(errorBody(fastifyError.code ?? "ERR_BAD_REQUEST", fastifyError.message));
    return;
  }
  request.log.error({ err: error }, "request failed");
  void reply.status(500).send(errorBody("ERR_INTERNAL", "internal error; see the node's log"));
}
