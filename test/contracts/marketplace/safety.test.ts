import { expect } from "chai";
import { network } from "hardhat";
import type { ReentrantToken, TestToken } from "../../../node/src/chain/contracts/index.js";
import type { MarketplaceConfigStruct } from "../../../node/src/chain/contracts/marketplace/Marketplace.js";
import {
  type Deployed,
  exampleRequest,
  maxPrice,
  STARTING_BALANCE,
  slotIdOf,
  testbed,
} from "./testbed.js";

const connection = await network.create();
const bed = testbed(connection);
const { ethers } = connection;

/** The testbed's deployment, paid in a token of the given kind. */
async function deployWithToken(kind: "ReentrantToken" | "FalseReturningToken") {
  const base = await bed.deploy();
  const token =
    kind === "ReentrantToken"
      ? await ethers.deployContract("ReentrantToken")
      : await ethers.deployContract("FalseReturningToken");
  const marketplace = await ethers.deployContract("Marketplace", [
    base.config as MarketplaceConfigStruct,
    await token.getAddress(),
    await base.verifier.getAddress(),
  ]);
  const a = base.actors;
  for (const account of [a.client, ...a.hosts, a.validator, a.stranger]) {
    await token.mint(account.address, STARTING_BALANCE);
  }
  // The helpers only use approve, balanceOf and mint, which these tokens share with TestToken.
  return { ...base, marketplace, token: token as unknown as TestToken, hostile: token };
}

async function withReentrantToken() {
  const d = await deployWithToken("ReentrantToken");
  return { ...d, hostile: d.hostile as unknown as ReentrantToken };
}

async function withFalseReturningToken() {
  return deployWithToken("FalseReturningToken");
}

describe("Marketplace safety", function () {
  describe("re-entrancy through the token", function () {
    let d: Deployed & { hostile: ReentrantToken };

    beforeEach(async function () {
      d = await bed.loadFixture(withReentrantToken);
    });

    /** Arms the token to call `payload` on the marketplace during the next transfer. */
    async function arm(payload: string) {
      await d.hostile.arm(await d.marketplace.getAddress(), payload);
    }

    async function expectBlocked() {
      expect(await d.hostile.reentered()).to.equal(true);
      expect(await d.hostile.reentrySucceeded()).to.equal(false);
      const selector = d.marketplace.interface.getError("ReentrancyGuardReentrantCall")!.selector;
      expect(await d.hostile.reentryResult()).to.equal(selector);
    }

    it("blocks a nested call while storage is requested", async function () {
      const request = exampleRequest(d.actors.client.address);
      await arm(d.marketplace.interface.encodeFunctionData("withdrawValidatorReward"));
      await bed.requestStorage(d, request);
      await expectBlocked();
      expect(await d.token.balanceOf(await d.marketplace.getAddress())).to.equal(
        maxPrice(request.ask),
      );
    });

    it("blocks a nested withdrawal while the client withdraws", async function () {
      const request = exampleRequest(d.actors.client.address);
      const { requestId } = await bed.requestStorage(d, request);
      await bed.time.increase(request.expiry + 1n);
      await arm(d.marketplace.interface.encodeFunctionData("withdrawFunds", [requestId]));
      await d.marketplace.connect(d.actors.client).withdrawFunds(requestId);
      await expectBlocked();
      expect(await d.token.balanceOf(await d.marketplace.getAddress())).to.equal(0n);
    });

    it("blocks a nested free while a slot is filled and while a host collects", async function () {
      const request = exampleRequest(d.actors.client.address);
      const { requestId } = await bed.requestStorage(d, request);
      await arm(d.marketplace.interface.encodeFunctionData("freeSlot", [slotIdOf(requestId, 0n)]));
      const { slotId } = await bed.fillSlot(d, request, 0n, d.actors.hosts[0]!);
      await expectBlocked();
      await bed.time.increase(request.expiry + 1n);
      await arm(d.marketplace.interface.encodeFunctionData("freeSlot", [slotId]));
      await d.marketplace.connect(d.actors.hosts[0]!).freeSlot(slotId);
      await expectBlocked();
    });

    it("blocks a nested collection while a validator collects", async function () {
      const request = exampleRequest(d.actors.client.address);
      await bed.requestStorage(d, request);
      const { slotId } = await bed.fillSlot(d, request, 0n, d.actors.hosts[0]!);
      await bed.missProof(d, slotId);
      await arm(d.marketplace.interface.encodeFunctionData("withdrawValidatorReward"));
      await d.marketplace.connect(d.actors.validator).withdrawValidatorReward();
      await expectBlocked();
    });
  });

  describe("tokens that report failure instead of reverting", function () {
    it("are caught, and the failed operation changes nothing", async function () {
      const d = await bed.loadFixture(withFalseReturningToken);
      const token = await ethers.getContractAt("FalseReturningToken", await d.token.getAddress());
      const request = exampleRequest(d.actors.client.address);
      await token.setFailing(true);
      await d.token
        .connect(d.actors.client)
        .approve(await d.marketplace.getAddress(), maxPrice(request.ask));
      await expect(d.marketplace.connect(d.actors.client).requestStorage(request))
        .to.be.revertedWithCustomError(d.marketplace, "SafeERC20FailedOperation")
        .withArgs(await token.getAddress());

      await token.setFailing(false);
      const { requestId } = await bed.requestStorage(d, request);
      await bed.time.increase(request.expiry + 1n);
      await token.setFailing(true);
      await expect(
        d.marketplace.connect(d.actors.client).withdrawFunds(requestId),
      ).to.be.revertedWithCustomError(d.marketplace, "SafeERC20FailedOperation");
      await token.setFailing(false);
      await d.marketplace.connect(d.actors.client).withdrawFunds(requestId);
      expect(await d.token.balanceOf(d.actors.client.address)).to.equal(STARTING_BALANCE);
    });
  });

  describe("bytecode", function () {
    /** Opcodes of deployed code, skipping PUSH data and the trailing CBOR metadata. */
    function opcodes(code: string): number[] {
      const bytes = ethers.getBytes(code);
      const metadataLength = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
      const end = bytes.length - 2 - metadataLength;
      const ops: number[] = [];
      for (let i = 0; i < end; i++) {
        const op = bytes[i]!;
        ops.push(op);
        if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
      }
      return ops;
    }

    it("reads opcodes, not PUSH data", function () {
      // PUSH1 0x5d, TSTORE, STOP, then an empty metadata section (length 0)
      expect(opcodes("0x605d5d000000")).to.deep.equal([0x60, 0x5d, 0x00]);
    });

    it("uses no opcode newer than Shanghai (Taiko has no TSTORE, TLOAD, MCOPY, BLOBHASH)", async function () {
      const d = await bed.loadFixture(bed.deploy);
      const ops = opcodes(await ethers.provider.getCode(await d.marketplace.getAddress()));
      expect(ops.length).to.be.greaterThan(1000);
      for (const forbidden of [0x5c, 0x5d, 0x5e, 0x49, 0x4a]) {
        expect(ops.includes(forbidden), `opcode 0x${forbidden.toString(16)}`).to.equal(false);
      }
    });
  });
});
