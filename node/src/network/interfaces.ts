import type { PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { CID } from "multiformats/cid";

/**
 * The few things the networking layer needs from the node's block store. Kept this small so that
 * the block exchange can be tested against an in-memory map and wired to any store by an adapter.
 */
export interface BlockSource {
  has(cid: CID): Promise<boolean>;
  /** The block's bytes, or undefined when the block is not stored here. */
  get(cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array | undefined>;
}

export interface BlockSink {
  /** Stores a block that the caller has already checked against its CID. */
  put(cid: CID, bytes: Uint8Array, options?: { signal?: AbortSignal }): Promise<void>;
}

/** The leaf digests (block SHA-256s) of the SHA-256 trees this node stores. */
export interface TreeSource {
  /** Digests [start, start + count) of `tree`, fewer where it ends; undefined if it is not here. */
  leaves(tree: CID, start: number, count: number): Promise<Uint8Array[] | undefined>;
}

/** Whether leaf digests are exactly the leaves of `tree` (recomputes its SHA-256 Merkle root). */
export type TreeVerifier = (tree: CID, leaves: readonly Uint8Array[]) => boolean;

export interface ProviderInfo {
  id: PeerId;
  multiaddrs: Multiaddr[];
}

/** Content routing as the DHT offers it: who provides a key, and announcing that we do. */
export interface ProviderRouting {
  provide(key: CID, options?: { signal?: AbortSignal }): Promise<void>;
  findProviders(key: CID, options?: { signal?: AbortSignal }): AsyncIterable<ProviderInfo>;
}
