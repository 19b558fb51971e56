/**
 * The Grafana dashboard, the Prometheus example and docs/operations.md against the node's metrics:
 * every series a panel or selector queries must exist, so renaming a metric cannot break the
 * dashboard silently. A metric "exists" when a running node (validator role, on Hardhat's EVM)
 * serves it at /metrics or when node/src defines it (roles this test does not start, e.g. sales).
 */
import { expect } from "chai";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { network } from "hardhat";
import { startValidatorNode, validatorChain } from "../node/validator/fixture.js";

type MetricType = "counter" | "gauge" | "histogram" | "summary";

const ROOT = path.resolve(import.meta.dirname, "../..");
const DASHBOARD = path.join(ROOT, "ops/grafana/holdfast-dashboard.json");

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { uid?: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: { refId: string; expr: string }[];
  panels?: Panel[];
}

interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

/** The panels, rows' nested ones included, without the rows themselves. */
function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => (p.type === "row" ? (p.panels ?? []) : [p]));
}

/** Every PromQL expression of the dashboard: panel targets and query variables. */
function expressionsOf(dashboard: Dashboard): { where: string; expr: string }[] {
  const targets = panelsOf(dashboard).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr })),
  );
  const variables = dashboard.templating.list.flatMap((v) => {
    if (v.type !== "query" || v.query === undefined) return [];
    const expr = typeof v.query === "string" ? v.query : v.query.query;
    return [{ where: `variable ${v.name}`, expr }];
  });
  return [...targets, ...variables];
}

/** Series names in a PromQL expression (every Holdfast series starts with holdfast_). */
function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/\bholdfast_[a-zA-Z0-9_:]+/g)].map((m) => m[0]);
}

/** The metric a series belongs to: histograms and summaries expose _bucket, _sum and _count. */
function metricOf(series: string, known: Map<string, MetricType>): string {
  const match = /^(.*)_(bucket|sum|count)$/.exec(series);
  if (match && !known.has(series)) {
    const type = known.get(match[1]!);
    if (type === "histogram" || (type === "summary" && match[2] !== "bucket")) return match[1]!;
  }
  return series;
}

/** Series of `expressions` that are no known metric; empty when the dashboard is in step. */
function unknownSeries(
  expressions: { where: string; expr: string }[],
  known: Map<string, MetricType>,
): string[] {
  return expressions.flatMap(({ where, expr }) =>
    seriesIn(expr)
      .filter((series) => !known.has(metricOf(series, known)))
      .map((series) => `${series} (${where})`),
  );
}

/** Metrics defined in node/src: `new Counter|Gauge|Histogram|Summary({ name: "..." })`. */
async function definedMetrics(): Promise<Map<string, { type: MetricType; file: string }>> {
  const found = new Map<string, { type: MetricType; file: string }>();
  const sources = path.join(ROOT, "node/src");
  const entries = await readdir(sources, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (file.includes(`${path.sep}chain${path.sep}contracts${path.sep}`)) continue; // generated
    const text = await readFile(file, "utf8");
    const pattern =
      /new\s+(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\(\s*\{\s*name:\s*"([^"]+)"/g;
    for (const match of text.matchAll(pattern)) {
      found.set(match[2]!, {
        type: match[1]!.toLowerCase() as MetricType,
        file: path.relative(ROOT, file),
      });
    }
  }
  return found;
}

/** Metric names and types in a Prometheus text exposition (`# TYPE name type` lines). */
function exposedMetrics(text: string): Map<string, MetricType> {
  return new Map(
    [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2] as MetricType]),
  );
}

describe("operations: Grafana dashboard and Prometheus example", function () {
  this.timeout(120_000);

  async function dashboard(): Promise<Dashboard> {
    return JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
  }

  it("queries only metrics the node serves or defines", async function () {
    const defined = await definedMetrics();
    const connection = await network.create();
    const chain = await validatorChain(connection);
    const node = await startValidatorNode(connection.ethers.provider, chain.address);
    let exposition: string;
    try {
      await node.validator.tick();
      const response = await fetch(`http://127.0.0.1:${node.node.metricsPort}/metrics`);
      expect(response.status).to.equal(200);
      exposition = await response.text();
    } finally {
      await node.destroy();
    }
    const served = exposedMetrics(exposition);

    // The source scan agrees with the running node for the modules it runs.
    const running = [
      "node/src/metrics/metrics.ts",
      "node/src/network/metrics.ts",
      "node/src/validator/metrics.ts",
    ];
    for (const [name, { type, file }] of defined) {
      if (running.includes(file)) expect(served.get(name), name).to.equal(type);
    }

    const known = new Map<string, MetricType>(served);
    for (const [name, { type }] of defined) known.set(name, type);

    const expressions = expressionsOf(await dashboard());
    expect(expressions.length).to.be.greaterThan(30);
    expect(unknownSeries(expressions, known)).to.deep.equal([]);
    // Every validator metric has a panel.
    const queried = new Set(expressions.flatMap((e) => seriesIn(e.expr)));
    for (const [name, { file }] of defined) {
      if (file === "node/src/validator/metrics.ts") expect(queried.has(name), name).to.equal(true);
    }
  });

  it("reports a misspelled or unknown series", function () {
    const known = new Map<string, MetricType>([
      ["holdfast_stored_bytes", "gauge"],
      ["holdfast_http_request_duration_seconds", "histogram"],
      ["holdfast_uploads_total", "counter"],
    ]);
    const expressions = [
      { where: "a", expr: 'sum(holdfast_stored_bytes{instance=~"$instance"})' },
      {
        where: "b",
        expr: "histogram_quantile(0.9, sum by (le) (rate(holdfast_http_request_duration_seconds_bucket[5m])))",
      },
      { where: "c", expr: "rate(holdfast_upload_total[5m]) + holdfast_uploads_total_bucket" },
    ];
    expect(unknownSeries(expressions, known)).to.deep.equal([
      "holdfast_upload_total (c)",
      "holdfast_uploads_total_bucket (c)",
    ]);
  });

  it("has well-formed panels, each described in docs/operations.md", async function () {
    const board = await dashboard();
    const docs = await readFile(path.join(ROOT, "docs/operations.md"), "utf8");
    const panels = panelsOf(board);
    expect(board.uid).to.equal("holdfast-node");
    expect(new Set(board.panels.map((p) => p.id)).size).to.equal(board.panels.length);
    for (const panel of panels) {
      const targets = panel.targets ?? [];
      expect(targets.length, panel.title).to.be.greaterThan(0);
      expect(new Set(targets.map((t) => t.refId)).size, panel.title).to.equal(targets.length);
      for (const target of targets)
        expect(seriesIn(target.expr).length, panel.title).to.be.greaterThan(0);
      expect(panel.description?.trim().length ?? 0, panel.title).to.be.greaterThan(20);
      expect(panel.datasource?.uid, panel.title).to.equal("${datasource}");
      expect(panel.gridPos!.x + panel.gridPos!.w, panel.title).to.be.at.most(24);
      expect(docs, `docs/operations.md describes "${panel.title}"`).to.include(
        `**${panel.title}**`,
      );
    }
    // Panels do not overlap on the grid.
    const cells = new Set<string>();
    for (const { gridPos, title } of board.panels) {
      for (let x = gridPos!.x; x < gridPos!.x + gridPos!.w; x++) {
        for (let y = gridPos!.y; y < gridPos!.y + gridPos!.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).to.equal(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it("scrapes /metrics in the Prometheus example", async function () {
    const config = await readFile(path.join(ROOT, "ops/prometheus/prometheus.yml"), "utf8");
    expect(config).to.match(/^\s*- job_name: holdfast$/m);
    expect(config).to.match(/^\s*metrics_path: \/metrics$/m);
    expect(config).to.match(/^\s*- targets: \["[^"]+:\d+"\]$/m);
  });
});
