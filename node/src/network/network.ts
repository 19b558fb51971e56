import type { PeerId } from "@libp2p/interface";
import type { SingleKadDHT } from "@libp2p/kad-dht";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { CID } from "multiformats/cid";
import { BLOCK_EXCHANGE_PROTOCOL } from "./block-exchange/protocol.js";
import { BlockExchangeServer, type BlockExchangeServerOptions } from "./block-exchange/server.js";
import { ProviderAnnouncer, type ProviderAnnouncerOptions } from "./discovery.js";
import {
  type DownloadRequest,
  type DownloadedBlock,
  Downloader,
  type DownloaderOptions,
} from "./downloader.js";
import { NetworkError, abortedError } from "./errors.js";
import type {
  BlockSink,
  BlockSource,
  ProviderInfo,
  ProviderRouting,
  TreeSource,
  TreeVerifier,
} from "./interfaces.js";
import { LeavesFetcher, type LeavesRequest } from "./leaves.js";
import { type HoldfastLibp2p, createLibp2pNode } from "./libp2p-node.js";
import { type NetworkMetrics, noopNetworkMetrics } from "./metrics.js";
import type { NetworkAddressOptions } from "./options.js";
import { loadOrCreatePeerKey } from "./peer-key.js";
import { type PeerScoreOptions, PeerScoreboard } from "./scores.js";

export interface NetworkComponents {
  /** Where blocks asked for by peers are read from (the node's block store). */
  source: BlockSource;
  /** The leaves of stored trees, served to peers that know a manifest only. */
  trees?: TreeSource;
  /** Checks fetched leaves against their tree (the node's SHA-256 Merkle tree). */
  verifyTree?: TreeVerifier;
  /** Where downloaded, verified blocks are written to. */
  sink: BlockSink;
  metrics?: NetworkMetrics;
  log?: (message: string) => void;
}

export interface NetworkOptions {
  /** The peer key lives here (see peer-key.ts). */
  dataDir: string;
  addresses: NetworkAddressOptions;
  announcer?: ProviderAnnouncerOptions;
  downloader?: DownloaderOptions;
  server?: BlockExchangeServerOptions;
  scores?: PeerScoreOptions;
  /** How often the node re-dials its bootstrap nodes while it has no connection at all. */
  bootstrapRetryMs?: number;
}

/**
 * The node's networking: a libp2p host with the DHT, the block-exchange server answering peers
 * from the block store, the announcer keeping our provider records fresh and the downloader
 * fetching blocks from others. Built by `create`, then `start`ed and `stop`ped with the node.
 */
export class Network {
  readonly libp2p: HoldfastLibp2p;
  readonly scores: PeerScoreboard;
  readonly #announcer: ProviderAnnouncer;
  readonly #downloader: Downloader;
  readonly #server: BlockExchangeServer;
  readonly #leaves: LeavesFetcher | undefined;
  readonly #metrics: NetworkMetrics;
  readonly #options: NetworkOptions;
  readonly #log: (message: string) => void;
  #bootstrapTimer: NodeJS.Timeout | undefined;

  private constructor(
    libp2p: HoldfastLibp2p,
    components: NetworkComponents,
    options: NetworkOptions,
  ) {
    this.libp2p = libp2p;
    this.#options = options;
    this.#metrics = components.metrics ?? noopNetworkMetrics;
    this.#log = components.log ?? (() => {});
    this.scores = new PeerScoreboard(options.scores);
    const routing: ProviderRouting = {
      provide: (key, opts) => libp2p.contentRouting.provide(key, opts),
      findProviders: (key, opts) => libp2p.contentRouting.findProviders(key, opts),
    };
    this.#announcer = new ProviderAnnouncer(
      { routing, metrics: this.#metrics },
      { log: this.#log, ...options.announcer },
    );
    this.#server = new BlockExchangeServer(
      { source: components.source, trees: components.trees, metrics: this.#metrics },
      { log: this.#log, ...options.server },
    );
    const peers = {
      self: libp2p.peerId,
      routing,
      openStream: (peer: PeerId, protocol: string, opts: { signal?: AbortSignal }) =>
        libp2p.dialProtocol(peer, protocol, opts),
      addAddresses: async (provider: ProviderInfo) => {
        if (provider.multiaddrs.length > 0) {
          await libp2p.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs });
        }
      },
      scores: this.scores,
      metrics: this.#metrics,
      log: this.#log,
      onPeerBanned: (peer: PeerId) => {
        void libp2p.hangUp(peer).catch(() => {});
      },
    };
    this.#downloader = new Downloader(
      { ...peers, source: components.source, sink: components.sink },
      options.downloader,
    );
    this.#leaves = components.verifyTree
      ? new LeavesFetcher(
          { ...peers, verify: components.verifyTree },
          {
            timeoutMs: options.downloader?.requestTimeoutMs,
            discoveryTimeoutMs: options.downloader?.discoveryTimeoutMs,
          },
        )
      : undefined;
  }

  /** Loads (or creates) the peer key and builds the libp2p host; nothing listens until start(). */
  static async create(components: NetworkComponents, options: NetworkOptions): Promise<Network> {
    const privateKey = await loadOrCreatePeerKey(options.dataDir);
    const libp2p = await createLibp2pNode({ privateKey, addresses: options.addresses });
    return new Network(libp2p, components, options);
  }

  get peerId(): PeerId {
    return this.libp2p.peerId;
  }

  /** Peers in the DHT routing table (kadDHT() builds a single DHT, which has a routing table). */
  get dhtPeerCount(): number {
    return (this.libp2p.services.dht as SingleKadDHT).routingTable.size;
  }

  /** The addresses peers can dial us at, each ending in /p2p/<our peer id>. */
  get multiaddrs(): Multiaddr[] {
    return this.libp2p.getMultiaddrs();
  }

  async start(): Promise<void> {
    await this.libp2p.handle(
      BLOCK_EXCHANGE_PROTOCOL,
      (stream, connection) => this.#server.handleStream(stream, connection.remotePeer),
      { maxInboundStreams: 64, maxOutboundStreams: 64 },
    );
    const countPeers = () => this.#metrics.connectedPeers(this.libp2p.getPeers().length);
    this.libp2p.addEventListener("connection:open", countPeers);
    this.libp2p.addEventListener("connection:close", countPeers);
    await this.libp2p.start();
    this.#announcer.start();
    this.#dialBootstrapNodes();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#bootstrapTimer);
    await this.#announcer.stop();
    await this.libp2p.stop();
  }

  /** Announces this node as a provider of `keys` now and periodically from now on. */
  announce(keys: readonly CID[]): void {
    this.#announcer.add(keys);
  }

  /** Stops announcing `keys` (for a dataset that was deleted). */
  withdraw(keys: readonly CID[]): void {
    this.#announcer.remove(keys);
  }

  /** Resolves once `key` has been announced to the DHT after this call. */
  whenAnnounced(key: CID): Promise<void> {
    return this.#announcer.whenAnnounced(key);
  }

  /** See Downloader.download. */
  download(request: DownloadRequest): AsyncIterable<DownloadedBlock> {
    return this.#downloader.download(request);
  }

  /** The verified leaf digests (block SHA-256s) of a tree; see LeavesFetcher. */
  fetchLeaves(request: LeavesRequest): Promise<Uint8Array[]> {
    if (!this.#leaves) throw new Error("Network: fetchLeaves needs the verifyTree component");
    return this.#leaves.fetch(request);
  }

  /** Dials a peer at the given addresses (or those the peer store knows). */
  async connect(
    peer: PeerId,
    addrs: readonly Multiaddr[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (peer.equals(this.peerId)) {
      throw new NetworkError("ERR_DIAL_FAILED", "a node cannot connect to itself");
    }
    if (addrs.length > 0) await this.libp2p.peerStore.merge(peer, { multiaddrs: [...addrs] });
    try {
      await this.libp2p.dial(peer, options);
    } catch (error) {
      if (options.signal?.aborted) throw abortedError(options.signal);
      throw new NetworkError(
        "ERR_DIAL_FAILED",
        `cannot connect to ${peer.toString()}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Dials the bootstrap nodes, and again every `bootstrapRetryMs` while we have no connection at
   * all (a bootstrap node that started after us, or a network outage). The DHT fills its routing
   * table from these connections.
   */
  #dialBootstrapNodes(): void {
    const nodes = this.#options.addresses.bootstrapNodes;
    if (nodes.length === 0) return;
    const attempt = async () => {
      if (this.libp2p.status !== "started") return;
      if (this.libp2p.getConnections().length === 0) {
        await Promise.all(
          nodes.map(async ({ peerId, multiaddr }) => {
            if (peerId.equals(this.peerId)) return;
            try {
              await this.libp2p.dial(multiaddr, { signal: AbortSignal.timeout(10_000) });
            } catch (error) {
              this.#log(`bootstrap node ${multiaddr.toString()} unreachable: ${String(error)}`);
            }
          }),
        );
      }
      if (this.libp2p.status === "started") {
        this.#bootstrapTimer = setTimeout(attempt, this.#options.bootstrapRetryMs ?? 5_000);
      }
    };
    void attempt();
  }
}
