import { pino, type Logger } from "pino";
import type { LogLevel } from "./config/options.js";

/** Structured JSON logs on stdout (pino), one line per event. */
export function createLogger(
  level: LogLevel,
  destination: NodeJS.WritableStream = process.stdout,
): Logger {
  return pino(
    { level, base: { name: "holdfast" }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
}
