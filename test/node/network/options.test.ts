import { mkdtemp, readFile, rm, stat, writeFile, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { isNetworkError } from "../../../node/src/network/errors.js";
import {
  DEFAULT_LISTEN_ADDRS,
  parseAnnounceAddr,
  parseBootstrapNode,
  parseListenAddr,
  parseNetworkAddressOptions,
} from "../../../node/src/network/options.js";
import { PEER_KEY_FILE, loadOrCreatePeerKey } from "../../../node/src/network/peer-key.js";

const PEER = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

function expectCode(fn: () => unknown, code: string, pattern: RegExp) {
  try {
    fn();
  } catch (error) {
    expect((error as { code?: string }).code, String(error)).to.equal(code);
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe("network options", function () {
  it("accepts TCP listen addresses and defaults to the usual port on all interfaces", function () {
    expect(parseListenAddr("/ip4/127.0.0.1/tcp/0").toString()).to.equal("/ip4/127.0.0.1/tcp/0");
    expect(parseListenAddr(" /ip6/::/tcp/8070 ").toString()).to.equal("/ip6/::/tcp/8070");
    const parsed = parseNetworkAddressOptions({});
    expect(parsed.listenAddrs.map(String)).to.deep.equal(DEFAULT_LISTEN_ADDRS);
    expect(parsed.announceAddrs).to.deep.equal([]);
    expect(parsed.bootstrapNodes).to.deep.equal([]);
  });

  it("rejects listen addresses that are not multiaddrs or not plain TCP", function () {
    expectCode(() => parseListenAddr("127.0.0.1:8070"), "ERR_INVALID_MULTIADDR", /not a valid/);
    expectCode(() => parseListenAddr("/ip4/999.0.0.1/tcp/1"), "ERR_INVALID_MULTIADDR", /999/);
    expectCode(() => parseListenAddr("/ip4/1.2.3.4/udp/1"), "ERR_INVALID_MULTIADDR", /\/tcp\//);
    expectCode(() => parseListenAddr("/dns4/a.b/tcp/1"), "ERR_INVALID_MULTIADDR", /\/ip4/);
  });

  it("accepts announce addresses with DNS names and refuses a /p2p suffix", function () {
    expect(parseAnnounceAddr("/dns4/host.example/tcp/8070").toString()).to.contain("dns4");
    expectCode(
      () => parseAnnounceAddr(`/ip4/1.2.3.4/tcp/1/p2p/${PEER}`),
      "ERR_INVALID_MULTIADDR",
      /must not contain \/p2p/,
    );
  });

  it("requires bootstrap nodes to end in /p2p/<peer id>", function () {
    const node = parseBootstrapNode(`/ip4/10.0.0.1/tcp/8070/p2p/${PEER}`);
    expect(node.peerId.toString()).to.equal(PEER);
    expectCode(
      () => parseBootstrapNode("/ip4/10.0.0.1/tcp/8070"),
      "ERR_INVALID_MULTIADDR",
      /must end with \/p2p\/<peer id>/,
    );
    expectCode(
      () => parseBootstrapNode(`/p2p/${PEER}`),
      "ERR_INVALID_MULTIADDR",
      /followed by \/tcp/,
    );
    expectCode(
      () => parseNetworkAddressOptions({ bootstrapNodes: ["/ip4/1.2.3.4/tcp/1/p2p/QmNotAPeer"] }),
      "ERR_INVALID_PEER_ID",
      /bootstrap node .*QmNotAPeer.* is not a valid peer id/,
    );
  });
});

describe("peer key", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-key-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("is created once with mode 0600 and gives the same peer id on every load", async function () {
    const first = await loadOrCreatePeerKey(dir);
    const file = path.join(dir, PEER_KEY_FILE);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    const before = await readFile(file);
    const second = await loadOrCreatePeerKey(dir);
    expect(peerIdFromPrivateKey(second).toString()).to.equal(
      peerIdFromPrivateKey(first).toString(),
    );
    expect((await readFile(file)).equals(before)).to.equal(true);
  });

  it("refuses a corrupt key file with a clear error and leaves it in place", async function () {
    const file = path.join(dir, PEER_KEY_FILE);
    await writeFile(file, "not a key", { mode: 0o600 });
    try {
      await loadOrCreatePeerKey(dir);
      expect.fail("expected ERR_INVALID_PEER_KEY");
    } catch (error) {
      expect(isNetworkError(error, "ERR_INVALID_PEER_KEY"), String(error)).to.equal(true);
      expect((error as Error).message).to.match(/is corrupt/);
    }
    expect(await readFile(file, "utf8")).to.equal("not a key");
  });

  it("refuses a key file that others can read", async function () {
    await loadOrCreatePeerKey(dir);
    const file = path.join(dir, PEER_KEY_FILE);
    await chmod(file, 0o644);
    try {
      await loadOrCreatePeerKey(dir);
      expect.fail("expected ERR_INVALID_PEER_KEY");
    } catch (error) {
      expect(isNetworkError(error, "ERR_INVALID_PEER_KEY"), String(error)).to.equal(true);
      expect((error as Error).message).to.match(/chmod 600/);
    }
  });
});
