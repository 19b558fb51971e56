import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import ExistingTokenModule from "./ExistingToken.js";
import { marketplaceModule } from "./Marketplace.js";

/**
 * The whole system paid in a token that exists already (Taiko Alethia): Groth16Verifier and
 * Marketplace over the ExistingToken module's `address`. Parameters: see those modules.
 */
export default buildModule("HoldfastExistingToken", (m) => {
  const { token, verifier, marketplace } = m.useModule(marketplaceModule(ExistingTokenModule));
  return { token, verifier, marketplace };
});
