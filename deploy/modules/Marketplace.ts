import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { ContractFuture, IgnitionModule } from "@nomicfoundation/ignition-core";
import Groth16VerifierModule from "./Groth16Verifier.js";

/** A module whose result `token` is the ERC-20 the marketplace is paid in. */
export type TokenModule = IgnitionModule<string, string, { token: ContractFuture<string> }>;

/**
 * The marketplace over the token of `tokenModule` and the verifier of Groth16Verifier. The module's
 * id is "Marketplace" whatever the token, so one parameters file configures it either way:
 * - configuration: the MarketplaceConfig the constructor takes (deploy/parameters/<network>.json
 *   holds it per network, without zkeyHash: scripts/deploy/holdfast.ts adds the setup's hash).
 * The constructor judges the configuration itself (contracts/marketplace/Configuration.sol) and
 * refuses to exist at block 256 or lower.
 */
export function marketplaceModule(tokenModule: TokenModule) {
  return buildModule("Marketplace", (m) => {
    const { token } = m.useModule(tokenModule);
    const { verifier } = m.useModule(Groth16VerifierModule);
    const configuration = m.getParameter("configuration");
    const marketplace = m.contract("Marketplace", [configuration, token, verifier]);
    return { token, verifier, marketplace };
  });
}
