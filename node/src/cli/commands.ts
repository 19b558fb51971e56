/**
 * The `holdfast` commands for what a user does by hand against a running node: upload, download,
 * request storage, list purchases, manage availabilities, show slots and balances. Each is a thin
 * client of the node's REST API (api-client.ts): it checks its arguments, makes one or two calls and
 * prints the answer readably, or as JSON with --json.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import {
  ApiError,
  type AvailabilityParams,
  DEFAULT_API_URL,
  type Json,
  NodeApi,
  NodeUnreachableError,
  type StorageRequestParams,
} from "./api-client.js";

export const API_URL_ENV = "HOLDFAST_API_URL";

export const USER_COMMANDS_HELP = `User commands (against a running node; --api URL or $${API_URL_ENV}, default ${DEFAULT_API_URL}; --json for JSON output):
  holdfast upload <file>                            upload a file; prints its CID
  holdfast download <cid> <out>                     download a dataset (from the network if the
                                                    node does not hold it) into the file <out>
  holdfast request <cid> --duration S --price-per-byte-per-second N --collateral-per-byte N
                   --proof-probability N --expiry S --nodes N --tolerance N
                                                    request storage of a dataset
  holdfast purchases [id]                           list the node's purchases, or show one
  holdfast availability create --total-size BYTES --duration S --min-price-per-byte-per-second N
                   --total-collateral N [--until UNIX_SECONDS] [--enabled true|false]
  holdfast availability list
  holdfast availability update <id> [the create options to change]
                                                    offer storage for sale (host nodes)
  holdfast slots [id]                               the slots the node hosts, or one of them
  holdfast balances                                 the node's account: token and ether balances
`;

export const USER_COMMANDS = new Set([
  "upload",
  "download",
  "request",
  "purchases",
  "availability",
  "slots",
  "balances",
]);

class UsageError extends Error {}

interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultOutput: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const COMMON = {
  api: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs a user command; exit codes as main(): 0 ok, 1 failure (node unreachable, refused), 2 usage. */
export async function runUserCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  output: Output = defaultOutput,
): Promise<number> {
  try {
    return await run(command, args, env, output);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`holdfast ${command}: ${error.message}\nRun \`holdfast --help\` for usage.\n`);
      return 2;
    }
    if (error instanceof NodeUnreachableError) {
      output.err(
        `holdfast ${command}: ${error.message}\n  Is the node running? Give its API with --api URL.\n`,
      );
      return 1;
    }
    if (error instanceof ApiError) {
      output.err(
        `holdfast ${command}: the node answered ${error.status ? `HTTP ${error.status} ` : ""}${error.code}: ${error.message}\n`,
      );
      return 1;
    }
    output.err(`holdfast ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}

function parse<T extends Record<string, { type: "string" | "boolean"; short?: string }>>(
  args: readonly string[],
  options: T,
) {
  try {
    return parseArgs({
      args: [...args],
      options: { ...COMMON, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A non-negative whole number given as decimal digits (amounts can exceed 2^53: kept as a string). */
function wholeNumber(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new UsageError(`--${name} must be a whole number, not "${value}"`);
  }
  return BigInt(value.trim()).toString();
}

/** A whole number small enough for a JSON number (sizes, seconds, counts). */
function smallNumber(name: string, value: string | undefined): number | undefined {
  const text = wholeNumber(name, value);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} is too large`);
  return n;
}

function required<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

function booleanValue(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new UsageError(`--${name} must be true or false`);
}

function positionals(list: string[], names: string[], optional = 0): string[] {
  if (list.length > names.length || list.length < names.length - optional) {
    throw new UsageError(
      `expects ${names.map((n, i) => (i >= names.length - optional ? `[${n}]` : `<${n}>`)).join(" ")}`,
    );
  }
  return list;
}

async function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  const apiOf = (values: { api?: string | undefined }) => {
    const url = values.api ?? env[API_URL_ENV] ?? DEFAULT_API_URL;
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
    } catch {
      throw new UsageError(`--api must be an http(s):// URL, not "${url}"`);
    }
    return new NodeApi(url);
  };
  const print = (json: boolean | undefined, value: Json, human?: (value: Json) => string) => {
    output.out(json ? `${JSON.stringify(value, null, 2)}\n` : (human ?? formatValue)(value));
  };

  switch (command) {
    case "upload": {
      const { values, positionals: rest } = parse(args, { mimetype: { type: "string" } });
      const [file] = positionals(rest, ["file"]);
      const info = await stat(file!).catch(() => {
        throw new UsageError(`cannot read the file ${file}`);
      });
      if (!info.isFile()) throw new UsageError(`${file} is not a file`);
      const result = await apiOf(values).upload(createReadStream(file!), {
        filename: path.basename(file!),
        ...(values.mimetype ? { mimetype: values.mimetype } : {}),
      });
      print(values.json, result as unknown as Json, () => `${result.id}\n`);
      return 0;
    }
    case "download": {
      const { values, positionals: rest } = parse(args, { local: { type: "boolean" } });
      const [cid, out] = positionals(rest, ["cid", "out"]);
      const stream = await apiOf(values).download(cid!, { network: !values.local });
      // Written to a temporary name first: a failed download leaves no partial file behind.
      const partial = `${out}.partial-${process.pid}`;
      try {
        await pipeline(stream, createWriteStream(partial, { flags: "wx" }));
        await rename(partial, out!);
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      const bytes = (await stat(out!)).size;
      print(
        values.json,
        { cid: cid!, file: out!, bytes },
        () => `${bytes} bytes written to ${out}\n`,
      );
      return 0;
    }
    case "request": {
      const { values, positionals: rest } = parse(args, {
        duration: { type: "string" },
        "price-per-byte-per-second": { type: "string" },
        "collateral-per-byte": { type: "string" },
        "proof-probability": { type: "string" },
        expiry: { type: "string" },
        nodes: { type: "string" },
        tolerance: { type: "string" },
      });
      const [cid] = positionals(rest, ["cid"]);
      const params: StorageRequestParams = {
        duration: required("duration", smallNumber("duration", values["duration"])),
        pricePerBytePerSecond: required(
          "price-per-byte-per-second",
          wholeNumber("price-per-byte-per-second", values["price-per-byte-per-second"]),
        ),
        collateralPerByte: required(
          "collateral-per-byte",
          wholeNumber("collateral-per-byte", values["collateral-per-byte"]),
        ),
        proofProbability: required(
          "proof-probability",
          wholeNumber("proof-probability", values["proof-probability"]),
        ),
        expiry: required("expiry", smallNumber("expiry", values["expiry"])),
        nodes: required("nodes", smallNumber("nodes", values["nodes"])),
        tolerance: required("tolerance", smallNumber("tolerance", values["tolerance"])),
      };
      const result = await apiOf(values).requestStorage(cid!, params);
      print(values.json, result);
      return 0;
    }
    case "purchases": {
      const { values, positionals: rest } = parse(args, {});
      const [id] = positionals(rest, ["id"], 1);
      const api = apiOf(values);
      print(values.json, id ? await api.purchase(id) : await api.purchases());
      return 0;
    }
    case "slots": {
      const { values, positionals: rest } = parse(args, {});
      const [id] = positionals(rest, ["id"], 1);
      const api = apiOf(values);
      print(values.json, id ? await api.slot(id) : await api.slots());
      return 0;
    }
    case "balances": {
      const { values, positionals: rest } = parse(args, {});
      positionals(rest, []);
      const account = await apiOf(values).account();
      print(values.json, account as unknown as Json);
      return 0;
    }
    case "availability": {
      const { values, positionals: rest } = parse(args, {
        "total-size": { type: "string" },
        duration: { type: "string" },
        "min-price-per-byte-per-second": { type: "string" },
        "total-collateral": { type: "string" },
        until: { type: "string" },
        enabled: { type: "string" },
      });
      const [sub, ...more] = rest;
      const api = apiOf(values);
      if (sub === "list") {
        positionals(more, []);
        print(values.json, await api.availabilities());
        return 0;
      }
      const fields = (all: boolean): Partial<AvailabilityParams> => {
        const opt = <T>(name: string, value: T | undefined) =>
          all ? required(name, value) : value;
        const p: Partial<AvailabilityParams> = {};
        const totalSize = opt("total-size", smallNumber("total-size", values["total-size"]));
        const duration = opt("duration", smallNumber("duration", values["duration"]));
        const minPrice = opt(
          "min-price-per-byte-per-second",
          wholeNumber("min-price-per-byte-per-second", values["min-price-per-byte-per-second"]),
        );
        const collateral = opt(
          "total-collateral",
          wholeNumber("total-collateral", values["total-collateral"]),
        );
        const until = smallNumber("until", values.until);
        const enabled = booleanValue("enabled", values.enabled);
        if (totalSize !== undefined) p.totalSize = totalSize;
        if (duration !== undefined) p.duration = duration;
        if (minPrice !== undefined) p.minPricePerBytePerSecond = minPrice;
        if (collateral !== undefined) p.totalCollateral = collateral;
        if (until !== undefined) p.until = until;
        if (enabled !== undefined) p.enabled = enabled;
        return p;
      };
      if (sub === "create") {
        positionals(more, []);
        print(values.json, await api.createAvailability(fields(true) as AvailabilityParams));
        return 0;
      }
      if (sub === "update") {
        const [id] = positionals(more, ["id"]);
        const changes = fields(false);
        if (Object.keys(changes).length === 0)
          throw new UsageError("availability update needs at least one option to change");
        print(values.json, await api.updateAvailability(id!, changes));
        return 0;
      }
      throw new UsageError(
        `unknown availability command "${sub ?? ""}" (known: create, list, update)`,
      );
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** A readable rendering: objects as "key: value" lines, arrays of objects as one block each. */
export function formatValue(value: Json, indent = ""): string {
  if (value === null || typeof value !== "object") return `${indent}${String(value)}\n`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)\n`;
    return value
      .map((item) =>
        item !== null && typeof item === "object"
          ? formatValue(item, indent)
          : `${indent}- ${String(item)}\n`,
      )
      .join(`${indent}\n`);
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return `${indent}(empty)\n`;
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries
    .map(([key, item]) =>
      item !== null && typeof item === "object"
        ? `${indent}${key}:\n${formatValue(item, `${indent}  `)}`
        : `${indent}${key.padEnd(width)}  ${String(item)}\n`,
    )
    .join("");
}
