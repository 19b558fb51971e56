/**
 * Failures of the networking layer carry a stable code, so callers (the API, the CLI, the
 * downloader's retry logic, tests) tell them apart without parsing messages.
 */
export type NetworkErrorCode =
  /** A --listen-addrs / --announce-addrs / --bootstrap-node value is not a usable multiaddr. */
  | "ERR_INVALID_MULTIADDR"
  /** A peer id given by a user is not a valid libp2p peer id. */
  | "ERR_INVALID_PEER_ID"
  /** The peer key file exists but cannot be used (unreadable, corrupt, too open permissions). */
  | "ERR_INVALID_PEER_KEY"
  /** A peer broke the block-exchange protocol (bad framing, unknown message, oversize frame). */
  | "ERR_PROTOCOL_VIOLATION"
  /** A peer sent a block whose bytes do not hash to the id it was sent under. */
  | "ERR_BAD_BLOCK"
  /** A peer said it does not have a block. */
  | "ERR_DONT_HAVE"
  /** A peer did not answer a request in time. */
  | "ERR_REQUEST_TIMEOUT"
  /** The stream to a peer closed while requests were outstanding. */
  | "ERR_PEER_GONE"
  /** A CID whose multihash this node cannot verify (only SHA2-256 is accepted). */
  | "ERR_UNSUPPORTED_CID"
  /** No provider could be found, or none delivered, for some blocks within the allowed time. */
  | "ERR_BLOCKS_UNAVAILABLE"
  /** Dialling a peer failed. */
  | "ERR_DIAL_FAILED"
  | "ERR_ABORTED";

export class NetworkError extends Error {
  override readonly name = "NetworkError";

  constructor(
    readonly code: NetworkErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isNetworkError(error: unknown, code?: NetworkErrorCode): error is NetworkError {
  return error instanceof NetworkError && (code === undefined || error.code === code);
}

export function abortedError(signal: AbortSignal): NetworkError {
  return new NetworkError("ERR_ABORTED", "the operation was aborted", { cause: signal.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}
