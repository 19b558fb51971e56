import { expect } from "chai";
import { network } from "hardhat";

const { ethers } = await network.create();

describe("TestToken", function () {
  const faucetLimit = ethers.parseEther("1000");

  async function deploy() {
    const [owner, alice, bob] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", [owner!.address, faucetLimit]);
    return { token, owner: owner!, alice: alice!, bob: bob! };
  }

  it("is an 18-decimal ERC-20 named Holdfast Test Token (HFT) owned by the deployer's choice", async function () {
    const { token, owner } = await deploy();
    expect(await token.name()).to.equal("Holdfast Test Token");
    expect(await token.symbol()).to.equal("HFT");
    expect(await token.decimals()).to.equal(18n);
    expect(await token.owner()).to.equal(owner.address);
    expect(await token.totalSupply()).to.equal(0n);
  });

  it("lets the owner mint any amount to anyone", async function () {
    const { token, alice } = await deploy();
    await expect(token.mint(alice.address, 5n))
      .to.emit(token, "Transfer")
      .withArgs(ethers.ZeroAddress, alice.address, 5n);
    expect(await token.balanceOf(alice.address)).to.equal(5n);
  });

  it("refuses minting by anyone but the owner", async function () {
    const { token, alice } = await deploy();
    await expect(token.connect(alice).mint(alice.address, 1n))
      .to.be.revertedWithCustomError(token, "OwnableUnauthorizedAccount")
      .withArgs(alice.address);
  });

  it("hands out up to the faucet limit per call, and refuses more", async function () {
    const { token, bob } = await deploy();
    await token.connect(bob).faucet(faucetLimit);
    expect(await token.balanceOf(bob.address)).to.equal(faucetLimit);
    await expect(token.connect(bob).faucet(faucetLimit + 1n))
      .to.be.revertedWithCustomError(token, "TestToken_FaucetLimitExceeded")
      .withArgs(faucetLimit + 1n, faucetLimit);
    expect(await token.balanceOf(bob.address)).to.equal(faucetLimit);
  });

  it("has no faucet when deployed with a zero limit", async function () {
    const [owner, alice] = await ethers.getSigners();
    const token = await ethers.deployContract("TestToken", [owner!.address, 0n]);
    await expect(token.connect(alice!).faucet(1n)).to.be.revertedWithCustomError(
      token,
      "TestToken_FaucetDisabled",
    );
  });

  it("moves balances with transfer and transferFrom under an allowance", async function () {
    const { token, alice, bob } = await deploy();
    await token.mint(alice.address, 100n);
    await token.connect(alice).transfer(bob.address, 30n);
    await token.connect(alice).approve(bob.address, 50n);
    await token.connect(bob).transferFrom(alice.address, bob.address, 50n);
    expect(await token.balanceOf(alice.address)).to.equal(20n);
    expect(await token.balanceOf(bob.address)).to.equal(80n);
    await expect(
      token.connect(bob).transferFrom(alice.address, bob.address, 1n),
    ).to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance");
  });
});
