/**
 * Child processes of a devnet: each runs in its own process group (so a chain started through a
 * wrapper, or a node with worker threads, is stopped as a whole), writes to its own log file, and is
 * stopped with SIGTERM, then SIGKILL if it does not exit in time. Every live child is remembered, so
 * that `installCleanup` can stop them all when the program ends for any reason: a signal (Ctrl-C),
 * an uncaught exception or a normal exit. Only a SIGKILL of the program itself can orphan children.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, rmSync } from "node:fs";
import { once } from "node:events";

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process has exited. */
  exited: Promise<number | string>;
  /** Whether the process has exited. */
  readonly done: boolean;
}

const live = new Set<ManagedProcess>();

/** Starts `command args` in a new process group with stdout and stderr appended to `logFile`. */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<ManagedProcess> {
  const log = createWriteStream(options.logFile, { flags: "a" });
  await once(log, "open");
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true, // own process group: Ctrl-C reaches only us, we stop the children in order
    stdio: ["ignore", log, log],
  });
  if (child.pid === undefined) {
    log.close();
    const [error] = (await once(child, "error")) as [Error];
    throw new Error(`cannot start ${name}: ${error.message}`);
  }
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      log.close();
      resolve(code ?? signal ?? "unknown");
    });
  });
  const managed: ManagedProcess = {
    name,
    pid: child.pid,
    logFile: options.logFile,
    child,
    exited,
    get done() {
      return done;
    },
  };
  live.add(managed);
  void exited.then(() => live.delete(managed));
  return managed;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Stops the process and everything in its group: SIGTERM (or `signal`), then SIGKILL after
 * `graceMs`. Resolves when the process has exited.
 */
export async function stopProcess(
  proc: ManagedProcess,
  options: { graceMs?: number; signal?: NodeJS.Signals } = {},
): Promise<void> {
  if (proc.done) {
    signalGroup(proc.pid, "SIGKILL"); // leftovers of the group, if any
    return;
  }
  signalGroup(proc.pid, options.signal ?? "SIGTERM");
  const timer = setTimeout(() => signalGroup(proc.pid, "SIGKILL"), options.graceMs ?? 10_000);
  await proc.exited;
  clearTimeout(timer);
  signalGroup(proc.pid, "SIGKILL");
}

/** Kills the process group at once (a crash, as far as the process can tell). */
export async function killProcess(proc: ManagedProcess): Promise<void> {
  await stopProcess(proc, { signal: "SIGKILL", graceMs: 0 });
}

/** The processes started and not yet exited. */
export function liveProcesses(): ManagedProcess[] {
  return [...live];
}

const scratch = new Set<string>();

/** A folder to delete when the program exits without cleaning up (a crash). */
export function removeOnExit(dir: string, remove: boolean): void {
  if (remove) scratch.add(dir);
  else scratch.delete(dir);
}

/**
 * Kills every live child at once, synchronously (for process exit, where nothing can be awaited),
 * and deletes the scratch folders.
 */
export function killAllNow(): void {
  for (const proc of live) signalGroup(proc.pid, "SIGKILL");
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}

let installed = false;

/**
 * Makes sure no child outlives the program: on SIGINT/SIGTERM `onSignal` runs (an orderly stop) and
 * the program exits with 130/143; on an uncaught exception or unhandled rejection the error is
 * printed and the children are killed; on any exit the remaining ones are killed.
 */
export function installCleanup(onSignal: (signal: NodeJS.Signals) => Promise<void>): void {
  if (installed) return;
  installed = true;
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C: stop waiting.
      killAllNow();
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    const force = setTimeout(() => {
      killAllNow();
      process.exit(1);
    }, 30_000);
    force.unref();
    onSignal(signal)
      .catch((error: unknown) => process.stderr.write(`error while stopping: ${String(error)}\n`))
      .finally(() => {
        killAllNow();
        process.exit(signal === "SIGINT" ? 130 : 143);
      });
  };
  process.on("SIGINT", handle);
  process.on("SIGTERM", handle);
  process.on("exit", killAllNow);
  const crash = (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    killAllNow();
    process.exit(1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}
