import { readFile, writeFile } from "node:fs/promises";
import type { DeploymentParameters } from "@nomicfoundation/ignition-core";
import {
  type Groth16VerificationKeyArg,
  verificationKeyFromSnarkjs,
} from "../../node/src/proof/groth16-encoding.js";
import Groth16VerifierModule from "../../deploy/modules/Groth16Verifier.js";

/** Reads snarkjs's verification_key.json and converts it (checked) to the verifier's key. */
export async function readVerificationKey(
  vkeyJsonPath: string,
): Promise<Groth16VerificationKeyArg> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(vkeyJsonPath, "utf8"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot read verification key ${vkeyJsonPath}: ${reason}`, { cause: error });
  }
  return verificationKeyFromSnarkjs(json);
}

/** Ignition parameters for deploy/modules/Groth16Verifier.ts from snarkjs's verification_key.json. */
export async function verifierDeploymentParameters(
  vkeyJsonPath: string,
): Promise<DeploymentParameters> {
  const verificationKey = await readVerificationKey(vkeyJsonPath);
  return { [Groth16VerifierModule.id]: { verificationKey } };
}

/**
 * Writes those parameters as an Ignition parameters file (bigints as "<digits>n", the form Ignition
 * reads back as bigints) and returns them.
 */
export async function writeVerifierDeploymentParameters(
  vkeyJsonPath: string,
  parametersPath: string,
): Promise<DeploymentParameters> {
  const parameters = await verifierDeploymentParameters(vkeyJsonPath);
  const text = JSON.stringify(
    parameters,
    (_key, value: unknown) => (typeof value === "bigint" ? `${value}n` : value),
    2,
  );
  await writeFile(parametersPath, `${text}\n`);
  return parameters;
}
