import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { marketplaceModule } from "./Marketplace.js";
import TestTokenModule from "./TestToken.js";

/**
 * The whole system for a network with a test token (local chains, Taiko's testnets): TestToken,
 * Groth16Verifier and Marketplace. Parameters: see those modules. Deploy it with
 * `npm run deploy` (scripts/deploy/cli.ts), which assembles the parameters from
 * deploy/parameters/<network>.json, the verification key and the zkey hash.
 */
export default buildModule("Holdfast", (m) => {
  const { token, verifier, marketplace } = m.useModule(marketplaceModule(TestTokenModule));
  return { token, verifier, marketplace };
});
