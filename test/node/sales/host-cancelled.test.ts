/**
 * A request the host can only partly take: it fills the two slots its availability has room for,
 * ignores the third (saying why), and when the request expires unfilled it collects, for each slot
 * it filled, the payment until the expiry and its collateral, releasing its reservations.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { hexlify, toUtf8Bytes } from "ethers";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { type StorageRequest, slotIdOf } from "../../../node/src/chain/marketplace-client.js";
import { isHoldfastError } from "../../../node/src/errors.js";
import { toBytesLE } from "../../../node/src/poseidon2/index.js";
import type { SaleRecord } from "../../../node/src/sales/records.js";
import { fieldFromHex } from "../../../node/src/slots/field.js";
import { releaseSnarkjsWorkers } from "../../../scripts/circuits/snarkjs-runtime.js";
import { type Market, type TestNode, deployMarket, eventually, startMarketNode } from "./market.js";

describe("the host role with a request that is cancelled", function () {
  this.timeout(600_000);

  let market: Market;
  let client: TestNode;
  let host: TestNode;

  before(async function () {
    market = await deployMarket();
    client = await startMarketNode(market, 1);
    host = await startMarketNode(market, 3, {
      persistence: true,
      circuitDir: market.circuitDir,
      salesWorkers: 3,
      bootstrapNodes: [client.node.p2p.network.multiaddrs[0]!.toString()],
    });
  });

  after(async function () {
    await host?.destroy();
    await client?.destroy();
    market?.close();
    await releaseSnarkjsWorkers();
  });

  it("refuses to start selling without a circuit to prove with", async function () {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-sales-config-"));
    try {
      for (const [circuitDir, message] of [
        [undefined, /--persistence needs --circuit-dir/],
        [dataDir, /cannot read the circuit's .*artifacts\.json/],
      ] as const) {
        const error = await startMarketNode(market, 4, {
          dataDir,
          persistence: true,
          circuitDir,
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isHoldfastError(error, "ERR_INVALID_CONFIG"), String(error)).to.equal(true);
        expect((error as Error).message).to.match(message);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("fills what it can, ignores the rest, and collects from its slots at the expiry", async function () {
    const sales = host.node.marketplace!.sales!;
    const chain = client.node.marketplace!.client;
    const hostAddress = host.node.marketplace!.client.account!;
    const balanceBefore = await chain.tokenBalance(hostAddress);
    await sales.availabilities.create({
      totalSize: BigInt(2 * BLOCK_SIZE),
      duration: 100_000n,
      minPricePerBytePerSecond: 1n,
      totalCollateral: 10n ** 12n,
      until: 0n,
      enabled: true,
    });

    // Two blocks, K = 2, M = 1: three slots of one block.
    const bytes = new Uint8Array(randomBytes(2 * BLOCK_SIZE));
    const plainId = (
      await client.node.service.upload(
        (async function* () {
          yield bytes;
        })(),
      )
    ).cid;
    const { verifiableCid } = await client.node.service.protect(plainId, { ecK: 2, ecM: 1 });
    await client.node.p2p.sync();
    const manifest = await client.node.service.manifest(verifiableCid);
    const period = market.config.proofs.period;
    const request: StorageRequest = {
      client: chain.account!,
      ask: {
        proofProbability: 1n,
        pricePerBytePerSecond: 3n,
        collateralPerByte: 2n,
        slots: 3n,
        slotSize: BigInt(BLOCK_SIZE),
        duration: 6n * period,
        maxSlotLoss: 0n,
      },
      content: {
        cid: hexlify(toUtf8Bytes(verifiableCid)),
        merkleRoot: hexlify(toBytesLE(fieldFromHex(manifest.verifiable!.datasetRoot)!)),
      },
      expiry: 3n * period,
      nonce: hexlify(randomBytes(32)),
    };
    const { requestId } = await chain.requestStorage(request);
    const slotIds = [0, 1, 2].map((i) => slotIdOf(requestId, i));

    const settled = () => slotIds.map((id) => sales.get(id)?.state);
    await eventually("two slots proving and one ignored", () => {
      const states = settled();
      return states.filter((s) => s === "proving").length === 2 && states.includes("ignored")
        ? true
        : undefined;
    });
    const ignored = slotIds.map((id) => sales.get(id)!).find((r) => r.state === "ignored")!;
    expect(ignored.mismatches![0]!.reasons).to.deep.equal(["not-enough-space"]);
    expect(await chain.requestState(requestId)).to.equal("new");

    const expiresAt = await chain.requestExpiry(requestId);
    await market.timeTo(expiresAt + 1n);
    const filled = slotIds.filter((id) => id !== ignored.slotId);
    const ended: SaleRecord[] = [];
    for (const slotId of filled) {
      ended.push(
        await eventually(`slot ${slotId} cancelled`, () => {
          const r = sales.get(slotId);
          return r?.state === "cancelled" ? r : undefined;
        }),
      );
    }
    const pricePerSlotPerSecond = request.ask.pricePerBytePerSecond * request.ask.slotSize;
    const collateral = request.ask.collateralPerByte * request.ask.slotSize;
    let earned = 0n;
    for (const record of ended) {
      expect(record.payout).to.equal(
        (expiresAt - record.filledAt!) * pricePerSlotPerSecond + collateral,
      );
      earned += record.payout! - record.collateral!;
    }
    expect(await chain.tokenBalance(hostAddress)).to.equal(balanceBefore + earned);
    expect(sales.availabilities.reservations()).to.deep.equal([]);
    expect(sales.availabilities.list()[0]!.freeSize).to.equal(BigInt(2 * BLOCK_SIZE));
  });
});
