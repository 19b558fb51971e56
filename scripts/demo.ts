/**
 * `npm run demo`: a whole Holdfast network on this machine, and one storage request's life shown as
 * it happens. A Hardhat chain, the marketplace deployed with the dev circuit's verifier, a client,
 * hosts and a validator as separate processes; a file uploaded and stored; slots filled; proofs
 * every period; a host stopped on purpose, slashed and replaced by a repairing host; the file
 * downloaded from the hosts while they store it and compared byte for byte; the request finishing,
 * everyone paid, and the hosts deleting the data.
 * Chain time jumps to the next period as soon as a period's work is done, so it takes minutes.
 * Ctrl-C stops every process.
 */
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { Devnet } from "./devnet/devnet.js";
import {
  type RequestView,
  hostAvailability,
  offerStorage,
  requestStorage,
  runPeriod,
  sleep,
} from "./devnet/market.js";
import type { DevnetNode } from "./devnet/nodes.js";
import type { ChainEvent } from "./devnet/observer.js";
import { installCleanup } from "./devnet/processes.js";

const USAGE = `npm run demo -- [options]
  --hosts N          host nodes (default 4; at least nodes + 1, so one can repair)
  --nodes N          slots of the request (default 3)
  --tolerance N      slots that may be lost (default 1)
  --file-size BYTES  size of the sample file (default 262144)
  --duration S       the request's duration in seconds of chain time (default 600)
  --period S         seconds per proof period (default 60)
  --keep             keep the logs and data folders (printed at the end)
  --help`;

const color = process.stdout.isTTY
  ? (code: number) => (text: string) => `\x1b[${code}m${text}\x1b[0m`
  : () => (text: string) => text;
const bold = color(1);
const green = color(32);
const red = color(31);
const yellow = color(33);
const dim = color(2);

const started = Date.now();
const clock = () => {
  const s = Math.floor((Date.now() - started) / 1000);
  return dim(`[${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}]`);
};
let statusShown = false;
function clearStatus() {
  if (statusShown) process.stdout.write("\r\x1b[2K");
  statusShown = false;
}
function say(line: string) {
  clearStatus();
  process.stdout.write(`${clock()} ${line}\n`);
}
function status(line: string) {
  if (!process.stdout.isTTY) return;
  clearStatus();
  process.stdout.write(`${clock()} ${dim(line.slice(0, (process.stdout.columns ?? 100) - 10))}`);
  statusShown = true;
}
function heading(text: string) {
  clearStatus();
  process.stdout.write(`\n${bold(`== ${text} ==`)}\n`);
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "4" },
      nodes: { type: "string", default: "3" },
      tolerance: { type: "string", default: "1" },
      "file-size": { type: "string", default: String(256 * 1024) },
      duration: { type: "string", default: "600" },
      period: { type: "string", default: "60" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      process.stderr.write(`demo: --${name} must be a whole number of at least ${min}\n${USAGE}\n`);
      process.exit(2);
    }
    return n;
  };
  const options = {
    hosts: int("hosts", values.hosts, 2),
    nodes: int("nodes", values.nodes, 1),
    tolerance: int("tolerance", values.tolerance, 1),
    fileSize: int("file-size", values["file-size"], 1),
    duration: int("duration", values.duration, 60),
    period: int("period", values.period, 20),
    keep: values.keep,
  };
  if (options.tolerance >= options.nodes) {
    process.stderr.write("demo: --tolerance must be below --nodes\n");
    process.exit(2);
  }
  if (options.hosts < options.nodes + 1) {
    process.stderr.write("demo: --hosts must be at least --nodes + 1 (a spare host repairs)\n");
    process.exit(2);
  }
  if (options.duration < 8 * options.period) {
    process.stderr.write("demo: --duration must span at least 8 periods (to show a repair)\n");
    process.exit(2);
  }
  return options;
}

const ESCAPES = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");
/** Text without its color codes: what the terminal shows. */
const visible = (text: string) => text.replace(ESCAPES, "");
/** Periods are counted from the request's: period 0 is the one it was made in. */
const periods = { base: 0n };
const pn = (period: bigint) => `period ${period - periods.base}`;
const short = (id: string) => `${id.slice(0, 10)}…`;
const amount = (n: bigint) => n.toLocaleString("en-US");

function slotTable(devnet: Devnet, view: RequestView): string {
  const rows = [["slot", "host", "filled at", "state", "missed proofs"]];
  const holders = view.holders();
  for (let i = 0; i < view.slots; i++) {
    const tenure = holders[i];
    const history = view.tenures().filter((t) => t.slotIndex === i);
    const last = history.at(-1);
    rows.push([
      String(i),
      tenure ? devnet.nameOf(tenure.host) : last ? `(${devnet.nameOf(last.host)} removed)` : "-",
      tenure ? pn(tenure.filledAt / devnet.period) : "-",
      tenure ? (tenure.repair ? "filled (repair)" : "filled") : last ? "repair" : "free",
      tenure ? String(tenure.missed) : "-",
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r, i) => {
      const line = `  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")}`;
      return i === 0 ? bold(line) : line;
    })
    .join("\n");
}

function describeEvent(
  devnet: Devnet,
  view: RequestView | undefined,
  event: ChainEvent,
): string | undefined {
  const who = devnet.nameOf(event.from);
  const slotOf = (slotId: unknown) => {
    if (!view) return "?";
    for (let i = 0; i < view.slots; i++) {
      if (view.slotId(i).toLowerCase() === String(slotId).toLowerCase()) return String(i);
    }
    return undefined;
  };
  switch (event.name) {
    case "StorageRequested":
      return `chain: storage requested (${short(String(event.args.requestId))})`;
    case "SlotReservationsFull":
      return undefined;
    case "SlotFilled":
      return green(`chain: slot ${event.args.slotIndex} filled by ${who}`);
    case "RequestFulfilled":
      return green(bold("chain: every slot filled: the request has started"));
    case "ProofSubmitted": {
      const slot = slotOf(event.args.id);
      return slot === undefined
        ? undefined
        : `chain: proof of slot ${slot} by ${who}, ${pn(event.timestamp / devnet.period)}`;
    }
    case "ProofMarkedMissing": {
      const slot = slotOf(event.args.slotId);
      return slot === undefined
        ? undefined
        : red(
            `chain: ${who} marked slot ${slot}'s proof of ${pn(event.args.period as bigint)} missing: the host is slashed`,
          );
    }
    case "SlotFreed":
      return red(
        bold(
          `chain: slot ${event.args.slotIndex}'s host removed after too many missed proofs: the slot is up for repair`,
        ),
      );
    case "RequestFailed":
      return red(bold("chain: the request failed"));
    case "RequestCancelled":
      return yellow("chain: the request was cancelled");
    case "SlotPaid":
      return green(
        `chain: ${devnet.nameOf(String(event.args.host))} paid ${amount(event.args.amount as bigint)} for slot ${slotOf(event.args.slotId) ?? "?"}`,
      );
    case "FundsWithdrawn":
      return green(`chain: the client withdrew ${amount(event.args.amount as bigint)}`);
    case "ValidatorRewardWithdrawn":
      return green(
        `chain: the validator withdrew its reward of ${amount(event.args.amount as bigint)}`,
      );
    default:
      return `chain: ${event.name}`;
  }
}

async function main(): Promise<number> {
  const options = parseOptions();
  const running: { devnet?: Devnet } = {};
  installCleanup(async (signal) => {
    say(yellow(`${signal}: stopping every process…`));
    await running.devnet?.stop();
    say("stopped; nothing is left running");
  });

  heading("1. Starting a local Holdfast network");
  say(
    `a chain, the marketplace, a client, ${options.hosts} hosts and a validator; logs go to files`,
  );
  const devnet = await Devnet.start({
    hosts: options.hosts,
    validator: true,
    keep: options.keep,
    timings: { period: options.period, timeout: Math.min(20, options.period / 2), downtime: 20 },
    log: (line) => say(line),
  });
  running.devnet = devnet;
  say(
    `logs and data: ${devnet.dir}${options.keep ? "" : " (removed at the end; --keep keeps them)"}`,
  );
  const shown: { view?: RequestView } = {};
  devnet.observer.on((event) => {
    const line = describeEvent(devnet, shown.view, event);
    if (line) say(line);
  });

  const actors: DevnetNode[] = devnet.nodes.filter((n) => n.account);
  const balancesBefore = new Map<string, bigint>();
  for (const node of actors)
    balancesBefore.set(node.name, await devnet.tokenBalance(node.account!.address));

  heading("2. Hosts offer storage");
  const availability = hostAvailability(options.duration);
  await offerStorage(devnet.hosts, availability);
  say(
    `each host: ${availability.totalSize} bytes for up to ${availability.duration} s, collateral up to ${amount(BigInt(availability.totalCollateral))}`,
  );

  heading("3. The client uploads a file and requests storage");
  const file = randomBytes(options.fileSize);
  const digest = createHash("sha256").update(file).digest("hex");
  const { id: cid } = await devnet.client.api.upload(file, { filename: "sample.bin" });
  say(`uploaded ${file.length} bytes as ${cid} (sha256 ${digest.slice(0, 16)}…)`);
  const { view, purchase } = await requestStorage(devnet, cid, {
    duration: options.duration,
    pricePerBytePerSecond: 1000n,
    collateralPerByte: 100_000n,
    proofProbability: 1n,
    expiry: Math.min(options.duration / 2, 600),
    nodes: options.nodes,
    tolerance: options.tolerance,
  });
  shown.view = view;
  periods.base = (await devnet.chain.now()) / devnet.period;
  const ask = view.request.ask;
  say(
    `request ${short(view.requestId)}: ${ask.slots} slots of ${ask.slotSize} bytes, ${ask.duration} s, proof every period, lose up to ${ask.maxSlotLoss}`,
  );

  heading("4. Hosts download their slots, prove and fill them");
  const startedEvent = await (async () => {
    const wait = devnet.observer.waitFor(
      "RequestFulfilled",
      (args) => String(args.requestId).toLowerCase() === view.requestId.toLowerCase(),
      Number(view.request.expiry) * 1000,
      "the request to start",
    );
    const ticker = setInterval(() => {
      const filled = view.holders().filter(Boolean).length;
      status(`waiting for hosts: ${filled}/${view.slots} slots filled`);
    }, 1000);
    try {
      return await wait;
    } finally {
      clearInterval(ticker);
    }
  })();
  say(`started in ${pn(startedEvent.timestamp / devnet.period)}`);
  console.log(slotTable(devnet, view));

  /** Step 7: a fresh node fetches the file from the hosts alone (the client is stopped meanwhile). */
  async function downloadFromHosts(): Promise<boolean> {
    heading("7. The file, downloaded from the hosts while they store it");
    await devnet.client.stop();
    say("the client node is stopped: only the hosts hold the data");
    const reader = await devnet.addNode("reader", "reader");
    // The hosts store the verifiable dataset the client made of the upload (the request's content).
    const stored = String(purchase.manifestCid ?? cid);
    say(`a new node (no chain account) fetches ${stored} from the network`);
    const stream = await reader.api.download(stored, { network: true });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const downloaded = Buffer.concat(chunks);
    const identical = downloaded.equals(file);
    say(
      identical
        ? green(
            bold(`downloaded ${downloaded.length} bytes: identical to the upload, byte for byte`),
          )
        : red(bold(`downloaded ${downloaded.length} bytes: NOT the uploaded file`)),
    );
    await devnet.client.start();
    say("the client node is started again, to collect what is left at the end");
    return identical;
  }

  heading("5. Proofs, period by period (chain time skips ahead once a period's proofs are in)");
  const end = await devnet.market.requestEnd(view.requestId);
  const stopped = new Set<string>();
  let victim: DevnetNode | undefined;
  let victimChosen = false;
  let proofPeriods = 0;
  let same: boolean | undefined;
  for (;;) {
    const now = await devnet.chain.now();
    if (now >= end) break;
    // Hosts delete a slot's data once its request has ended: the file is fetched while they
    // store it, once the stopped host's slot is repaired (or in the last periods before the end).
    const allHeld = view.holders().every((t) => t && !stopped.has(t.host.toLowerCase()));
    const late = now + 2n * devnet.period >= end;
    if (same === undefined && ((victimChosen && allHeld) || late)) same = await downloadFromHosts();
    const report = await runPeriod(view, (host) => !stopped.has(host.toLowerCase()), {
      onWait: (pending) => status(`${pn(now / devnet.period)}: waiting for ${pending.join(", ")}`),
      waitForRepairs: true,
    });
    const cells = report.slots.map((s) => {
      const mark = s.outcome === "proved" ? green("proved") : red("missed");
      return `slot ${s.slotIndex} ${devnet.nameOf(s.host)} ${mark}`;
    });
    if (cells.length > 0) {
      proofPeriods++;
      say(bold(`${pn(report.period)}: `) + cells.join(" | "));
    }
    if (proofPeriods === 2 && !victimChosen) {
      victimChosen = true;
      // A host with one slot of the request: losing it stays within the request's tolerance.
      const holders = view.holders().filter((t) => t !== undefined);
      const holder = holders.find((t) => holders.filter((o) => o.host === t.host).length === 1);
      if (!holder) {
        say(
          yellow(
            "every host holds several slots: stopping one would fail the request; none is stopped",
          ),
        );
      } else {
        victim = devnet.nodeOf(holder.host)!;
        heading(
          `6. ${victim.name} (slot ${holder.slotIndex}) is stopped on purpose: it will miss proofs`,
        );
        await victim.kill();
        stopped.add(holder.host.toLowerCase());
        say(red(`${victim.name} killed (SIGKILL); the validator will mark its missed proofs`));
      }
    }
  }
  say(`the request's end (${pn(end / devnet.period)}) is reached`);
  console.log(slotTable(devnet, view));

  heading("8. The request finishes; everyone collects; hosts delete the data");
  // Hosts that still hold a slot collect; a stopped one cannot (without a validator it is never removed).
  const paid = view.holders().filter((t) => t && !stopped.has(t.host.toLowerCase())).length;
  const collecting = setInterval(() => {
    const slotsPaid = view.events("SlotPaid").length;
    const withdrawn = view.events("FundsWithdrawn").length;
    status(
      `waiting for payouts: ${slotsPaid}/${paid} hosts paid, client ${withdrawn ? "withdrew" : "to withdraw"}`,
    );
  }, 1000);
  try {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      await devnet.observer.poll();
      if (view.events("SlotPaid").length >= paid && view.events("FundsWithdrawn").length > 0) break;
      await sleep(1000);
    }
  } finally {
    clearInterval(collecting);
  }
  say(`request state: ${await devnet.market.requestState(view.requestId)}`);
  const rows = [["actor", "token change over the request"]];
  for (const node of actors) {
    const before = balancesBefore.get(node.name)!;
    const after = await devnet.tokenBalance(node.account!.address);
    const change = after - before;
    rows.push([
      node.name + (node === victim ? " (killed)" : ""),
      (change > 0n ? green : change < 0n ? red : (s: string) => s)(
        `${change > 0n ? "+" : ""}${amount(change)}`,
      ),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => visible(r[c]!).length)));
  for (const [i, r] of rows.entries()) {
    const line = `  ${r.map((cell, c) => cell.padEnd(widths[c]! + cell.length - visible(cell).length)).join("  ")}`;
    console.log(i === 0 ? bold(line) : line);
  }

  heading("Done");
  await devnet.stop();
  say(
    `every process stopped; the demo took ${((Date.now() - started) / 60000).toFixed(1)} minutes`,
  );
  return same === true ? 0 : 1;
}

process.exitCode = await main();
