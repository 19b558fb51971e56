import type { PeerId } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { PeerSession, type StreamOpener } from "./block-exchange/client.js";
import { BLOCK_EXCHANGE_PROTOCOL } from "./block-exchange/protocol.js";
import { MAX_LEAVES_PER_MESSAGE } from "./block-exchange/wire.js";
import { NetworkError, abortedError, isNetworkError } from "./errors.js";
import type { ProviderInfo, ProviderRouting, TreeVerifier } from "./interfaces.js";
import { type NetworkMetrics, noopNetworkMetrics } from "./metrics.js";
import type { PeerScoreboard } from "./scores.js";

export interface LeavesFetcherComponents {
  self: PeerId;
  routing: ProviderRouting;
  openStream: StreamOpener;
  addAddresses?: (provider: ProviderInfo) => Promise<void>;
  scores: PeerScoreboard;
  verify: TreeVerifier;
  metrics?: NetworkMetrics;
  onPeerBanned?: (peer: PeerId) => void;
  log?: (message: string) => void;
}

export interface LeavesRequest {
  tree: CID;
  /** Leaves the tree has (the manifest's block count). */
  count: number;
  providerKeys: readonly CID[];
  peers?: readonly PeerId[];
  signal?: AbortSignal;
}

/**
 * Fetches the leaf digests of a SHA-256 tree from one provider at a time and accepts them only if
 * they rebuild the tree's root: a node that knows a dataset's manifest learns its block ids this
 * way, verified once for all. A provider whose leaves do not match is banned like one that sends a
 * bad block; one that does not answer is scored down; the next provider is tried.
 */
export class LeavesFetcher {
  readonly #c: LeavesFetcherComponents & { metrics: NetworkMetrics; log: (m: string) => void };
  readonly #timeoutMs: number;
  readonly #discoveryTimeoutMs: number;

  constructor(
    components: LeavesFetcherComponents,
    options: { timeoutMs?: number; discoveryTimeoutMs?: number } = {},
  ) {
    this.#c = { metrics: noopNetworkMetrics, log: () => {}, ...components };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#discoveryTimeoutMs = options.discoveryTimeoutMs ?? 10_000;
  }

  async fetch(request: LeavesRequest): Promise<Uint8Array[]> {
    const { signal } = request;
    const tried = new Set<string>();
    const attempt = async (peer: PeerId): Promise<Uint8Array[] | undefined> => {
      const id = peer.toString();
      if (tried.has(id) || peer.equals(this.#c.self) || this.#c.scores.isBanned(peer)) return;
      tried.add(id);
      return this.#fromPeer(peer, request);
    };
    for (const peer of request.peers ?? []) {
      const leaves = await attempt(peer);
      if (leaves) return leaves;
    }
    const lookup = AbortSignal.any([
      ...(signal ? [signal] : []),
      AbortSignal.timeout(this.#discoveryTimeoutMs),
    ]);
    for (const key of request.providerKeys) {
      this.#c.metrics.discoveryQuery();
      try {
        for await (const provider of this.#c.routing.findProviders(key, { signal: lookup })) {
          this.#c.metrics.providersFound(1);
          await this.#c.addAddresses?.(provider).catch(() => {});
          const leaves = await attempt(provider.id);
          if (leaves) return leaves;
        }
      } catch (error) {
        if (signal?.aborted) throw abortedError(signal);
        this.#c.log(`provider look-up for ${key.toString()} ended: ${String(error)}`);
      }
    }
    if (signal?.aborted) throw abortedError(signal);
    throw new NetworkError(
      "ERR_BLOCKS_UNAVAILABLE",
      `no provider delivered the block ids of tree ${request.tree.toString()} ` +
        `(${tried.size} tried)`,
    );
  }

  async #fromPeer(peer: PeerId, request: LeavesRequest): Promise<Uint8Array[] | undefined> {
    let session: PeerSession | undefined;
    try {
      session = await PeerSession.open(this.#c.openStream, BLOCK_EXCHANGE_PROTOCOL, peer, {
        signal: request.signal,
      });
      const ranges: Promise<Uint8Array[]>[] = [];
      for (let start = 0; start < request.count; start += MAX_LEAVES_PER_MESSAGE) {
        const count = Math.min(MAX_LEAVES_PER_MESSAGE, request.count - start);
        ranges.push(session.wantLeaves(request.tree, start, count, { timeoutMs: this.#timeoutMs }));
      }
      const leaves = (await Promise.all(ranges)).flat();
      if (leaves.length === request.count && this.#c.verify(request.tree, leaves)) {
        return leaves;
      }
      this.#c.metrics.badBlock();
      this.#ban(peer, "bad-block", `sent leaves that do not match ${request.tree.toString()}`);
    } catch (error) {
      if (request.signal?.aborted) throw abortedError(request.signal);
      if (isNetworkError(error, "ERR_REQUEST_TIMEOUT")) {
        this.#c.metrics.requestTimeout();
        this.#ban(peer, "timeout", String(error));
      } else if (session?.failure?.code === "ERR_PROTOCOL_VIOLATION") {
        this.#ban(peer, "protocol-violation", session.failure.message);
      } else {
        this.#c.log(`leaves from ${peer.toString()}: ${String(error)}`);
      }
    } finally {
      session?.close();
    }
    return undefined;
  }

  #ban(peer: PeerId, event: "bad-block" | "timeout" | "protocol-violation", why: string): void {
    this.#c.log(`leaves from ${peer.toString()}: ${why}`);
    if (this.#c.scores.record(peer, event)) this.#c.onPeerBanned?.(peer);
  }
}
