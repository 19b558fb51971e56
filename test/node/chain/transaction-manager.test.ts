import { expect } from "chai";
import { network } from "hardhat";
import { TestToken__factory } from "../../../node/src/chain/contracts/index.js";
import {
  TransactionError,
  TransactionManager,
} from "../../../node/src/chain/transaction-manager.js";
import { localWallet } from "./accounts.js";

describe("TransactionManager", function () {
  async function setup() {
    const { ethers } = await network.create();
    const wallet = localWallet(3, ethers.provider);
    const token = await ethers.deployContract("TestToken", [wallet.address, 10n ** 21n]);
    const iface = TestToken__factory.createInterface();
    return { ethers, wallet, token, iface };
  }

  it("sends concurrent transactions of one account with consecutive nonces, all mined", async function () {
    const { ethers, wallet, token, iface } = await setup();
    const manager = new TransactionManager(wallet, { interfaces: [iface], pollIntervalMs: 10 });
    const before = await ethers.provider.getTransactionCount(wallet.address);
    const receipts = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        manager.send(
          {
            to: token.target as string,
            data: iface.encodeFunctionData("mint", [wallet.address, BigInt(i + 1)]),
          },
          `mint ${i}`,
        ),
      ),
    );
    const nonces = await Promise.all(
      receipts.map(async (r) => (await ethers.provider.getTransaction(r.hash))!.nonce),
    );
    expect(nonces).to.deep.equal(Array.from({ length: 12 }, (_, i) => before + i));
    expect(await token.balanceOf(wallet.address)).to.equal(78n); // 1 + 2 + ... + 12
  });

  it("pads the gas estimate", async function () {
    const { ethers, wallet, token, iface } = await setup();
    const manager = new TransactionManager(wallet, { gasPaddingPercent: 50, pollIntervalMs: 10 });
    const request = {
      to: token.target as string,
      data: iface.encodeFunctionData("mint", [wallet.address, 1n]),
    };
    const estimate = await ethers.provider.estimateGas({ ...request, from: wallet.address });
    const receipt = await manager.send(request, "mint");
    const tx = await ethers.provider.getTransaction(receipt.hash);
    expect(tx!.gasLimit).to.equal((estimate * 150n) / 100n);
  });

  it("reports a revert found by estimation with the contract's custom error name, using no nonce", async function () {
    const { ethers, wallet, token, iface } = await setup();
    const manager = new TransactionManager(wallet, { interfaces: [iface], pollIntervalMs: 10 });
    const nonce = await ethers.provider.getTransactionCount(wallet.address);
    const tooMuch = 10n ** 21n + 1n;
    const error = await manager
      .send(
        { to: token.target as string, data: iface.encodeFunctionData("faucet", [tooMuch]) },
        "faucet",
      )
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransactionError);
    expect((error as TransactionError).code).to.equal("REVERTED");
    expect((error as TransactionError).reason).to.equal(
      `TestToken_FaucetLimitExceeded(${tooMuch}, ${10n ** 21n})`,
    );
    expect(await ethers.provider.getTransactionCount(wallet.address)).to.equal(nonce);
  });

  it("reports a transaction that reverted on chain with its custom error", async function () {
    const { wallet, token, iface, ethers } = await setup();
    const manager = new TransactionManager(wallet, { interfaces: [iface], pollIntervalMs: 10 });
    await manager.send(
      {
        to: token.target as string,
        data: iface.encodeFunctionData("mint", [wallet.address, 100n]),
      },
      "mint",
    );
    const other = localWallet(4, ethers.provider).address;
    const transferAll = {
      to: token.target as string,
      data: iface.encodeFunctionData("transfer", [other, 100n]),
    };
    // Both estimates see the balance; the second transfer then reverts when mined.
    const results = await Promise.allSettled([
      manager.send(transferAll, "first"),
      manager.send(transferAll, "second"),
    ]);
    expect(results[0]!.status).to.equal("fulfilled");
    expect(results[1]!.status).to.equal("rejected");
    const error = (results[1] as PromiseRejectedResult).reason as TransactionError;
    expect(error.code).to.equal("REVERTED");
    expect(error.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(error.reason).to.match(/^ERC20InsufficientBalance\(/);
  });

  it("re-sends a stuck transaction with the same nonce and higher fees; exactly one is mined", async function () {
    const { ethers, wallet, token, iface } = await setup();
    const events: string[] = [];
    const sentFees: bigint[] = [];
    const manager = new TransactionManager(wallet, {
      stuckAfterMs: 150,
      pollIntervalMs: 20,
      feeBumpPercent: 25,
      log: (event, fields) => {
        events.push(event);
        if (event === "tx-sent" || event === "tx-resent")
          sentFees.push(fields.maxFeePerGas as bigint);
      },
    });
    const nonce = await ethers.provider.getTransactionCount(wallet.address);
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      const sending = manager.send(
        {
          to: token.target as string,
          data: iface.encodeFunctionData("mint", [wallet.address, 7n]),
        },
        "mint",
      );
      while (!events.includes("tx-resent")) await new Promise((r) => setTimeout(r, 20));
      await ethers.provider.send("evm_mine", []);
      const receipt = await sending;
      const mined = await ethers.provider.getTransaction(receipt.hash);
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      expect(mined!.nonce).to.equal(nonce);
      expect(block!.transactions).to.have.length(1);
      expect(await token.balanceOf(wallet.address)).to.equal(7n);
      expect(await ethers.provider.getTransactionCount(wallet.address)).to.equal(nonce + 1);
      // The mined transaction is the re-sent one, offering at least 25% more than the first.
      expect(sentFees.length).to.be.greaterThan(1);
      expect(mined!.maxFeePerGas).to.equal(sentFees.at(-1));
      expect(mined!.maxFeePerGas! * 100n >= sentFees[0]! * 125n).to.equal(true);
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
  });

  it("counts a broadcast whose answer failed as sent when the node knows the transaction", async function () {
    const { ethers, token, iface } = await setup();
    // ethers' broadcastTransaction also reads the block number; here that read fails once.
    let failNext = true;
    const provider = new Proxy(ethers.provider, {
      get(target, prop, receiver) {
        if (prop === "broadcastTransaction") {
          return async (signed: string) => {
            const sent = await target.broadcastTransaction(signed);
            if (failNext) {
              failNext = false;
              throw new Error("connect ECONNREFUSED (block number)");
            }
            return sent;
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === "function"
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    const wallet = localWallet(3, provider);
    const manager = new TransactionManager(wallet, { pollIntervalMs: 10 });
    const nonce = await ethers.provider.getTransactionCount(wallet.address);
    const data = (n: bigint) => iface.encodeFunctionData("mint", [wallet.address, n]);
    const receipt = await manager.send({ to: token.target as string, data: data(5n) }, "mint");
    expect(receipt.status).to.equal(1);
    // The next transaction takes the next nonce, not the one already used.
    const next = await manager.send({ to: token.target as string, data: data(6n) }, "mint");
    expect((await ethers.provider.getTransaction(next.hash))!.nonce).to.equal(nonce + 1);
  });

  it("gives up on a transaction still unmined after the allowed fee increases", async function () {
    const { ethers, wallet, token, iface } = await setup();
    const manager = new TransactionManager(wallet, {
      stuckAfterMs: 30,
      pollIntervalMs: 10,
      maxResubmissions: 2,
    });
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      const error = await manager
        .send(
          {
            to: token.target as string,
            data: iface.encodeFunctionData("mint", [wallet.address, 1n]),
          },
          "mint",
        )
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TransactionError);
      expect((error as TransactionError).code).to.equal("STUCK");
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
  });
});
