/**
 * Every failure the node reports to a caller carries a stable code, so the API, the CLI and the
 * tests can tell failures apart without parsing messages. Messages say what was wrong and, where
 * it helps, what to do.
 */
export type ErrorCode =
  | "ERR_INVALID_CID"
  | "ERR_NOT_FOUND"
  | "ERR_INVALID_MANIFEST"
  | "ERR_INVALID_EC_PARAMS"
  | "ERR_QUOTA_EXCEEDED"
  | "ERR_UPLOAD_TOO_LARGE"
  | "ERR_UPLOAD_ABORTED"
  | "ERR_CORRUPT_BLOCK"
  | "ERR_DECODE_FAILED"
  | "ERR_INVALID_CONFIG"
  | "ERR_INVALID_ARGUMENT"
  | "ERR_ABORTED"
  | "ERR_STORE_CLOSED"
  /** The chain or a contract on it is not what the node expects (wrong address, wrong chain). */
  | "ERR_CHAIN";

export class HoldfastError extends Error {
  override readonly name = "HoldfastError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isHoldfastError(error: unknown, code?: ErrorCode): error is HoldfastError {
  return error instanceof HoldfastError && (code === undefined || error.code === code);
}

/** Throws ERR_ABORTED if the signal has fired; long loops call this between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new HoldfastError("ERR_ABORTED", "the operation was aborted", { cause: signal.reason });
  }
}
