import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The storage-proof verifier for one trusted setup: a new setup is a new deployment of the same code.
 * Parameter:
 * - verificationKey: the setup's key as Groth16Verifier's constructor takes it (Groth16VerificationKey;
 *   numbers as decimal strings or "<digits>n"). Ignition resolves parameters only when it executes a
 *   module, so the module cannot read a file named by one; make the parameters file from snarkjs's
 *   verification_key.json instead:
 *
 *     npm run circuits -- verifier-parameters <verification_key.json> <parameters.json>
 *     npx hardhat ignition deploy deploy/modules/Groth16Verifier.ts --parameters <parameters.json>
 */
export default buildModule("Groth16Verifier", (m) => {
  const verificationKey = m.getParameter("verificationKey");
  const verifier = m.contract("Groth16Verifier", [verificationKey]);
  return { verifier };
});
