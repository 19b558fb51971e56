/**
 * `npm run bench [-- name ...]`: runs every benchmark in bench/*.bench.ts (or the named ones), prints
 * a table per benchmark and writes its rows as JSON under bench/results/ (git-ignored).
 * Machines here are shared and noisy: read ratios to a peer measured in the same run, not absolutes.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Benchmark, formatTable, writeResults } from "./harness.js";

const benchDir = import.meta.dirname;
const resultsDir = path.join(benchDir, "results");

const wanted = process.argv.slice(2);
const files = (await readdir(benchDir)).filter((f) => f.endsWith(".bench.ts")).sort();
const benches: Benchmark[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(path.join(benchDir, file)).href)) as {
    default: Benchmark;
  };
  benches.push(mod.default);
}
const unknown = wanted.filter((w) => !benches.some((b) => b.name === w));
if (unknown.length > 0) {
  console.error(
    `bench: unknown benchmark(s) ${unknown.join(", ")}; known: ${benches.map((b) => b.name).join(", ")}`,
  );
  process.exit(2);
}

for (const bench of benches.filter((b) => wanted.length === 0 || wanted.includes(b.name))) {
  console.log(`\n## ${bench.name}: ${bench.description}\n`);
  const rows = await bench.run((message) => console.error(`[${bench.name}] ${message}`));
  console.log(formatTable(rows));
  const file = await writeResults(resultsDir, bench, rows);
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}
process.exit(0);
