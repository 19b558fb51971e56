/**
 * Circuit tooling from the command line.
 *
 *   tsx scripts/circuits/cli.ts compile <main.circom>           r1cs + wasm, cached by content hash
 *   tsx scripts/circuits/cli.ts ptau <power>                    local powers of tau, cached by power
 *   tsx scripts/circuits/cli.ts setup <main.circom> <power>     compile + ptau + Groth16 zkey and vkey
 *   tsx scripts/circuits/cli.ts setup <main.circom> --ptau F    the same with a given (published) ptau
 *   tsx scripts/circuits/cli.ts verifier-parameters <vkey.json> <out.json>
 *                                   Ignition parameters for deploy/modules/Groth16Verifier.ts
 *   tsx scripts/circuits/cli.ts instance dev [--ptau F]        storage-proof instance: r1cs, wasm,
 *   tsx scripts/circuits/cli.ts instance production --ptau F   zkey, vkey, verifier parameters
 *
 * Progress goes to stderr; the result is printed to stdout as JSON.
 */
import { compileCircuit } from "./compile.js";
import { ensurePtau } from "./ptau.js";
import { groth16Setup } from "./setup.js";
import { NAMED_INSTANCES, buildInstance, isInstanceName } from "./instances.js";
import { writeVerifierDeploymentParameters } from "../deploy/verifier-parameters.js";
import { stderrLog } from "../lib/log.js";

const usage = `usage:
  circuits compile <main.circom>
  circuits ptau <power>
  circuits setup <main.circom> (<power> | --ptau <file>)
  circuits verifier-parameters <verification_key.json> <parameters.json>
  circuits instance dev [--ptau <file>]
  circuits instance production --ptau <published ptau, e.g. powersOfTau28_hez_final_17.ptau>`;

function parsePower(text: string | undefined): number {
  const power = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || power < 1 || power > 28) {
    throw new Error(`power must be an integer in 1..28, got ${JSON.stringify(text)}`);
  }
  return power;
}

async function main(argv: string[]): Promise<unknown> {
  const [command, ...rest] = argv;
  const log = stderrLog("circuits");
  switch (command) {
    case "compile": {
      if (rest.length !== 1) throw new Error(usage);
      return compileCircuit(rest[0]!, { log });
    }
    case "ptau": {
      if (rest.length !== 1) throw new Error(usage);
      return { ptau: await ensurePtau(parsePower(rest[0]), log) };
    }
    case "setup": {
      const [main, second, third] = rest;
      if (main === undefined || second === undefined) throw new Error(usage);
      const build = await compileCircuit(main, { log });
      const ptau = second === "--ptau" ? third : await ensurePtau(parsePower(second), log);
      if (ptau === undefined) throw new Error(usage);
      return { build, setup: await groth16Setup(build, ptau, log) };
    }
    case "verifier-parameters": {
      const [vkeyJson, parameters] = rest;
      if (rest.length !== 2 || vkeyJson === undefined || parameters === undefined) {
        throw new Error(usage);
      }
      await writeVerifierDeploymentParameters(vkeyJson, parameters);
      log(`wrote Ignition parameters for the Groth16Verifier module to ${parameters}`);
      return { parameters };
    }
    case "instance": {
      const [name, flag, ptau] = rest;
      if (name === undefined || !isInstanceName(name)) throw new Error(usage);
      if (flag !== undefined && (flag !== "--ptau" || ptau === undefined || rest.length !== 3)) {
        throw new Error(usage);
      }
      // A local ceremony has one contributor: fine for dev, never for what the network verifies.
      if (name === "production" && ptau === undefined) {
        throw new Error(
          `the production instance needs a published powers of tau (--ptau)\n${usage}`,
        );
      }
      return buildInstance(NAMED_INSTANCES[name], { ptau, log });
    }
    default:
      throw new Error(usage);
  }
}

main(process.argv.slice(2)).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`circuits: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
