import { parseArgs } from "node:util";
import { CONFIG_ENV, CONFIG_FLAG } from "../config/load.js";
import { OPTIONS } from "../config/options.js";
import { parseEcParams } from "../erasure/layout.js";
import { isHoldfastError } from "../errors.js";
import { version } from "../version.js";

const startOptions = OPTIONS.map(
  (o) =>
    `  --${o.flag.padEnd(22)} ${o.description}\n${" ".repeat(27)}env ${o.env}${o.defaultValue !== undefined && String(o.defaultValue) !== "" ? `, default ${String(o.defaultValue)}` : ""}`,
).join("\n");

const help = `holdfast ${version}: a node of the Holdfast durable-storage network

Usage:
  holdfast start [options]                          run a node
  holdfast dataset inspect <file> --ec K+M [--json] print the tree id, slot roots and dataset
                                                    root <file> would get, storing nothing
  holdfast --version                                print the version and exit
  holdfast --help                                   print this help and exit

Options of start (flag, else environment variable, else config file, else default):
  --${CONFIG_FLAG.padEnd(22)} JSON file with any of the settings below, by name (e.g. "apiPort")
${" ".repeat(27)}env ${CONFIG_ENV}
${startOptions}
`;

/** Flags that may be given several times (lists of multiaddrs). */
const REPEATABLE = new Set(["listen-addrs", "announce-addrs", "bootstrap-node"]);
/** Switches: present means on (the environment and config file can also say false). */
const SWITCHES = new Set(["persistence", "validator"]);

function usageError(message: string): number {
  process.stderr.write(`holdfast: ${message}\nRun \`holdfast --help\` for usage.\n`);
  return 2;
}

/** Exit codes: 0 success, 1 failure, 2 usage or configuration error (as most command-line tools do). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "start") return start(rest);
  if (command === "dataset") return dataset(rest);
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
    return usageError((error as Error).message);
  }
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(help);
    return 0;
  }
  return usageError(`unknown command "${positionals[0]}"`);
}

async function start(args: string[]): Promise<number> {
  let flags: Record<string, string | boolean | string[] | undefined>;
  try {
    const parsed = parseArgs({
      args,
      options: Object.fromEntries(
        [CONFIG_FLAG, ...OPTIONS.map((o) => o.flag)].map((flag) => [
          flag,
          SWITCHES.has(flag)
            ? { type: "boolean" as const }
            : { type: "string" as const, multiple: REPEATABLE.has(flag) },
        ]),
      ),
      allowPositionals: false,
      strict: true,
    });
    flags = parsed.values as Record<string, string | boolean | string[] | undefined>;
  } catch (error) {
    return usageError((error as Error).message);
  }
  try {
    // Loaded here, not at the top: --version and --help stay fast without the server's modules.
    const { startNode, stopOnSignals } = await import("./start.js");
    const { node } = await startNode(flags);
    await stopOnSignals(node);
    return 0;
  } catch (error) {
    if (isHoldfastError(error, "ERR_INVALID_CONFIG")) {
      process.stderr.write(`holdfast: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`holdfast: could not start: ${(error as Error).message}\n`);
    return 1;
  }
}

async function dataset(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ec: { type: "string" }, json: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const [sub, file, ...extra] = parsed.positionals;
  if (sub !== "inspect")
    return usageError(`unknown dataset command "${sub ?? ""}" (known: inspect)`);
  if (!file || extra.length > 0) return usageError("dataset inspect takes exactly one file");
  if (!parsed.values.ec) return usageError("dataset inspect needs --ec K+M (for example --ec 4+2)");
  const { defaultHashing } = await import("../slots/default-hashing.js");
  const { formatInspect, inspectFile } = await import("./inspect.js");
  const hashing = defaultHashing();
  try {
    const params = parseEcParams(parsed.values.ec);
    const result = await inspectFile(file, params, hashing, {
      onProgress: (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\rhashing codewords: ${done}/${total}`);
        if (process.stderr.isTTY && done === total) process.stderr.write("\n");
      },
    });
    process.stdout.write(
      parsed.values.json ? `${JSON.stringify(result, null, 2)}\n` : formatInspect(result),
    );
    return 0;
  } catch (error) {
    if (
      isHoldfastError(error, "ERR_INVALID_EC_PARAMS") ||
      isHoldfastError(error, "ERR_INVALID_ARGUMENT")
    ) {
      return usageError(error.message);
    }
    process.stderr.write(`holdfast: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await hashing.roots.close();
  }
}
