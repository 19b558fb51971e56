import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The marketplace's payment token for local and test networks. Parameters:
 * - owner: account allowed to mint (default: the deploying account)
 * - faucetLimit: largest amount one faucet call mints, in wei units of the token (0 disables it)
 */
export default buildModule("TestToken", (m) => {
  const owner = m.getParameter("owner", m.getAccount(0));
  const faucetLimit = m.getParameter("faucetLimit", 1_000n * 10n ** 18n);
  const token = m.contract("TestToken", [owner, faucetLimit]);
  return { token };
});
