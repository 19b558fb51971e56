import { parseArgs } from "node:util";
import { version } from "../version.js";

const help = `holdfast ${version}: a node of the Holdfast durable-storage network

Usage:
  holdfast --version        print the version and exit
  holdfast --help           print this help and exit

Commands to run a node, store data and trade storage arrive with the node's issues.
`;

/** Exit codes: 0 success, 2 usage error (as most command-line tools do). */
export async function main(argv: readonly string[]): Promise<number> {
  let values: { version?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { version: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(
      `holdfast: ${(error as Error).message}\nRun \`holdfast --help\` for usage.\n`,
    );
    return 2;
  }
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(help);
    return 0;
  }
  process.stderr.write(
    `holdfast: unknown command "${positionals[0]}"\nRun \`holdfast --help\` for usage.\n`,
  );
  return 2;
}
