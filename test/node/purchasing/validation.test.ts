import { expect } from "chai";
import { network } from "hardhat";
import type { PurchaseView } from "../../../node/src/purchasing/purchase.js";
import { type Deployed, exampleConfig, testbed } from "../../contracts/marketplace/testbed.js";
import { localWallet } from "../chain/accounts.js";
import {
  datasetBytes,
  getJson,
  postJson,
  removeDir,
  startClientNode,
  uploadBytes,
  TERMS,
} from "./helpers.js";

const connection = await network.create();
const bed = testbed(connection);
const { ethers } = connection;

const LIMIT = exampleConfig().requestDurationLimit;

describe("purchasing: bad requests are refused with a clear error and change nothing", function () {
  this.timeout(120_000);

  let d: Deployed;
  let t: Awaited<ReturnType<typeof startClientNode>>;
  let cid: string;

  before(async function () {
    d = await bed.deploy();
    t = await startClientNode({
      provider: ethers.provider,
      ethPrivateKey: localWallet(1, ethers.provider).privateKey,
      marketplaceAddress: await d.marketplace.getAddress(),
    });
    cid = await uploadBytes(t.url, datasetBytes(3, 2));
  });

  after(async function () {
    await t?.stop();
    if (t) await removeDir(t.dataDir);
  });

  /** Posts `body` for `id`; checks that neither the node nor the chain changed. */
  async function refused(body: unknown, id = cid) {
    const nonce = await ethers.provider.getTransactionCount(d.actors.client.address);
    const datasets = (await t.node.service.list()).length;
    const { status, json } = await postJson(`${t.url}/storage/request/${id}`, body);
    expect(await ethers.provider.getTransactionCount(d.actors.client.address)).to.equal(nonce);
    expect((await getJson<unknown[]>(`${t.url}/storage/purchases`)).json).to.deep.equal([]);
    expect((await t.node.service.list()).length).to.equal(datasets);
    const error = json.error as { code: string; message: string };
    return { status, code: error.code, message: error.message };
  }

  const cases: [string, unknown, RegExp][] = [
    ["a body that is no object", [1, 2], /the request body must be a JSON object/],
    ["a missing duration", { ...TERMS, duration: undefined }, /^duration is required$/],
    ["a missing expiry", { ...TERMS, expiry: undefined }, /^expiry is required$/],
    [
      "a missing collateralPerByte",
      { ...TERMS, collateralPerByte: undefined },
      /^collateralPerByte is required$/,
    ],
    ["an unknown field", { ...TERMS, reward: 5 }, /unknown field reward/],
    [
      "a duration that is no number",
      { ...TERMS, duration: "one day" },
      /duration must be a positive integer/,
    ],
    [
      "a fractional duration",
      { ...TERMS, duration: 1.5 },
      /^duration must be a positive integer, as a JSON number or a decimal string; got 1.5$/,
    ],
    ["a negative duration", { ...TERMS, duration: -5 }, /^duration must be at least 1, got -5$/],
    ["a zero duration", { ...TERMS, duration: 0 }, /duration must be at least 1/],
    [
      "a duration over the marketplace's limit",
      { ...TERMS, duration: (LIMIT + 1n).toString() },
      /duration \d+ s exceeds the marketplace's limit of 2592000 s/,
    ],
    [
      "a zero price",
      { ...TERMS, pricePerBytePerSecond: "0" },
      /pricePerBytePerSecond must be at least 1/,
    ],
    [
      "a price in hex",
      { ...TERMS, pricePerBytePerSecond: "0x10" },
      /pricePerBytePerSecond must be a positive integer/,
    ],
    [
      "a zero proof probability",
      { ...TERMS, proofProbability: 0 },
      /proofProbability must be at least 1/,
    ],
    [
      "a proof probability of 2^32",
      { ...TERMS, proofProbability: (2n ** 32n).toString() },
      /proofProbability must be below 2\^32/,
    ],
    [
      "a zero collateral",
      { ...TERMS, collateralPerByte: 0 },
      /collateralPerByte must be at least 1/,
    ],
    ["a zero expiry", { ...TERMS, expiry: 0 }, /expiry must be at least 1/],
    [
      "an expiry equal to the duration",
      { ...TERMS, expiry: 86_400 },
      /expiry \(86400 s\) must be shorter than duration/,
    ],
    ["an expiry past the duration", { ...TERMS, expiry: 90_000 }, /must be shorter than duration/],
    ["zero nodes", { ...TERMS, nodes: 0 }, /nodes must be at least 1/],
    ["more than 256 nodes", { ...TERMS, nodes: 257, tolerance: 1 }, /nodes must be at most 256/],
    ["zero tolerance", { ...TERMS, tolerance: 0 }, /tolerance must be at least 1/],
    [
      "a tolerance equal to nodes",
      { ...TERMS, nodes: 3, tolerance: 3 },
      /tolerance \(3\) must be below nodes \(3\)/,
    ],
    [
      "more data slots than the dataset has blocks",
      { ...TERMS, nodes: 5, tolerance: 1 },
      /K=4 data slots need at least 4 blocks; the dataset has 3/,
    ],
    [
      "a price that does not fit 128 bits",
      { ...TERMS, pricePerBytePerSecond: (2n ** 120n).toString() },
      /do not fit 128 bits \(Marketplace_AmountTooLarge\)/,
    ],
    [
      "a price above the account's balance",
      { ...TERMS, pricePerBytePerSecond: (10n ** 20n).toString() },
      /this request costs \d+ tokens .* but account 0x[0-9a-fA-F]{40} holds \d+/,
    ],
  ];

  for (const [what, body, message] of cases) {
    it(`refuses ${what} (400)`, async function () {
      const error = await refused(body);
      expect(error.status).to.equal(400);
      expect(error.code).to.be.oneOf(["ERR_INVALID_ARGUMENT", "ERR_INVALID_EC_PARAMS"]);
      expect(error.message).to.match(message);
    });
  }

  it("refuses an unknown dataset (404) and a malformed id (400)", async function () {
    const unknown = await uploadBytes(t.url, datasetBytes(3, 99));
    await t.node.service.delete(unknown);
    const missing = await refused(TERMS, unknown);
    expect([missing.status, missing.code]).to.deep.equal([404, "ERR_NOT_FOUND"]);
    const malformed = await refused(TERMS, "not-a-cid");
    expect([malformed.status, malformed.code]).to.deep.equal([400, "ERR_INVALID_CID"]);
  });

  it("refuses nodes and tolerance that differ from a protected dataset's K and M", async function () {
    const protectedOnce = await t.node.service.protect(cid, { ecK: 2, ecM: 1 });
    const error = await refused({ ...TERMS, nodes: 4, tolerance: 2 }, protectedOnce.verifiableCid);
    expect(error.status).to.equal(400);
    expect(error.message).to.match(/erasure coded with K=2 M=1, which is nodes=3 tolerance=1/);
  });

  it("documents the routes in the OpenAPI document", async function () {
    const { json } = await getJson<{
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    }>(`${t.url}/openapi.json`);
    expect(Object.keys(json.paths)).to.include.members([
      "/api/v1/storage/request/{cid}",
      "/api/v1/storage/purchases",
      "/api/v1/storage/purchases/{id}",
    ]);
    expect(JSON.stringify(json.paths["/api/v1/storage/request/{cid}"]!.post!.requestBody)).to.match(
      /pricePerBytePerSecond/,
    );
  });

  it("answers 404 for an unknown purchase", async function () {
    const { status, json } = await getJson<{ error: { code: string } }>(
      `${t.url}/storage/purchases/0x${"00".repeat(32)}`,
    );
    expect([status, json.error.code]).to.deep.equal([404, "ERR_NOT_FOUND"]);
  });

  it("accepts decimal strings and reuses the dataset already protected with the same K and M", async function () {
    const datasets = (await t.node.service.list()).length;
    const { status, json } = await postJson(`${t.url}/storage/request/${cid}`, {
      duration: "86400",
      pricePerBytePerSecond: "2",
      proofProbability: "3",
      collateralPerByte: "5",
      expiry: "3600",
      nodes: "3",
      tolerance: "1",
    });
    expect(status, JSON.stringify(json)).to.equal(201);
    expect((json as unknown as PurchaseView).state).to.equal("submitted");
    expect((await t.node.service.list()).length).to.equal(datasets);
  });
});

describe("purchasing: a marketplace revert comes back with the contract's error", function () {
  this.timeout(120_000);

  it("records the purchase as errored and answers 502 naming the custom error", async function () {
    // A marketplace paid in a token whose transfers fail: every check passes until the payment.
    const [deployer] = await ethers.getSigners();
    await bed.networkHelpers.mine(300, { interval: 0 });
    const token = await ethers.deployContract("FalseReturningToken");
    const verifier = await ethers.deployContract("TestGroth16Verifier");
    const marketplace = await ethers.deployContract("Marketplace", [
      exampleConfig(),
      await token.getAddress(),
      await verifier.getAddress(),
    ]);
    const wallet = localWallet(1, ethers.provider);
    await token.connect(deployer!).mint(wallet.address, 10n ** 24n);
    await token.connect(deployer!).setFailing(true);
    const t = await startClientNode({
      provider: ethers.provider,
      ethPrivateKey: wallet.privateKey,
      marketplaceAddress: await marketplace.getAddress(),
    });
    try {
      const cid = await uploadBytes(t.url, datasetBytes(2, 5));
      const { status, json } = await postJson(`${t.url}/storage/request/${cid}`, TERMS);
      const error = json.error as { code: string; message: string };
      expect(status).to.equal(502);
      expect(error.code).to.equal("ERR_CHAIN");
      expect(error.message).to.match(
        /the marketplace did not take the request .* SafeERC20FailedOperation\(0x/,
      );
      const list = (await getJson<PurchaseView[]>(`${t.url}/storage/purchases`)).json;
      expect(list.map((p) => p.state)).to.deep.equal(["errored"]);
      expect(list[0]!.error).to.match(/SafeERC20FailedOperation/);
    } finally {
      await t.stop();
      await removeDir(t.dataDir);
    }
  });
});
