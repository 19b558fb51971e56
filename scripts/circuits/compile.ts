import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { buildDir, repoRoot } from "../lib/paths.js";
import { type ProgressLog, silentLog } from "../lib/log.js";

const require = createRequire(import.meta.url);
const circom2Cli = require.resolve("circom2/cli.js");
const circomlibVersion = (require("circomlib/package.json") as { version: string }).version;
const circom2Version = (require("circom2/package.json") as { version: string }).version;

/** Library folders circom searches for `include` (relative to the repository root). */
const includeDirs = ["node_modules"];

export interface CompileOptions {
  /** circom's simplification level; --O2 roughly halves the constraint count. */
  optimize?: 0 | 1 | 2;
  log?: ProgressLog;
}

export interface CircuitBuild {
  /** Base name of the main file, e.g. `multiplier`. */
  name: string;
  /** Hash of every source file, the compiler version and the flags. */
  hash: string;
  dir: string;
  r1cs: string;
  wasm: string;
  sym: string;
  nonLinearConstraints: number;
  linearConstraints: number;
}

/**
 * Compiles a circuit to r1cs + wasm witness generator into `build/circuits/<name>-<hash>/`, where
 * the hash covers the main file and everything it includes. A build that already exists is reused.
 * circom2 runs under WASI and cannot read above its working directory, so it runs from the
 * repository root with relative paths.
 */
export async function compileCircuit(
  main: string,
  options: CompileOptions = {},
): Promise<CircuitBuild> {
  const log = options.log ?? silentLog;
  const optimize = options.optimize ?? 2;
  const mainRel = path.relative(repoRoot, path.resolve(repoRoot, main));
  if (mainRel.startsWith("..")) throw new Error(`circuit ${main} is outside the repository`);
  const name = path.basename(mainRel, ".circom");

  const sources = await collectSources(path.join(repoRoot, mainRel));
  const hasher = createHash("sha256");
  hasher.update(`circom2 ${circom2Version}\ncircomlib ${circomlibVersion}\n--O${optimize}\n`);
  for (const file of [...sources.keys()].sort()) {
    hasher.update(`${path.relative(repoRoot, file)}\n`).update(sources.get(file)!);
  }
  const hash = hasher.digest("hex").slice(0, 16);

  const dir = path.join(buildDir, "circuits", `${name}-${hash}`);
  const manifest = path.join(dir, "build.json");
  if (existsSync(manifest)) {
    return JSON.parse(await readFile(manifest, "utf8")) as CircuitBuild;
  }

  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  log(`compiling ${mainRel} (--O${optimize})`);
  const args = [
    mainRel,
    "--r1cs",
    "--wasm",
    "--sym",
    `--O${optimize}`,
    "-o",
    path.relative(repoRoot, tmp),
  ];
  for (const lib of includeDirs) args.push("-l", lib);
  const output = await run(process.execPath, [circom2Cli, ...args]);
  const nonLinear = Number(/non-linear constraints: (\d+)/.exec(output)?.[1] ?? NaN);
  const linear = Number(/(?<!non-)linear constraints: (\d+)/.exec(output)?.[1] ?? NaN);

  const build: CircuitBuild = {
    name,
    hash,
    dir,
    r1cs: path.join(dir, `${name}.r1cs`),
    wasm: path.join(dir, `${name}_js`, `${name}.wasm`),
    sym: path.join(dir, `${name}.sym`),
    nonLinearConstraints: nonLinear,
    linearConstraints: linear,
  };
  await writeFile(path.join(tmp, "build.json"), JSON.stringify(build, null, 2));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  log(
    `compiled ${name}: ${nonLinear} non-linear + ${linear} linear constraints -> ${path.relative(repoRoot, dir)}`,
  );
  return build;
}

/** The main file and every file it includes, transitively, by absolute path. */
async function collectSources(main: string): Promise<Map<string, Buffer>> {
  const sources = new Map<string, Buffer>();
  const pending = [main];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (sources.has(file)) continue;
    const content = await readFile(file);
    sources.set(file, content);
    for (const match of content.toString("utf8").matchAll(/^\s*include\s+"([^"]+)"\s*;/gm)) {
      pending.push(resolveInclude(match[1]!, path.dirname(file)));
    }
  }
  return sources;
}

function resolveInclude(target: string, fromDir: string): string {
  const candidates = [
    path.resolve(fromDir, target),
    ...includeDirs.map((d) => path.resolve(repoRoot, d, target)),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(`include "${target}" (from ${path.relative(repoRoot, fromDir)}) not found`);
  return found;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 && !/error\[/i.test(output)) resolve(output);
      else reject(new Error(`circom failed (exit ${code}):\n${output}`));
    });
  });
}
