import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { Artifact } from "@nomicfoundation/ignition-core";
import { Interface } from "ethers";

/**
 * The ERC-20 functions the marketplace and the node call. The project compiles no IERC20 artifact of
 * its own (Hardhat emits artifacts for the project's contracts only), so the interface is given here.
 */
const erc20: Artifact = {
  _format: "hh3-artifact-1",
  contractName: "IERC20",
  sourceName: "@openzeppelin/contracts/token/ERC20/IERC20.sol",
  abi: JSON.parse(
    Interface.from([
      "function totalSupply() view returns (uint256)",
      "function balanceOf(address account) view returns (uint256)",
      "function allowance(address owner, address spender) view returns (uint256)",
      "function approve(address spender, uint256 value) returns (bool)",
      "function transfer(address to, uint256 value) returns (bool)",
      "function transferFrom(address from, address to, uint256 value) returns (bool)",
    ]).formatJson(),
  ) as Artifact["abi"],
  bytecode: "0x",
  deployedBytecode: "0x",
  linkReferences: {},
  deployedLinkReferences: {},
};

/**
 * A token that exists already (e.g. a stablecoin on Taiko Alethia), for networks without a test
 * token. Parameter:
 * - address: the token's address
 */
export default buildModule("ExistingToken", (m) => {
  const address = m.getParameter<string>("address");
  const token = m.contractAt("Token", erc20, address);
  return { token };
});
