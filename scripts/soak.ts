/**
 * `npm run soak -- --minutes N`: the demo's network left to run for N minutes under random load —
 * uploads and storage requests, hosts restarted (SIGTERM) and killed (SIGKILL, brought back a few
 * periods later) — with the money checked after every period: the token supply and its holders, the
 * marketplace's balance against its events, and every settled request's payouts and refund against
 * the marketplace's rules. Prints a summary table; exits 1 if any check failed.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { type Violation, checkConservation, checkSettlement } from "./devnet/accounting.js";
import { Devnet } from "./devnet/devnet.js";
import {
  type RequestView,
  hostAvailability,
  offerStorage,
  requestStorage,
  runPeriod,
} from "./devnet/market.js";
import type { DevnetNode } from "./devnet/nodes.js";
import { installCleanup } from "./devnet/processes.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    hosts: { type: "string", default: "4" },
    period: { type: "string", default: "60" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "npm run soak -- [--minutes N (5)] [--hosts N (4)] [--period S (60)] [--keep]\n",
  );
  process.exit(0);
}
const minutes = Number(values.minutes);
const hostCount = Number(values.hosts);
const period = Number(values.period);
if (!(minutes > 0) || !Number.isInteger(hostCount) || hostCount < 3 || !(period >= 20)) {
  process.stderr.write(
    "soak: --minutes must be positive, --hosts at least 3, --period at least 20\n",
  );
  process.exit(2);
}

const started = Date.now();
const log = (line: string) => {
  const s = Math.floor((Date.now() - started) / 1000);
  process.stdout.write(
    `[${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${line}\n`,
  );
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

const running: { devnet?: Devnet } = {};
installCleanup(async (signal) => {
  log(`${signal}: stopping every process`);
  await running.devnet?.stop();
});

const stats = {
  periods: 0,
  uploads: 0,
  requests: 0,
  restarts: 0,
  kills: 0,
  proofs: 0,
  missedProofs: 0,
  checks: 0,
  settledChecked: 0,
};
const violations: Violation[] = [];

log(`soak for ${minutes} min: a client, ${hostCount} hosts and a validator`);
const devnet = await Devnet.start({
  hosts: hostCount,
  validator: true,
  keep: values.keep,
  timings: { period, timeout: Math.min(20, period / 2), downtime: 20 },
  log,
});
running.devnet = devnet;
const funded = devnet.nodes.filter((n) => n.account && n.options.role !== "validator").length;
const supply = BigInt(funded) * 10n ** 24n;
await offerStorage(devnet.hosts, hostAvailability(20 * period));

const views: RequestView[] = [];
const settled = new Set<string>();
/** Killed hosts and the period they come back in. */
const down = new Map<DevnetNode, bigint>();
const isRunning = (address: string) => devnet.nodeOf(address)?.running ?? false;
const deadline = started + minutes * 60_000;

async function act(now: bigint) {
  const currentPeriod = now / devnet.period;
  for (const [host, back] of down) {
    if (currentPeriod >= back) {
      await host.start();
      down.delete(host);
      log(`${host.name} back after its crash`);
    }
  }
  const open = views.filter((v) => !settled.has(v.requestId)).length;
  if (open < 2 && Math.random() < 0.7) {
    const nodes = pick([2, 3]);
    // At least one 64 KiB block per data slot (nodes - tolerance of them).
    const size = 64 * 1024 * (nodes - 1) * (1 + Math.floor(Math.random() * 3));
    const { id } = await devnet.client.api.upload(randomBytes(size));
    stats.uploads++;
    const { view } = await requestStorage(devnet, id, {
      duration: period * (4 + Math.floor(Math.random() * 4)),
      pricePerBytePerSecond: BigInt(500 + Math.floor(Math.random() * 1000)),
      collateralPerByte: 100_000n,
      proofProbability: pick([1n, 1n, 2n]),
      expiry: period * 3,
      nodes,
      tolerance: 1,
    });
    views.push(view);
    stats.requests++;
    log(
      `request ${view.requestId.slice(0, 10)}: ${nodes} slots of ${view.request.ask.slotSize} B for ${view.request.ask.duration} s`,
    );
  }
  const up = devnet.hosts.filter((h) => h.running);
  const roll = Math.random();
  if (roll < 0.15 && up.length > 0) {
    const host = pick(up);
    await host.stop();
    await host.start();
    stats.restarts++;
    log(`${host.name} restarted (SIGTERM, start)`);
  } else if (roll < 0.27 && down.size === 0 && up.length > 2) {
    const host = pick(up);
    await host.kill();
    const back = currentPeriod + BigInt(1 + Math.floor(Math.random() * 3));
    down.set(host, back);
    stats.kills++;
    log(`${host.name} killed (SIGKILL); back in ${back - currentPeriod} period(s)`);
  }
}

try {
  while (Date.now() < deadline) {
    const now = await devnet.chain.now();
    await act(now);
    if (views.length === 0) {
      await devnet.chain.toNextPeriod(devnet.period);
      continue;
    }
    const report = await runPeriod(views, isRunning, {
      maxWaitMs: period * 1000,
      waitForFills: true,
      waitForRepairs: true,
    });
    stats.periods++;
    const proved = report.slots.filter((s) => s.outcome === "proved").length;
    stats.proofs += proved;
    stats.missedProofs += report.slots.length - proved;
    const problems = await checkConservation(devnet, views, supply);
    stats.checks++;
    for (const view of views) {
      if (settled.has(view.requestId)) continue;
      const result = await checkSettlement(view);
      if (result === undefined) continue;
      settled.add(view.requestId);
      stats.settledChecked++;
      problems.push(...result);
      const state = await devnet.market.requestState(view.requestId);
      log(
        `request ${view.requestId.slice(0, 10)} ${state}: ${result.length === 0 ? "paid exactly" : "PAYOUTS WRONG"}`,
      );
    }
    violations.push(...problems);
    for (const p of problems) log(`VIOLATION ${p.check}: ${p.detail}`);
    log(
      `period ${report.period}: ${proved}/${report.slots.length} proofs, ${views.length - settled.size} open requests, checks ${problems.length === 0 ? "ok" : "FAILED"}`,
    );
  }
  for (const [host] of down) await host.start();
} finally {
  const states = new Map<string, number>();
  for (const view of views) {
    const state = await devnet.market.requestState(view.requestId).catch(() => "unknown");
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  await devnet.stop();
  const rows: [string, string][] = [
    ["minutes", ((Date.now() - started) / 60_000).toFixed(1)],
    ["periods", String(stats.periods)],
    ["uploads", String(stats.uploads)],
    ["storage requests", String(stats.requests)],
    ...[...states].map(([state, n]): [string, string] => [`  ${state}`, String(n)]),
    ["proofs seen", String(stats.proofs)],
    ["proofs missed", String(stats.missedProofs)],
    ["host restarts", String(stats.restarts)],
    ["host kills", String(stats.kills)],
    ["money checks (periods)", String(stats.checks)],
    ["settled requests checked", String(stats.settledChecked)],
    ["violations", String(violations.length)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(
    `\nsoak summary\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n")}\n`,
  );
}
process.exitCode = violations.length === 0 ? 0 : 1;
