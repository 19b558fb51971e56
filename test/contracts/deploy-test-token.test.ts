import { expect } from "chai";
import { network } from "hardhat";
import TestTokenModule from "../../deploy/modules/TestToken.js";

describe("deploy/modules/TestToken (Ignition)", function () {
  it("deploys the token with the default owner and faucet limit", async function () {
    const { ignition, ethers } = await network.create();
    const [deployer] = await ethers.getSigners();
    const deployed = await ignition.deploy(TestTokenModule);
    const token = await ethers.getContractAt("TestToken", await deployed.token.getAddress());
    expect(await token.owner()).to.equal(deployer!.address);
    expect(await token.faucetLimit()).to.equal(1_000n * 10n ** 18n);
  });

  it("takes the owner and faucet limit as parameters", async function () {
    const { ignition, ethers } = await network.create();
    const [, other] = await ethers.getSigners();
    const deployed = await ignition.deploy(TestTokenModule, {
      parameters: { TestToken: { owner: other!.address, faucetLimit: 0n } },
    });
    const token = await ethers.getContractAt("TestToken", await deployed.token.getAddress());
    expect(await token.owner()).to.equal(other!.address);
    await expect(token.faucet(1n)).to.be.revertedWithCustomError(token, "TestToken_FaucetDisabled");
  });
});
