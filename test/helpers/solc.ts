import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

interface SolcOutput {
  errors?: { severity: "error" | "warning" | "info"; formattedMessage: string }[];
  contracts: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>
  >;
}

/**
 * Compiles one generated Solidity source (for example a verifier snarkjs exports) with the same
 * pinned solc and (unless told otherwise) EVM target as hardhat.config.ts, for tests that deploy
 * code Hardhat never saw.
 */
export function compileSolidity(
  fileName: string,
  source: string,
  contractName: string,
  evmVersion = "shanghai",
): { abi: unknown[]; bytecode: string } {
  const solc = require("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: { [fileName]: { content: source } },
    settings: {
      evmVersion,
      optimizer: { enabled: true, runs: 1000 },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const contract = output.contracts[fileName]?.[contractName];
  if (!contract) throw new Error(`${contractName} not found in ${fileName}`);
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
}
