import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { network } from "hardhat";
import { pino } from "pino";
import { type NodeConfig, defaultConfig } from "../../node/src/config/options.js";
import { HoldfastError } from "../../node/src/errors.js";
import { HoldfastNode } from "../../node/src/node.js";
import {
  inThreadPoseidon2BlockRoots,
  poseidon2Trees,
} from "../../node/src/slots/default-hashing.js";
import { localWallet } from "./chain/accounts.js";
import { testbed } from "../contracts/marketplace/testbed.js";

// How a node reaches the marketplace: which address it uses, and what it refuses to start with.
describe("a node's marketplace connection", function () {
  let connection: Awaited<ReturnType<typeof network.create>>;
  let marketplace: string;
  let token: string;
  const dirs: string[] = [];

  before(async function () {
    connection = await network.create();
    const deployed = await testbed(connection).deploy();
    marketplace = await deployed.marketplace.getAddress();
    token = await deployed.token.getAddress();
  });

  after(async function () {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function start(overrides: Partial<NodeConfig>, withProvider = true) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-roles-"));
    dirs.push(dataDir);
    const config: NodeConfig = {
      ...defaultConfig(),
      dataDir,
      apiPort: 0,
      listenAddrs: ["/ip4/127.0.0.1/tcp/0"],
      ethPrivateKey: localWallet(5, connection.ethers.provider).privateKey,
      ...overrides,
    };
    return HoldfastNode.start(config, {
      logger: pino({ level: "silent" }),
      hashing: { trees: poseidon2Trees, roots: inThreadPoseidon2BlockRoots },
      ...(withProvider ? { provider: connection.ethers.provider } : {}),
    });
  }

  it("has no marketplace roles without a chain", async function () {
    const node = await start({ ethPrivateKey: undefined }, false);
    try {
      expect(node.marketplace).to.equal(undefined);
    } finally {
      await node.stop();
    }
  });

  it("connects to the marketplace at --marketplace-address and reads its configuration", async function () {
    const node = await start({ marketplaceAddress: marketplace });
    try {
      const client = node.marketplace!.client;
      expect(client.address).to.equal(marketplace);
      expect(client.tokenAddress).to.equal(token);
      expect(client.account).to.equal(localWallet(5, connection.ethers.provider).address);
      expect(client.chainId).to.equal(31337n);
      expect(client.config.proofs.period).to.be.greaterThan(0n);
    } finally {
      await node.stop();
    }
  });

  it("refuses an address without a marketplace, and leaves its data dir usable", async function () {
    const eoa = localWallet(7, connection.ethers.provider).address;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-roles-"));
    dirs.push(dataDir);
    const error = await start({ dataDir, marketplaceAddress: eoa }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(HoldfastError);
    expect((error as HoldfastError).code).to.equal("ERR_CHAIN");
    expect((error as Error).message).to.include(`no contract at marketplace address ${eoa}`);
    // Everything the failed start opened was closed: the database lock is free again.
    const node = await start({ dataDir, marketplaceAddress: marketplace });
    await node.stop();
  });

  it("without an address, looks for this chain's deployment record and says where", async function () {
    const error = await start({}).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(HoldfastError);
    expect((error as HoldfastError).code).to.equal("ERR_INVALID_CONFIG");
    expect((error as Error).message).to.match(
      /no deployment recorded for chain 31337 in .*chain-31337/,
    );
  });
});
