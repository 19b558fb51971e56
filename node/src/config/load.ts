import { readFile } from "node:fs/promises";
import { HoldfastError } from "../errors.js";
import { type NodeConfig, OPTIONS, crossCheck } from "./options.js";

export const CONFIG_FLAG = "config";
export const CONFIG_ENV = "HOLDFAST_CONFIG";

export interface ConfigSources {
  /** Flag values by flag name (without dashes), as parsed from the command line. */
  /** Repeatable flags (lists of multiaddrs) give arrays. */
  flags: Record<string, string | boolean | string[] | undefined>;
  env: NodeJS.ProcessEnv;
}

/**
 * Builds the node's settings: flag, else environment variable, else config file, else default.
 * Every invalid value is reported at once, each with where it came from (ERR_INVALID_CONFIG).
 */
export async function loadConfig({ flags, env }: ConfigSources): Promise<NodeConfig> {
  const problems: string[] = [];
  const configFlag = flags[CONFIG_FLAG];
  const file = await readConfigFile(
    (Array.isArray(configFlag)
      ? configFlag.at(-1)
      : typeof configFlag === "string"
        ? configFlag
        : undefined) ?? env[CONFIG_ENV],
    problems,
  );
  const config: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const [raw, source] =
      flags[spec.flag] !== undefined
        ? [flags[spec.flag], `--${spec.flag}`]
        : env[spec.env] !== undefined
          ? [env[spec.env], `environment variable ${spec.env}`]
          : file && file.values[spec.key] !== undefined
            ? [file.values[spec.key], `"${spec.key}" in ${file.path}`]
            : [undefined, "default"];
    if (raw === undefined) {
      config[spec.key] = spec.defaultValue;
      continue;
    }
    const parsed = spec.parse(raw);
    if ("error" in parsed) problems.push(`${source}: ${parsed.error} (got ${JSON.stringify(raw)})`);
    else config[spec.key] = parsed.value;
  }
  if (problems.length === 0) problems.push(...crossCheck(config as unknown as NodeConfig));
  if (problems.length > 0) {
    throw new HoldfastError(
      "ERR_INVALID_CONFIG",
      `invalid configuration:\n  ${problems.join("\n  ")}`,
    );
  }
  return config as unknown as NodeConfig;
}

async function readConfigFile(
  file: string | undefined,
  problems: string[],
): Promise<{ path: string; values: Record<string, unknown> } | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    problems.push(
      `config file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
    return undefined;
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch (error) {
    problems.push(`config file ${file}: is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    problems.push(`config file ${file}: must hold a JSON object`);
    return undefined;
  }
  const known = new Set<string>(OPTIONS.map((o) => o.key));
  for (const key of Object.keys(values)) {
    if (!known.has(key))
      problems.push(
        `config file ${file}: unknown setting "${key}" (known: ${[...known].join(", ")})`,
      );
  }
  return { path: file, values: values as Record<string, unknown> };
}
