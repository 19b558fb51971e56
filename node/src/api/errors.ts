import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, HoldfastError } from "../errors.js";
import { NetworkError, type NetworkErrorCode } from "../network/errors.js";

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
  ERR_CHAIN: 502,
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

/** HTTP status per networking error code: a peer's or the network's failure is a 502/504. */
const NETWORK_STATUS: Record<NetworkErrorCode, number> = {
  ERR_INVALID_MULTIADDR: 400,
  ERR_INVALID_PEER_ID: 400,
  ERR_UNSUPPORTED_CID: 400,
  ERR_ABORTED: 400,
  ERR_BLOCKS_UNAVAILABLE: 404,
  ERR_DIAL_FAILED: 502,
  ERR_PROTOCOL_VIOLATION: 502,
  ERR_BAD_BLOCK: 502,
  ERR_DONT_HAVE: 502,
  ERR_PEER_GONE: 502,
  ERR_REQUEST_TIMEOUT: 504,
  ERR_INVALID_PEER_KEY: 500,
};

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
  if (error instanceof NetworkError) {
    const status = NETWORK_STATUS[error.code];
    if (status >= 500) request.log.warn({ err: error }, "request failed");
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
