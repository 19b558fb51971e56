import type { PeerId } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { PeerSession, type StreamOpener } from "./block-exchange/client.js";
import { BLOCK_EXCHANGE_PROTOCOL } from "./block-exchange/protocol.js";
import { assertVerifiableCid } from "./block-exchange/verify.js";
import { NetworkError, abortedError, isNetworkError } from "./errors.js";
import type { BlockSink, BlockSource, ProviderInfo, ProviderRouting } from "./interfaces.js";
import { type NetworkMetrics, noopNetworkMetrics } from "./metrics.js";
import type { PeerEvent, PeerScoreboard } from "./scores.js";

export interface DownloaderComponents {
  self: PeerId;
  routing: ProviderRouting;
  openStream: StreamOpener;
  /** Tells libp2p where a discovered provider can be dialled. */
  addAddresses?: (provider: ProviderInfo) => Promise<void>;
  source: BlockSource;
  sink: BlockSink;
  scores: PeerScoreboard;
  metrics?: NetworkMetrics;
  /** Called when a peer gets banned, so that the node can hang up on it. */
  onPeerBanned?: (peer: PeerId) => void;
  log?: (message: string) => void;
}

export interface DownloaderOptions {
  /** Block requests in flight to one peer at once. */
  windowPerPeer?: number;
  /** Blocks past the next one to deliver that may be requested or held: bounds memory. */
  lookahead?: number;
  /** How far past the next block to deliver peers are asked which blocks they have. */
  haveLookahead?: number;
  requestTimeoutMs?: number;
  haveTimeoutMs?: number;
  /** Peers that one download talks to at most. */
  maxPeers?: number;
  /** Give up on blocks nobody delivers after this long without progress. */
  stallTimeoutMs?: number;
  /** Longest single DHT provider look-up. */
  discoveryTimeoutMs?: number;
  /** Times one block is requested (from any peers) before it counts as unavailable for a round. */
  maxAttemptsPerBlock?: number;
}

export interface DownloadRequest {
  /** The blocks wanted, in the order they are delivered. */
  cids: readonly CID[];
  /** DHT keys whose providers are asked (dataset, tree or slot ids). */
  providerKeys: readonly CID[];
  /** Peers to ask besides the discovered ones. */
  peers?: readonly PeerId[];
  /**
   * `fail` (default): a block that cannot be found fails the download with ERR_BLOCKS_UNAVAILABLE.
   * `skip`: it is delivered with `bytes` undefined and the download goes on (slot repair uses this
   * to learn which blocks it must rebuild).
   */
  onMissing?: "fail" | "skip";
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface DownloadProgress {
  delivered: number;
  total: number;
  fetched: number;
  fetchedBytes: number;
  peers: number;
}

export interface DownloadedBlock {
  index: number;
  cid: CID;
  /** Undefined only with onMissing "skip", for a block nobody delivered. */
  bytes: Uint8Array | undefined;
  /** Where the block came from: this node's store, or a peer. */
  from: "local" | PeerId | undefined;
}

const enum State {
  Unchecked,
  Checking,
  Local,
  Wanted,
  InFlight,
  Ready,
  Missing,
  Delivered,
}

interface Peer {
  session: PeerSession;
  /** Blocks (by CID string) the peer said it has. */
  haves: Set<string>;
  /** Blocks the peer was asked about (WANT_HAVE) up to, exclusive. */
  queriedUpTo: number;
  querying: boolean;
  /** Blocks this peer failed (time-out, DONT_HAVE) in the current round. */
  failed: Set<number>;
}

/**
 * Fetches a list of blocks from the network and delivers them in order, storing each one (after
 * checking it against its CID) as it arrives. Providers come from the DHT; each is asked which
 * blocks it has, then blocks are requested from those that have them, up to `windowPerPeer` per
 * peer, from several peers at once, least-loaded peer first. A request that times out or is
 * refused goes to another peer; peers that time out repeatedly, send wrong blocks or garbage are
 * scored down, dropped and banned. When nobody can serve a block the DHT is asked again, with
 * back-off, until `stallTimeoutMs` passes without progress.
 */
export class Downloader {
  readonly #c: Required<Omit<DownloaderComponents, "addAddresses" | "onPeerBanned">> &
    Pick<DownloaderComponents, "addAddresses" | "onPeerBanned">;
  readonly #o: Required<DownloaderOptions>;

  constructor(components: DownloaderComponents, options: DownloaderOptions = {}) {
    this.#c = { metrics: noopNetworkMetrics, log: () => {}, ...components };
    this.#o = {
      windowPerPeer: 32,
      lookahead: 256,
      haveLookahead: 4096,
      requestTimeoutMs: 10_000,
      haveTimeoutMs: 5_000,
      maxPeers: 16,
      stallTimeoutMs: 30_000,
      discoveryTimeoutMs: 10_000,
      maxAttemptsPerBlock: 5,
      ...options,
    };
    for (const [name, value] of Object.entries(this.#o)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`Downloader: ${name} must be a positive integer, got ${value}`);
      }
    }
  }

  /** Delivers the requested blocks in order; see DownloadRequest. */
  download(request: DownloadRequest): AsyncIterable<DownloadedBlock> {
    for (const cid of request.cids) assertVerifiableCid(cid);
    return new DownloadRun(this.#c, this.#o, request).blocks();
  }
}

type RunComponents = DownloaderComponents & {
  metrics: NetworkMetrics;
  log: (message: string) => void;
};

class DownloadRun {
  readonly #c: RunComponents;
  readonly #o: Required<DownloaderOptions>;
  readonly #req: DownloadRequest;
  readonly #cids: readonly CID[];
  readonly #keys: string[];
  readonly #state: State[];
  readonly #attempts: Uint8Array;
  readonly #ready = new Map<number, { bytes: Uint8Array; from: PeerId }>();
  readonly #peers = new Map<string, Peer>();
  readonly #connecting = new Set<string>();
  /** Peers whose window takes requests in the current pump. */
  readonly #open = new Set<Peer>();
  /** Blocks whose CID is being fetched: a CID listed twice (zero padding) is fetched once. */
  readonly #inFlightKeys = new Set<string>();
  readonly #abort = new AbortController();
  readonly #started = performance.now();
  #cursor = 0;
  #checkedUpTo = 0;
  #failure: unknown;
  #wake: (() => void) | undefined;
  #lastProgress = Date.now();
  #discovering = false;
  #nextDiscovery = 0;
  #discoveryBackoffMs = 500;
  #fetched = 0;
  #fetchedBytes = 0;
  #stallTimer: NodeJS.Timeout | undefined;

  /** Set once a stall has been given up on in "skip" mode: unserved blocks are missing at once. */
  #gaveUp = false;

  constructor(
    components: RunComponents,
    options: Required<DownloaderOptions>,
    request: DownloadRequest,
  ) {
    this.#c = components;
    this.#o = options;
    this.#req = request;
    this.#cids = request.cids;
    this.#keys = request.cids.map((cid) => cid.toString());
    this.#state = new Array<State>(request.cids.length).fill(State.Unchecked);
    this.#attempts = new Uint8Array(request.cids.length);
  }

  async *blocks(): AsyncGenerator<DownloadedBlock> {
    const signal = this.#req.signal;
    const onAbort = () => this.#setFailure(abortedError(signal!));
    signal?.addEventListener("abort", onAbort);
    if (signal?.aborted) onAbort();
    this.#stallTimer = setInterval(
      () => this.#checkStall(),
      Math.min(1000, this.#o.stallTimeoutMs),
    );
    try {
      for (const peer of this.#req.peers ?? []) void this.#connect(peer);
      this.#pump();
      while (this.#cursor < this.#cids.length) {
        const block = await this.#next();
        this.#cursor++;
        this.#pump();
        yield block;
      }
      this.#c.metrics.downloadSeconds((performance.now() - this.#started) / 1000);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      clearInterval(this.#stallTimer);
      this.#abort.abort();
      for (const peer of this.#peers.values()) peer.session.close();
      this.#peers.clear();
    }
  }

  /** Waits until the block at the cursor can be delivered. */
  async #next(): Promise<DownloadedBlock> {
    const index = this.#cursor;
    const cid = this.#cids[index]!;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const state = this.#state[index];
      if (state === State.Ready) {
        const { bytes, from } = this.#ready.get(index)!;
        this.#ready.delete(index);
        this.#state[index] = State.Delivered;
        return { index, cid, bytes, from };
      }
      if (state === State.Local) {
        const bytes = await this.#c.source.get(cid, { signal: this.#abort.signal });
        if (bytes !== undefined) {
          this.#state[index] = State.Delivered;
          return { index, cid, bytes, from: "local" };
        }
        this.#state[index] = State.Wanted; // deleted meanwhile: fetch it after all
        this.#pump();
      }
      if (state === State.Missing) {
        this.#state[index] = State.Delivered;
        return { index, cid, bytes: undefined, from: undefined };
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #setFailure(error: unknown): void {
    if (this.#failure === undefined) this.#failure = error;
    this.#notify();
  }

  #progress(): void {
    this.#req.onProgress?.({
      delivered: this.#cursor,
      total: this.#cids.length,
      fetched: this.#fetched,
      fetchedBytes: this.#fetchedBytes,
      peers: this.#peers.size,
    });
  }

  /** Moves everything forward: local checks, have queries, block requests, discovery. */
  #pump(): void {
    if (this.#failure !== undefined || this.#abort.signal.aborted) return;
    const horizon = Math.min(this.#cids.length, this.#cursor + this.#o.lookahead);
    this.#checkLocal(horizon);
    for (const peer of this.#peers.values()) this.#queryHaves(peer);
    let starving = false;
    let wanted = false;
    // Free request slots over all peers: once none is left there is nothing to schedule, and
    // scanning the rest of the window per arriving block would cost more than the block.
    // A peer's window is refilled in batches (a quarter of it at a time, or when it is empty) so
    // that requests leave as a few larger messages rather than one small message per block.
    const refill = Math.max(1, Math.floor(this.#o.windowPerPeer / 4));
    let capacity = 0;
    this.#open.clear();
    for (const peer of this.#peers.values()) {
      const free = this.#o.windowPerPeer - peer.session.inFlight;
      if (free >= refill || (free > 0 && peer.session.inFlight === 0)) {
        this.#open.add(peer);
        capacity += free;
      }
    }
    for (let i = this.#cursor; i < horizon; i++) {
      if (this.#state[i] !== State.Wanted) continue;
      wanted = true;
      if (capacity === 0 && this.#peers.size > 0) break;
      if (this.#inFlightKeys.has(this.#keys[i]!)) continue; // arrives with its twin
      const peer = this.#pickPeer(i);
      if (peer) {
        this.#request(i, peer);
        capacity--;
      } else if (!this.#anyPeerMayHave(i)) {
        if (this.#gaveUp && !this.#discovering) this.#state[i] = State.Missing;
        else starving = true;
      }
    }
    if (starving || (wanted && this.#peers.size === 0)) this.#discover();
    this.#notify();
  }

  #checkLocal(horizon: number): void {
    const end = Math.min(this.#cids.length, horizon + this.#o.lookahead);
    for (; this.#checkedUpTo < end; this.#checkedUpTo++) {
      const index = this.#checkedUpTo;
      this.#state[index] = State.Checking;
      this.#c.source.has(this.#cids[index]!).then(
        (has) => {
          if (this.#state[index] !== State.Checking) return;
          this.#state[index] = has ? State.Local : State.Wanted;
          this.#pump();
        },
        (error: unknown) => this.#setFailure(error),
      );
    }
  }

  #pickPeer(index: number): Peer | undefined {
    const key = this.#keys[index]!;
    let best: Peer | undefined;
    for (const peer of this.#peers.values()) {
      if (!peer.haves.has(key) || peer.failed.has(index) || !this.#open.has(peer)) continue;
      if (peer.session.inFlight >= this.#o.windowPerPeer) continue;
      if (!best || peer.session.inFlight < best.session.inFlight) best = peer;
    }
    return best;
  }

  /** Whether some peer has the block or has not yet told us whether it does. */
  #anyPeerMayHave(index: number): boolean {
    const key = this.#keys[index]!;
    for (const peer of this.#peers.values()) {
      if (peer.failed.has(index)) continue;
      if (peer.haves.has(key) || index >= peer.queriedUpTo || peer.querying) return true;
    }
    return false;
  }

  #queryHaves(peer: Peer): void {
    if (peer.querying || peer.session.failure) return;
    const from = Math.max(peer.queriedUpTo, this.#cursor);
    const to = Math.min(this.#cids.length, this.#cursor + this.#o.haveLookahead);
    if (from >= to) return;
    const wanted: CID[] = [];
    for (let i = from; i < to; i++) {
      const state = this.#state[i];
      if (state !== State.Local && state !== State.Delivered) wanted.push(this.#cids[i]!);
    }
    peer.querying = true;
    peer.session.wantHave(wanted, { timeoutMs: this.#o.haveTimeoutMs }).then(
      (haves) => {
        peer.querying = false;
        for (const key of haves) peer.haves.add(key);
        peer.queriedUpTo = to;
        this.#pump();
      },
      () => {
        peer.querying = false;
        this.#pump();
      },
    );
  }

  #request(index: number, peer: Peer): void {
    const cid = this.#cids[index]!;
    const key = this.#keys[index]!;
    this.#state[index] = State.InFlight;
    this.#inFlightKeys.add(key);
    this.#attempts[index] = Math.min(255, this.#attempts[index]! + 1);
    const started = performance.now();
    let request: Promise<Uint8Array>;
    try {
      request = peer.session.wantBlock(cid, { timeoutMs: this.#o.requestTimeoutMs });
    } catch (error) {
      this.#state[index] = State.Wanted;
      this.#inFlightKeys.delete(key);
      this.#dropPeer(peer, error);
      return;
    }
    request.then(
      async (bytes) => {
        this.#c.metrics.blockRetrievalSeconds((performance.now() - started) / 1000);
        this.#c.metrics.blockReceived(bytes.length);
        this.#score(peer, "block");
        try {
          await this.#c.sink.put(cid, bytes, { signal: this.#abort.signal });
        } catch (error) {
          if (!this.#abort.signal.aborted) this.#setFailure(error);
          return;
        }
        this.#inFlightKeys.delete(key);
        this.#fetched++;
        this.#fetchedBytes += bytes.length;
        this.#lastProgress = Date.now();
        this.#ready.set(index, { bytes, from: peer.session.peer });
        this.#state[index] = State.Ready;
        // The same CID elsewhere in the window (zero padding, repeated content) is served too.
        const horizon = Math.min(this.#cids.length, this.#cursor + this.#o.lookahead);
        for (let i = this.#cursor; i < horizon; i++) {
          if (i !== index && this.#state[i] === State.Wanted && this.#keys[i] === key) {
            this.#ready.set(i, { bytes, from: peer.session.peer });
            this.#state[i] = State.Ready;
          }
        }
        this.#progress();
        this.#pump();
      },
      (error: unknown) => {
        this.#inFlightKeys.delete(key);
        this.#state[index] = State.Wanted;
        if (isNetworkError(error, "ERR_DONT_HAVE")) {
          peer.haves.delete(this.#keys[index]!);
          peer.failed.add(index);
          this.#score(peer, "dont-have-after-have");
        } else if (isNetworkError(error, "ERR_REQUEST_TIMEOUT")) {
          this.#c.metrics.requestTimeout();
          peer.failed.add(index);
          this.#score(peer, "timeout");
        } else if (isNetworkError(error, "ERR_BAD_BLOCK")) {
          this.#c.metrics.badBlock();
          // scored when the session reports its failure
        }
        if (this.#attempts[index]! >= this.#o.maxAttemptsPerBlock) {
          // Enough peers failed this block this round: stop asking until discovery finds more.
          for (const p of this.#peers.values()) p.failed.add(index);
        }
        this.#pump();
      },
    );
  }

  #score(peer: Peer, event: PeerEvent): void {
    if (this.#c.scores.record(peer.session.peer, event)) {
      this.#c.log(`banned ${peer.session.peer.toString()} after ${event}`);
      this.#dropPeer(peer);
      this.#c.onPeerBanned?.(peer.session.peer);
    }
  }

  #dropPeer(peer: Peer, reason?: unknown): void {
    const id = peer.session.peer.toString();
    if (this.#peers.get(id) !== peer) return;
    this.#peers.delete(id);
    this.#c.metrics.peerDropped();
    if (reason !== undefined) this.#c.log(`dropped ${id}: ${String(reason)}`);
    peer.session.close();
    this.#pump();
  }

  async #connect(peerId: PeerId): Promise<void> {
    const id = peerId.toString();
    if (
      peerId.equals(this.#c.self) ||
      this.#peers.has(id) ||
      this.#connecting.has(id) ||
      this.#peers.size + this.#connecting.size >= this.#o.maxPeers ||
      this.#c.scores.isBanned(peerId) ||
      this.#failure !== undefined
    ) {
      return;
    }
    this.#connecting.add(id);
    try {
      const session = await PeerSession.open(this.#c.openStream, BLOCK_EXCHANGE_PROTOCOL, peerId, {
        signal: AbortSignal.any([
          this.#abort.signal,
          AbortSignal.timeout(this.#o.requestTimeoutMs),
        ]),
      });
      if (this.#abort.signal.aborted) {
        session.close();
        return;
      }
      const peer: Peer = {
        session,
        haves: new Set(),
        queriedUpTo: 0,
        querying: false,
        failed: new Set(),
      };
      this.#peers.set(id, peer);
      session.onClose((failure) => {
        if (failure?.code === "ERR_BAD_BLOCK") this.#score(peer, "bad-block");
        else if (failure?.code === "ERR_PROTOCOL_VIOLATION")
          this.#score(peer, "protocol-violation");
        this.#dropPeer(peer);
      });
      this.#c.metrics.connectedPeers(this.#peers.size);
    } catch (error) {
      this.#c.log(`cannot reach provider ${id}: ${String(error)}`);
    } finally {
      this.#connecting.delete(id);
      this.#pump();
    }
  }

  /** Asks the DHT for providers, at most once per back-off period. */
  #discover(): void {
    if (this.#discovering || Date.now() < this.#nextDiscovery || this.#failure !== undefined)
      return;
    this.#discovering = true;
    // A new round: peers that failed a block may serve it now (a time-out may have been transient).
    for (const peer of this.#peers.values()) peer.failed.clear();
    this.#attempts.fill(0);
    void this.#findProviders().finally(() => {
      this.#discovering = false;
      this.#nextDiscovery = Date.now() + this.#discoveryBackoffMs;
      this.#discoveryBackoffMs = Math.min(8_000, this.#discoveryBackoffMs * 2);
      // Re-check after the back-off even if nothing else happens meanwhile.
      setTimeout(() => this.#pump(), this.#discoveryBackoffMs).unref();
      this.#pump();
    });
  }

  async #findProviders(): Promise<void> {
    const signal = AbortSignal.any([
      this.#abort.signal,
      AbortSignal.timeout(this.#o.discoveryTimeoutMs),
    ]);
    await Promise.all(
      this.#req.providerKeys.map(async (key) => {
        this.#c.metrics.discoveryQuery();
        let found = 0;
        try {
          for await (const provider of this.#c.routing.findProviders(key, { signal })) {
            found++;
            if (provider.id.equals(this.#c.self)) continue;
            await this.#c.addAddresses?.(provider).catch(() => {});
            void this.#connect(provider.id);
          }
        } catch (error) {
          if (!this.#abort.signal.aborted) {
            this.#c.log(`provider look-up for ${key.toString()} ended: ${String(error)}`);
          }
        } finally {
          this.#c.metrics.providersFound(found);
        }
      }),
    );
  }

  #checkStall(): void {
    if (this.#failure !== undefined) return;
    if (Date.now() - this.#lastProgress < this.#o.stallTimeoutMs) return;
    const horizon = Math.min(this.#cids.length, this.#cursor + this.#o.lookahead);
    const stuck: number[] = [];
    for (let i = this.#cursor; i < horizon; i++) {
      if (this.#state[i] === State.Wanted) stuck.push(i);
    }
    if (stuck.length === 0) return;
    if (this.#req.onMissing === "skip") {
      // From now on a block that no connected peer has is missing at once, so that a slot whose
      // holder vanished costs one stall period, not one per window of blocks.
      this.#gaveUp = true;
      for (const i of stuck) if (!this.#anyPeerMayHave(i)) this.#state[i] = State.Missing;
      this.#lastProgress = Date.now();
      this.#pump();
      return;
    }
    this.#setFailure(
      new NetworkError(
        "ERR_BLOCKS_UNAVAILABLE",
        `no provider delivered block ${stuck[0]} (${this.#keys[stuck[0]!]}) and ` +
          `${stuck.length - 1} more within ${this.#o.stallTimeoutMs} ms ` +
          `(${this.#peers.size} peers connected)`,
      ),
    );
  }
}
