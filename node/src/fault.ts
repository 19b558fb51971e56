/**
 * Crash points for the crash-safety tests: with HOLDFAST_CRASH_AT=<name> in its environment the
 * process kills itself (SIGKILL, like a power cut to the process) when it reaches that point, so a
 * test can stop a real node exactly between two steps of a commit. Unset, this does nothing.
 */
export function crashPoint(name: string): void {
  if (process.env.HOLDFAST_CRASH_AT === name) process.kill(process.pid, "SIGKILL");
}
