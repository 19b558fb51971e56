/**
 * Checks a recorded deployment against the chain: every contract has code, none of it uses an
 * opcode Taiko lacks, the marketplace is paid in the recorded token and runs the network's
 * configuration. `npm run deploy -- check --network <name>` runs it after a deployment (and anyone
 * can, before pointing a node at a committed record).
 */
import { Interface, type Result } from "ethers";
import type { Deployment } from "../../node/src/chain/deployment.js";
import { findForbiddenOpcodes } from "../lib/evm-opcodes.js";
import type { MarketplaceParameters } from "./networks.js";

/** What the check reads: a JSON-RPC provider's two calls. */
export interface CodeReader {
  getCode(address: string): Promise<string>;
  call(tx: { to: string; data: string }): Promise<string>;
}

const MARKETPLACE = new Interface([
  "function token() view returns (address)",
  "function configuration() view returns (tuple(tuple(uint8 repairRewardPercentage, uint8 maxNumberOfSlashes, uint8 slashPercentage, uint8 validatorRewardPercentage) collateral, tuple(uint64 period, uint64 timeout, uint8 downtime, uint8 downtimeProduct, string zkeyHash, uint32 minBlockTimeMs) proofs, tuple(uint8 maxReservations, uint8 windowDoublings, uint8 windowExpansionPercentage) reservations, uint64 requestDurationLimit))",
]);

/**
 * Problems of `deployment` on the chain `provider` reaches ([] when there are none). With
 * `parameters` (and `zkeyHash`), the marketplace's configuration must equal them.
 */
export async function deploymentProblems(
  provider: CodeReader,
  deployment: Deployment,
  expected: { parameters?: MarketplaceParameters; zkeyHash?: string } = {},
): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, address] of [
    ["token", deployment.token],
    ["verifier", deployment.verifier],
    ["marketplace", deployment.marketplace],
  ] as const) {
    const code = await provider.getCode(address);
    if (code === "0x") {
      problems.push(`${name} ${address} has no code`);
      continue;
    }
    for (const found of findForbiddenOpcodes(code)) {
      problems.push(`${name} ${address} uses ${found.name} at byte ${found.offset}`);
    }
  }
  if (problems.length > 0) return problems;

  const view = async (name: "token" | "configuration"): Promise<Result> => {
    const data = MARKETPLACE.encodeFunctionData(name);
    const raw = await provider.call({ to: deployment.marketplace, data });
    return MARKETPLACE.decodeFunctionResult(name, raw);
  };
  const token = (await view("token"))[0] as string;
  if (token.toLowerCase() !== deployment.token.toLowerCase()) {
    problems.push(`marketplace pays in ${token}, the record says ${deployment.token}`);
  }
  if (expected.parameters !== undefined || expected.zkeyHash !== undefined) {
    const c = (await view("configuration"))[0] as {
      collateral: Record<string, bigint>;
      proofs: Record<string, bigint> & { zkeyHash: string };
      reservations: Record<string, bigint>;
      requestDurationLimit: bigint;
    };
    if (expected.zkeyHash !== undefined && c.proofs.zkeyHash !== expected.zkeyHash) {
      problems.push(`zkeyHash is ${c.proofs.zkeyHash}, expected ${expected.zkeyHash}`);
    }
    const p = expected.parameters;
    if (p !== undefined) {
      const compare = (group: string, actual: Record<string, bigint>, want: object) => {
        for (const [field, value] of Object.entries(want)) {
          if (actual[field] !== BigInt(value as number)) {
            problems.push(`${group}.${field} is ${actual[field]}, expected ${value}`);
          }
        }
      };
      compare("collateral", c.collateral, p.collateral);
      compare("proofs", c.proofs, p.proofs);
      compare("reservations", c.reservations, p.reservations);
      compare(
        "",
        { requestDurationLimit: c.requestDurationLimit },
        {
          requestDurationLimit: p.requestDurationLimit,
        },
      );
    }
  }
  return problems;
}
