import { identify } from "@libp2p/identify";
import type { Identify } from "@libp2p/identify";
import type { PrivateKey } from "@libp2p/interface";
import { type KadDHT, kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { noise } from "@libp2p/noise";
import { type Ping, ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@libp2p/yamux";
import { type Libp2p, createLibp2p } from "libp2p";
import type { NetworkAddressOptions } from "./options.js";

/** Our own DHT, apart from IPFS's public one: Holdfast nodes only answer each other. */
export const DHT_PROTOCOL = "/holdfast/kad/1.0.0";

// A type alias, not an interface: libp2p's ServiceMap needs an index signature.
export type HoldfastServices = {
  identify: Identify;
  ping: Ping;
  dht: KadDHT;
};

export type HoldfastLibp2p = Libp2p<HoldfastServices>;

export interface Libp2pNodeOptions {
  privateKey: PrivateKey;
  addresses: NetworkAddressOptions;
}

/**
 * Builds (without starting) the libp2p node: TCP, Noise, Yamux, identify, ping and a Kademlia DHT
 * in server mode.
 *
 * Two DHT settings differ from js-libp2p's public-network defaults, on purpose: `clientMode: false`
 * because a storage host is meant to be dialable (libp2p's automatic switch to server mode needs a
 * public address, which nodes on a LAN or on loopback never get), and `passthroughMapper` because
 * the default mapper drops private and loopback addresses from DHT answers, which would make
 * providers on a private network unreachable.
 */
export async function createLibp2pNode(options: Libp2pNodeOptions): Promise<HoldfastLibp2p> {
  const { addresses } = options;
  return createLibp2p({
    privateKey: options.privateKey,
    start: false,
    addresses: {
      listen: addresses.listenAddrs.map((a) => a.toString()),
      announce: addresses.announceAddrs.map((a) => a.toString()),
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [
      // A 64 KiB block is a yamux frame; a 16 MiB window lets a peer keep a full request window
      // of blocks in flight on one stream without waiting for window updates.
      yamux({ streamOptions: { maxStreamWindowSize: 16 * 1024 * 1024 } }),
    ],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
      }),
    },
  });
}
