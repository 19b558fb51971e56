/**
 * A mocha root hook that ends the test process if something (a worker thread, a socket, a timer that
 * a library leaves behind) keeps it alive after every test has run: a test run must end by itself,
 * or CI waits until its time-out. It waits `graceMs` so that mocha and Hardhat finish reporting and
 * set the exit code, then exits with that code and names what was still open, so the leak can be
 * found. The timer is unref'd: a process with nothing left open exits normally before it fires.
 */
export function exitGuard(graceMs = 15_000): () => void {
  return () => {
    setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== "Timeout");
      process.stderr.write(
        `exit-guard: tests are done but the process was still held open by: ${open.join(", ")}\n`,
      );
      process.exit();
    }, graceMs).unref();
  };
}
