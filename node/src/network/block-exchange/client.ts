import type { PeerId, Stream } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { NetworkError, abortedError } from "../errors.js";
import { readMessages } from "./stream-io.js";
import { assertVerifiableCid, blockMatchesCid } from "./verify.js";
import { FrameDecoder, type Message, MessageType, encodeCidList, encodeMessage } from "./wire.js";

/** Opens a stream to a peer on a protocol (libp2p's dialProtocol, narrowed to what we use). */
export type StreamOpener = (
  peer: PeerId,
  protocol: string,
  options: { signal?: AbortSignal },
) => Promise<Stream>;

interface PendingLeaves {
  resolve(leaves: Uint8Array[]): void;
  reject(error: NetworkError): void;
  timer: NodeJS.Timeout;
}

interface PendingBlock {
  resolve(bytes: Uint8Array): void;
  reject(error: NetworkError): void;
  timer: NodeJS.Timeout;
}

/** How many recently expired or cancelled request ids we keep to accept their late answers. */
const EXPIRED_MEMORY = 4096;

/**
 * The requesting side of block exchange with one peer, over one stream. It sends WANT_HAVE and
 * WANT_BLOCK, matches answers to requests, checks every block against its CID and times out
 * requests that get no answer. It does not decide whom to ask for what: the downloader does.
 *
 * Anything the peer sends that we did not ask for, or cannot parse, ends the whole session with
 * `failure` ERR_PROTOCOL_VIOLATION; a block that does not match its CID fails its request with
 * ERR_BAD_BLOCK and ends the session with that failure, since the peer can no longer be trusted.
 * Requests still outstanding when a session ends reject with ERR_PEER_GONE (cause: the failure).
 */
export class PeerSession {
  readonly peer: PeerId;
  readonly #stream: Stream;
  readonly #blocks = new Map<string, PendingBlock>();
  /** Leaves requests by tree, then start index (one tree is fetched in several ranges). */
  readonly #leaves = new Map<string, Map<number, PendingLeaves>>();
  readonly #haveWaiters = new Map<string, ((has: boolean) => void)[]>();
  /** Request ids answered late are tolerated (time-outs race with answers); anything else is not. */
  readonly #expired = new Set<string>();
  #failure: NetworkError | undefined;
  readonly #outbox: Uint8Array[] = [];
  readonly #closeListeners: ((error: NetworkError | undefined) => void)[] = [];

  private constructor(peer: PeerId, stream: Stream) {
    this.peer = peer;
    this.#stream = stream;
    readMessages(
      stream,
      new FrameDecoder(),
      (message) => this.#onMessage(message),
      (error) =>
        this.#fail(
          error instanceof NetworkError
            ? error
            : new NetworkError("ERR_PROTOCOL_VIOLATION", String(error), { cause: error }),
        ),
    );
    stream.addEventListener("close", (event) => {
      this.#fail(
        new NetworkError("ERR_PEER_GONE", `the stream to ${peer.toString()} closed`, {
          cause: event.error,
        }),
      );
    });
    stream.addEventListener("remoteCloseWrite", () => {
      this.#fail(new NetworkError("ERR_PEER_GONE", `${peer.toString()} closed the stream`));
    });
  }

  static async open(
    openStream: StreamOpener,
    protocol: string,
    peer: PeerId,
    options: { signal?: AbortSignal } = {},
  ): Promise<PeerSession> {
    try {
      return new PeerSession(peer, await openStream(peer, protocol, options));
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(options.signal);
      throw new NetworkError(
        "ERR_DIAL_FAILED",
        `cannot open ${protocol} to ${peer.toString()}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Block requests sent and not yet answered. */
  get inFlight(): number {
    return this.#blocks.size;
  }

  /** Why the session ended, or undefined while it is usable. */
  get failure(): NetworkError | undefined {
    return this.#failure;
  }

  onClose(listener: (error: NetworkError | undefined) => void): void {
    this.#closeListeners.push(listener);
  }

  /**
   * Asks which of `cids` the peer has. Resolves with the set of their string forms it has; CIDs it
   * did not answer for within `timeoutMs` count as not had.
   */
  async wantHave(cids: readonly CID[], options: { timeoutMs: number }): Promise<Set<string>> {
    this.#assertOpen();
    const has = new Set<string>();
    if (cids.length === 0) return has;
    let resolveAll!: () => void;
    const done = new Promise<void>((resolve) => (resolveAll = resolve));
    let outstanding = cids.length;
    const waiters: [string, (has: boolean) => void][] = [];
    for (const cid of cids) {
      const key = cid.toString();
      const waiter = (present: boolean) => {
        if (present) has.add(key);
        if (--outstanding === 0) resolveAll();
      };
      waiters.push([key, waiter]);
      const list = this.#haveWaiters.get(key);
      if (list) list.push(waiter);
      else this.#haveWaiters.set(key, [waiter]);
    }
    const timer = setTimeout(resolveAll, options.timeoutMs);
    const onClose = () => resolveAll();
    this.#closeListeners.push(onClose);
    try {
      for (const frame of encodeCidList(MessageType.WANT_HAVE, cids)) this.#send(frame);
      await done;
    } finally {
      clearTimeout(timer);
      this.#closeListeners.splice(this.#closeListeners.indexOf(onClose), 1);
      for (const [key, waiter] of waiters) {
        const list = this.#haveWaiters.get(key);
        if (!list) continue;
        const i = list.indexOf(waiter);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#haveWaiters.delete(key);
      }
    }
    return has;
  }

  /**
   * Requests one block. Resolves with its bytes once they are verified against `cid`; rejects with
   * ERR_DONT_HAVE, ERR_REQUEST_TIMEOUT, ERR_BAD_BLOCK, ERR_PROTOCOL_VIOLATION or ERR_PEER_GONE.
   */
  wantBlock(cid: CID, options: { timeoutMs: number }): Promise<Uint8Array> {
    this.#assertOpen();
    assertVerifiableCid(cid);
    const key = cid.toString();
    if (this.#blocks.has(key)) {
      throw new RangeError(`${key} is already requested from ${this.peer.toString()}`);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#blocks.delete(key);
        this.#remember(key);
        this.#trySend(encodeMessage({ type: MessageType.CANCEL, cids: [cid] }));
        reject(
          new NetworkError(
            "ERR_REQUEST_TIMEOUT",
            `${this.peer.toString()} did not send ${key} within ${options.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs);
      this.#blocks.set(key, { resolve, reject, timer });
      this.#expired.delete(key);
      this.#send(encodeMessage({ type: MessageType.WANT_BLOCK, cids: [cid] }));
    });
  }

  /**
   * Requests leaf digests [start, start + count) of a tree. Resolves with what the peer sent (fewer
   * where the tree ends; the caller verifies them against the tree); rejects with ERR_DONT_HAVE,
   * ERR_REQUEST_TIMEOUT, ERR_PROTOCOL_VIOLATION or ERR_PEER_GONE.
   */
  wantLeaves(
    tree: CID,
    start: number,
    count: number,
    options: { timeoutMs: number },
  ): Promise<Uint8Array[]> {
    this.#assertOpen();
    const key = tree.toString();
    let byStart = this.#leaves.get(key);
    if (!byStart) this.#leaves.set(key, (byStart = new Map()));
    if (byStart.has(start)) throw new RangeError(`leaves ${key}@${start} are already requested`);
    const pending = byStart;
    return new Promise<Uint8Array[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(start);
        reject(
          new NetworkError(
            "ERR_REQUEST_TIMEOUT",
            `${this.peer.toString()} did not send leaves of ${key} within ${options.timeoutMs} ms`,
          ),
        );
      }, options.timeoutMs);
      pending.set(start, { resolve, reject, timer });
      this.#send(encodeMessage({ type: MessageType.WANT_LEAVES, tree, start, count }));
    });
  }

  /** Ends the session: outstanding requests fail with ERR_PEER_GONE (or `error`). */
  close(error?: NetworkError): void {
    this.#fail(error ?? new NetworkError("ERR_PEER_GONE", "the session was closed locally"));
  }

  #onMessage(message: Message): void {
    switch (message.type) {
      case MessageType.HAVE:
      case MessageType.DONT_HAVE: {
        const present = message.type === MessageType.HAVE;
        for (const cid of message.cids) {
          const key = cid.toString();
          const waiters = this.#haveWaiters.get(key);
          if (waiters) {
            this.#haveWaiters.delete(key);
            for (const waiter of waiters) waiter(present);
          }
          if (!present) {
            this.#answerBlock(key, cid, undefined);
            this.#refuseLeaves(key);
          }
        }
        return;
      }
      case MessageType.LEAVES: {
        const key = message.tree.toString();
        const pending = this.#leaves.get(key)?.get(message.start);
        if (!pending) return; // a late answer to a timed-out request: harmless, bounded in size
        this.#leaves.get(key)!.delete(message.start);
        clearTimeout(pending.timer);
        pending.resolve(message.leaves);
        return;
      }
      case MessageType.BLOCK:
        this.#answerBlock(message.cid.toString(), message.cid, message.data);
        return;
      default:
        this.#fail(
          new NetworkError(
            "ERR_PROTOCOL_VIOLATION",
            `${this.peer.toString()} sent a request (type ${message.type}) on our request stream`,
          ),
        );
    }
  }

  #refuseLeaves(key: string): void {
    const byStart = this.#leaves.get(key);
    if (!byStart) return;
    this.#leaves.delete(key);
    for (const pending of byStart.values()) {
      clearTimeout(pending.timer);
      pending.reject(
        new NetworkError("ERR_DONT_HAVE", `${this.peer.toString()} lacks tree ${key}`),
      );
    }
  }

  /** Settles a WANT_BLOCK with a block (or, with `data` undefined, with DONT_HAVE). */
  #answerBlock(key: string, cid: CID, data: Uint8Array | undefined): void {
    const pending = this.#blocks.get(key);
    if (!pending) {
      // A late answer to a request we gave up on is fine; an unasked-for block is not.
      if (data !== undefined && !this.#expired.delete(key)) {
        this.#fail(
          new NetworkError("ERR_PROTOCOL_VIOLATION", `${this.peer.toString()} sent unasked ${key}`),
        );
      }
      return;
    }
    this.#blocks.delete(key);
    clearTimeout(pending.timer);
    if (data === undefined) {
      pending.reject(
        new NetworkError("ERR_DONT_HAVE", `${this.peer.toString()} does not have ${key}`),
      );
    } else if (!blockMatchesCid(cid, data)) {
      const error = new NetworkError(
        "ERR_BAD_BLOCK",
        `${this.peer.toString()} sent bytes for ${key} that do not match it`,
      );
      pending.reject(error);
      this.#fail(error);
    } else {
      // A block spanning several network chunks was copied into a buffer of its own by the
      // decoder; only a view into a larger chunk is copied out, so it does not pin the chunk.
      pending.resolve(data.buffer.byteLength - data.length <= 1024 ? data : data.slice());
    }
  }

  #remember(key: string): void {
    this.#expired.add(key);
    if (this.#expired.size > EXPIRED_MEMORY) {
      this.#expired.delete(this.#expired.values().next().value!);
    }
  }

  #assertOpen(): void {
    if (this.#failure) throw this.#failure;
  }

  /**
   * Queues a request frame; frames queued in the same tick go out as one write, so a window of
   * WANT_BLOCKs costs one encrypted message instead of one per block. Requests are small and
   * bounded by the downloader's window, so there is no need to wait for the stream to drain.
   */
  #send(frame: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    this.#outbox.push(frame);
    if (this.#outbox.length === 1) queueMicrotask(() => this.#flush());
  }

  #trySend(frame: Uint8Array): void {
    if (!this.#failure) this.#send(frame);
  }

  #flush(): void {
    const frames = this.#outbox.splice(0);
    if (this.#failure || frames.length === 0) return;
    try {
      this.#stream.send(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    } catch (error) {
      this.#fail(new NetworkError("ERR_PEER_GONE", String(error), { cause: error }));
    }
  }

  #fail(error: NetworkError): void {
    if (this.#failure) return;
    this.#failure = error;
    const gone =
      error.code === "ERR_PEER_GONE"
        ? error
        : new NetworkError("ERR_PEER_GONE", error.message, { cause: error });
    for (const [, pending] of this.#blocks) {
      clearTimeout(pending.timer);
      pending.reject(gone);
    }
    this.#blocks.clear();
    for (const byStart of this.#leaves.values()) {
      for (const pending of byStart.values()) {
        clearTimeout(pending.timer);
        pending.reject(gone);
      }
    }
    this.#leaves.clear();
    for (const [, waiters] of this.#haveWaiters) for (const waiter of waiters) waiter(false);
    this.#haveWaiters.clear();
    if (this.#stream.status === "open") {
      if (error.code === "ERR_PEER_GONE") {
        void this.#stream.close().catch(() => this.#stream.abort(error));
      } else {
        this.#stream.abort(error);
      }
    }
    for (const listener of this.#closeListeners.splice(0)) listener(error);
  }
}
