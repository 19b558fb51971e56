import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { NetworkError } from "./errors.js";

/** Codex's default listen port, kept so that operators find the usual firewall rule. */
export const DEFAULT_LISTEN_ADDRS: readonly string[] = ["/ip4/0.0.0.0/tcp/8070"];

export interface BootstrapNode {
  peerId: PeerId;
  /** The full address, `/p2p/<peerId>` included, as libp2p dials it. */
  multiaddr: Multiaddr;
}

/** Where the node listens, what it tells others, whom it asks first: validated, ready for libp2p. */
export interface NetworkAddressOptions {
  listenAddrs: Multiaddr[];
  announceAddrs: Multiaddr[];
  bootstrapNodes: BootstrapNode[];
}

const IP_CODES = new Set(["ip4", "ip6"]);
const HOST_CODES = new Set(["ip4", "ip6", "dns", "dns4", "dns6", "dnsaddr"]);

function parse(text: string, what: string): Multiaddr {
  const trimmed = text.trim();
  try {
    return multiaddr(trimmed);
  } catch (error) {
    throw new NetworkError(
      "ERR_INVALID_MULTIADDR",
      `${what} "${trimmed}" is not a valid multiaddr: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function fail(what: string, text: string, rule: string): never {
  throw new NetworkError("ERR_INVALID_MULTIADDR", `${what} "${text.trim()}" ${rule}`);
}

/** A listen address: this node has a TCP transport only, so `/ip4|ip6/<address>/tcp/<port>`. */
export function parseListenAddr(text: string): Multiaddr {
  const what = "listen address";
  const addr = parse(text, what);
  const names = addr.getComponents().map((c) => c.name);
  if (names.length !== 2 || !IP_CODES.has(names[0]!) || names[1] !== "tcp") {
    fail(what, text, "must have the form /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>");
  }
  return addr;
}

/** An announce address: what peers should dial, `/<ip4|ip6|dns…>/<host>/tcp/<port>`. */
export function parseAnnounceAddr(text: string): Multiaddr {
  const what = "announce address";
  const addr = parse(text, what);
  const names = addr.getComponents().map((c) => c.name);
  if (names.length < 2 || !HOST_CODES.has(names[0]!) || names[1] !== "tcp") {
    fail(what, text, "must start with /ip4, /ip6 or /dns… followed by /tcp/<port>");
  }
  if (names.includes("p2p")) fail(what, text, "must not contain /p2p/: the node adds its own id");
  return addr;
}

/** A bootstrap node: a dialable TCP address ending in `/p2p/<peer id>`. */
export function parseBootstrapNode(text: string): BootstrapNode {
  const what = "bootstrap node";
  const addr = parse(text, what);
  const components = addr.getComponents();
  const last = components.at(-1);
  if (last?.name !== "p2p" || last.value === undefined) {
    fail(what, text, "must end with /p2p/<peer id> so that the node knows whom it dials");
  }
  const names = components.map((c) => c.name);
  if (!HOST_CODES.has(names[0]!) || names[1] !== "tcp") {
    fail(what, text, "must start with /ip4, /ip6 or /dns… followed by /tcp/<port>");
  }
  try {
    return { peerId: parsePeerId(last.value), multiaddr: addr };
  } catch (error) {
    throw new NetworkError(
      "ERR_INVALID_PEER_ID",
      `${what} "${text.trim()}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export function parsePeerId(text: string): PeerId {
  try {
    return peerIdFromString(text.trim());
  } catch (error) {
    throw new NetworkError("ERR_INVALID_PEER_ID", `"${text.trim()}" is not a valid peer id`, {
      cause: error,
    });
  }
}

/** Validates all address options at once; the first bad value is reported with its option name. */
export function parseNetworkAddressOptions(raw: {
  listenAddrs?: readonly string[];
  announceAddrs?: readonly string[];
  bootstrapNodes?: readonly string[];
}): NetworkAddressOptions {
  const listen = raw.listenAddrs?.length ? raw.listenAddrs : DEFAULT_LISTEN_ADDRS;
  return {
    listenAddrs: listen.map(parseListenAddr),
    announceAddrs: (raw.announceAddrs ?? []).map(parseAnnounceAddr),
    bootstrapNodes: (raw.bootstrapNodes ?? []).map(parseBootstrapNode),
  };
}
