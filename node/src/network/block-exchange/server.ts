import type { PeerId, Stream } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { isNetworkError } from "../errors.js";
import type { BlockSource, TreeSource } from "../interfaces.js";
import { type NetworkMetrics, noopNetworkMetrics } from "../metrics.js";
import { readMessages, sendFrame } from "./stream-io.js";
import {
  FrameDecoder,
  type Message,
  MessageType,
  encodeBlockFrame,
  encodeCidList,
  encodeMessage,
} from "./wire.js";

export interface BlockExchangeServerOptions {
  /** WANT_BLOCKs a requester may have queued on one stream; more is a protocol violation. */
  maxQueuedWants?: number;
  /** Blocks read from the source ahead of the one being sent, to overlap disk and network. */
  readAhead?: number;
  log?: (message: string) => void;
}

export interface BlockExchangeServerComponents {
  source: BlockSource;
  /** Answers WANT_LEAVES; without it every tree is unknown (DONT_HAVE). */
  trees?: TreeSource;
  metrics?: NetworkMetrics;
}

/**
 * Answers block-exchange streams opened by requesters: WANT_HAVE with HAVE/DONT_HAVE, WANT_BLOCK
 * with BLOCK or DONT_HAVE, in the order asked. A requester that breaks the protocol (garbage,
 * answers sent to us, more queued wants than allowed) has its stream aborted.
 */
export class BlockExchangeServer {
  readonly #source: BlockSource;
  readonly #trees: TreeSource | undefined;
  readonly #metrics: NetworkMetrics;
  readonly #maxQueuedWants: number;
  readonly #readAhead: number;
  readonly #log: (message: string) => void;

  constructor(components: BlockExchangeServerComponents, options: BlockExchangeServerOptions = {}) {
    this.#source = components.source;
    this.#trees = components.trees;
    this.#metrics = components.metrics ?? noopNetworkMetrics;
    this.#maxQueuedWants = options.maxQueuedWants ?? 1024;
    this.#readAhead = options.readAhead ?? 8;
    this.#log = options.log ?? (() => {});
  }

  /** Serves one inbound stream until either side closes it. */
  handleStream(stream: Stream, peer: PeerId): void {
    new ServerSession(stream, peer, {
      source: this.#source,
      trees: this.#trees,
      metrics: this.#metrics,
      maxQueuedWants: this.#maxQueuedWants,
      readAhead: this.#readAhead,
      log: this.#log,
    });
  }
}

interface SessionContext {
  source: BlockSource;
  trees: TreeSource | undefined;
  metrics: NetworkMetrics;
  maxQueuedWants: number;
  readAhead: number;
  log: (message: string) => void;
}

class ServerSession {
  readonly #stream: Stream;
  readonly #peer: PeerId;
  readonly #ctx: SessionContext;
  readonly #wants: CID[] = [];
  readonly #abort = new AbortController();
  #working = false;

  constructor(stream: Stream, peer: PeerId, ctx: SessionContext) {
    this.#stream = stream;
    this.#peer = peer;
    this.#ctx = ctx;
    stream.addEventListener("close", () => {
      this.#wants.length = 0;
      this.#abort.abort();
    });
    // The requester closing its write end means it wants nothing more: finish and close ours.
    stream.addEventListener("remoteCloseWrite", () => {
      if (!this.#working) void this.#closeQuietly();
    });
    readMessages(
      stream,
      new FrameDecoder(),
      (message) => this.#onMessage(message),
      (error) => this.#violation(error),
    );
  }

  #onMessage(message: Message): void {
    switch (message.type) {
      case MessageType.WANT_HAVE:
        void this.#answerHaves(message.cids).catch((error) => this.#fail(error));
        return;
      case MessageType.WANT_BLOCK:
        if (this.#wants.length + message.cids.length > this.#ctx.maxQueuedWants) {
          this.#violation(
            new Error(`more than ${this.#ctx.maxQueuedWants} block requests queued at once`),
          );
          return;
        }
        this.#wants.push(...message.cids);
        if (!this.#working) void this.#serveBlocks().catch((error) => this.#fail(error));
        return;
      case MessageType.WANT_LEAVES:
        void this.#answerLeaves(message.tree, message.start, message.count).catch((error) =>
          this.#fail(error),
        );
        return;
      case MessageType.CANCEL: {
        const cancelled = new Set(message.cids.map((c) => c.toString()));
        const kept = this.#wants.filter((c) => !cancelled.has(c.toString()));
        this.#wants.splice(0, this.#wants.length, ...kept);
        return;
      }
      default:
        this.#violation(new Error(`a requester sent message type ${message.type}`));
    }
  }

  async #answerHaves(cids: CID[]): Promise<void> {
    const present = await Promise.all(cids.map((cid) => this.#ctx.source.has(cid)));
    const have = cids.filter((_, i) => present[i]);
    const dontHave = cids.filter((_, i) => !present[i]);
    const signal = this.#abort.signal;
    for (const frame of encodeCidList(MessageType.HAVE, have)) {
      await sendFrame(this.#stream, frame, signal);
    }
    for (const frame of encodeCidList(MessageType.DONT_HAVE, dontHave)) {
      await sendFrame(this.#stream, frame, signal);
    }
  }

  async #answerLeaves(tree: CID, start: number, count: number): Promise<void> {
    const leaves = await this.#ctx.trees?.leaves(tree, start, count).catch((error: unknown) => {
      this.#ctx.log(
        `block exchange: reading leaves of ${tree.toString()} failed: ${String(error)}`,
      );
      return undefined;
    });
    const frame =
      leaves === undefined || leaves.length === 0
        ? encodeMessage({ type: MessageType.DONT_HAVE, cids: [tree] })
        : encodeMessage({ type: MessageType.LEAVES, tree, start, leaves: leaves.slice(0, count) });
    await sendFrame(this.#stream, frame, this.#abort.signal);
  }

  /** Sends queued blocks in order, reading up to `readAhead` of them from the source in advance. */
  async #serveBlocks(): Promise<void> {
    this.#working = true;
    const signal = this.#abort.signal;
    const reads: { cid: CID; bytes: Promise<Uint8Array | undefined> }[] = [];
    try {
      while (!signal.aborted && (reads.length > 0 || this.#wants.length > 0)) {
        while (reads.length < this.#ctx.readAhead && this.#wants.length > 0) {
          const cid = this.#wants.shift()!;
          // A block the store cannot read is answered like a missing one; the requester moves on.
          const bytes = this.#ctx.source.get(cid, { signal }).catch((error: unknown) => {
            this.#ctx.log(`block exchange: reading ${cid.toString()} failed: ${String(error)}`);
            return undefined;
          });
          reads.push({ cid, bytes });
        }
        const { cid, bytes } = reads.shift()!;
        const data = await bytes;
        if (data === undefined) {
          const frame = encodeMessage({ type: MessageType.DONT_HAVE, cids: [cid] });
          await sendFrame(this.#stream, frame, signal);
        } else {
          await sendFrame(this.#stream, encodeBlockFrame(cid, data), signal);
          this.#ctx.metrics.blockSent(data.length);
        }
      }
    } finally {
      this.#working = false;
    }
    if (this.#stream.remoteWriteStatus === "closed") await this.#closeQuietly();
  }

  async #closeQuietly(): Promise<void> {
    try {
      await this.#stream.close();
    } catch {
      // the stream may already be gone; nothing is left to do for it
    }
  }

  #violation(error: unknown): void {
    this.#ctx.log(`block exchange: ${this.#peer.toString()} broke the protocol: ${String(error)}`);
    this.#stream.abort(error instanceof Error ? error : new Error(String(error)));
  }

  #fail(error: unknown): void {
    if (this.#abort.signal.aborted) return; // the stream closed under a pending send or read
    if (isNetworkError(error, "ERR_ABORTED")) return;
    this.#ctx.log(`block exchange: serving ${this.#peer.toString()} failed: ${String(error)}`);
    this.#stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}
