/** Progress lines for long build steps, on stderr so that stdout stays machine-readable. */
export interface ProgressLog {
  (message: string): void;
}

export function stderrLog(prefix: string): ProgressLog {
  const start = Date.now();
  return (message: string) => {
    const seconds = ((Date.now() - start) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${prefix} ${seconds}s] ${message}\n`);
  };
}

export const silentLog: ProgressLog = () => {};

/**
 * Adapts a ProgressLog to the logger interface snarkjs expects. snarkjs reports every chunk of
 * long loops at debug level; only its info lines are worth showing.
 */
export function snarkjsLogger(log: ProgressLog) {
  return {
    debug: () => {},
    // newAccumulator reports every 100,000 points through log() (powers of 2^16 and up).
    log: () => {},
    info: (msg: string) => log(msg),
    warn: (msg: string) => log(`warning: ${msg}`),
    error: (msg: string) => log(`error: ${msg}`),
  };
}
