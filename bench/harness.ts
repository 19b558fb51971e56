import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** One measured figure. Where a peer implementation ran in the same process, `ratio` = value / peer's. */
export interface BenchRow {
  subject: string;
  metric: string;
  value: number;
  unit: string;
  ratio?: { to: string; value: number };
}

export interface Benchmark {
  /** File-name-safe id: results go to bench/results/<name>.json. */
  name: string;
  description: string;
  run(log: (message: string) => void): Promise<BenchRow[]>;
}

/** Repeats `fn` until at least `minMs` have passed and returns operations per second. */
export function opsPerSecond(fn: () => void, minMs = 1000): number {
  fn(); // warm up once (JIT, caches)
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    fn();
    iterations++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (iterations * 1000) / elapsed;
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = ["subject", "metric", "value", "unit", "ratio"];
  const cells = rows.map((r) => [
    r.subject,
    r.metric,
    r.value >= 100 ? Math.round(r.value).toLocaleString("en-US") : r.value.toPrecision(4),
    r.unit,
    r.ratio ? `${r.ratio.value.toFixed(2)}x ${r.ratio.to}` : "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    `| ${c.map((x, i) => (i === 2 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...cells.map(line),
  ].join("\n");
}

export async function writeResults(
  dir: string,
  bench: Benchmark,
  rows: readonly BenchRow[],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${bench.name}.json`);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${os.platform()}-${os.arch()}`,
  };
  const record = {
    benchmark: bench.name,
    description: bench.description,
    date: new Date().toISOString(),
    machine,
    rows,
  };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}
