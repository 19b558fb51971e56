import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { cacheDir } from "../lib/paths.js";
import { type ProgressLog, silentLog, snarkjsLogger } from "../lib/log.js";
import { releaseSnarkjsWorkers } from "./snarkjs-runtime.js";

/** Bump when the ceremony's steps change, so that old cached files are not reused. */
const CEREMONY_VERSION = 1;
/** Fixed public beacon that closes the local ceremony (any public value does for a dev setup). */
export const LOCAL_BEACON = "486f6c64666173742064657620626561636f6e2c206e6f7420666f722075736521";

/** Largest power the tooling accepts: snarkjs's bn128 limit is 28. */
const MAX_POWER = 28;

export function ptauPath(power: number): string {
  return path.join(cacheDir(), "ptau", `holdfast-local-pot${power}-v${CEREMONY_VERSION}.ptau`);
}

/**
 * Returns a phase-2-prepared powers-of-tau file for circuits of up to 2^power constraints, running
 * a local ceremony (new, one random contribution, beacon, prepare phase2) the first time and caching
 * the result outside the repository. A local ceremony has one contributor and so is only fit for
 * tests and the local network; production uses a published ceremony (see README).
 */
export async function ensurePtau(power: number, log: ProgressLog = silentLog): Promise<string> {
  if (!Number.isInteger(power) || power < 1 || power > MAX_POWER) {
    throw new Error(`powers of tau: power must be an integer in 1..${MAX_POWER}, got ${power}`);
  }
  const final = ptauPath(power);
  if (existsSync(final)) return final;

  const work = `${final}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const logger = snarkjsLogger(log);
  const step = (n: number) => path.join(work, `step${n}.ptau`);
  try {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    log(`powers of tau 2^${power}: new accumulator`);
    await snarkjs.powersOfTau.newAccumulator(curve, power, step(0), logger);
    log(`powers of tau 2^${power}: contribution`);
    await snarkjs.powersOfTau.contribute(
      step(0),
      step(1),
      "holdfast local",
      randomBytes(32).toString("hex"),
      logger,
    );
    log(`powers of tau 2^${power}: beacon`);
    await snarkjs.powersOfTau.beacon(
      step(1),
      step(2),
      "holdfast local beacon",
      LOCAL_BEACON,
      10,
      logger,
    );
    log(`powers of tau 2^${power}: prepare phase 2 (the slow step)`);
    await snarkjs.powersOfTau.preparePhase2(step(2), step(3), logger);
    await rename(step(3), final);
    log(`powers of tau 2^${power}: ready at ${final}`);
    return final;
  } finally {
    await rm(work, { recursive: true, force: true });
    await releaseSnarkjsWorkers();
  }
}
