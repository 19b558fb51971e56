import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { network } from "hardhat";
import type { PurchaseView } from "../../../node/src/purchasing/purchase.js";
import { testbed } from "../../contracts/marketplace/testbed.js";
import { localWallet } from "../chain/accounts.js";
import {
  datasetBytes,
  getJson,
  postJson,
  removeDir,
  startClientNode,
  uploadBytes,
} from "./helpers.js";

const connection = await network.create();
const bed = testbed(connection);
const { ethers } = connection;

interface RpcCall {
  jsonrpc: string;
  id: unknown;
  method: string;
  params?: unknown[];
}

/**
 * A JSON-RPC server over HTTP in front of Hardhat's in-process chain: the node reaches the chain
 * as it would a real one, through --eth-provider, and the test can take the chain away.
 */
async function startRpcServer(port = 0): Promise<Server> {
  const answer = async (call: RpcCall) => {
    try {
      const result = await connection.provider.request({
        method: call.method,
        params: call.params ?? [],
      });
      return { jsonrpc: "2.0", id: call.id, result };
    } catch (error) {
      const e = error as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: "2.0",
        id: call.id,
        error: { code: e.code ?? -32603, message: e.message ?? String(error), data: e.data },
      };
    }
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RpcCall | RpcCall[];
        const reply = Array.isArray(body)
          ? await Promise.all(body.map(answer))
          : await answer(body);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(reply));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

async function stopServer(server: Server) {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const TERMS = {
  duration: 86_400,
  pricePerBytePerSecond: "2",
  proofProbability: 3,
  collateralPerByte: "5",
  expiry: 3_600,
};

describe("purchasing: an unreachable chain", function () {
  this.timeout(120_000);

  it("answers 502 ERR_CHAIN while the chain is away, keeps serving purchases, and recovers", async function () {
    const d = await bed.deploy();
    let rpc = await startRpcServer();
    const port = (rpc.address() as AddressInfo).port;
    const t = await startClientNode({
      ethProvider: `http://127.0.0.1:${port}`,
      ethPrivateKey: localWallet(1, ethers.provider).privateKey,
      marketplaceAddress: await d.marketplace.getAddress(),
    });
    try {
      const cid = await uploadBytes(t.url, datasetBytes(2, 4));
      const first = await postJson(`${t.url}/storage/request/${cid}`, TERMS);
      expect(first.status, JSON.stringify(first.json)).to.equal(201);
      const nonce = await ethers.provider.getTransactionCount(d.actors.client.address);

      await stopServer(rpc);
      const away = await postJson(`${t.url}/storage/request/${cid}`, TERMS);
      expect(away.status).to.equal(502);
      const error = away.json.error as { code: string; message: string };
      expect(error.code).to.equal("ERR_CHAIN");
      expect(error.message).to.match(/^cannot read the account's token balance: /);
      // Nothing was recorded or sent; what the node knows is still served.
      const list = await getJson<PurchaseView[]>(`${t.url}/storage/purchases`);
      expect(list.json.map((p) => p.state)).to.deep.equal(["submitted"]);
      expect(await ethers.provider.getTransactionCount(d.actors.client.address)).to.equal(nonce);
      // Following the chain fails quietly and is retried.
      await t.node.marketplace!.purchasing!.sync();

      rpc = await startRpcServer(port);
      // ethers' providers answer an identical request made within 250 ms from a cache, failures
      // included (the balance read and block number that just failed): let that pass.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const back = await postJson(`${t.url}/storage/request/${cid}`, TERMS);
      expect(back.status, JSON.stringify(back.json)).to.equal(201);
      expect((back.json as unknown as PurchaseView).state).to.equal("submitted");
    } finally {
      await t.stop();
      await removeDir(t.dataDir);
      if (rpc.listening) await stopServer(rpc);
    }
  });

  it("refuses to start when the chain cannot be reached at all", async function () {
    const rpc = await startRpcServer();
    const port = (rpc.address() as AddressInfo).port;
    await stopServer(rpc);
    const d = await bed.deploy();
    let failure: unknown;
    try {
      const t = await startClientNode({
        ethProvider: `http://127.0.0.1:${port}`,
        ethPrivateKey: localWallet(1, ethers.provider).privateKey,
        marketplaceAddress: await d.marketplace.getAddress(),
      });
      await t.stop();
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.match(/cannot reach the chain at http:\/\/127\.0\.0\.1/);
  });
});
