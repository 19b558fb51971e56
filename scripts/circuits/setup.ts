import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { type ProgressLog, silentLog, snarkjsLogger } from "../lib/log.js";
import type { CircuitBuild } from "./compile.js";
import { LOCAL_BEACON } from "./ptau.js";
import { releaseSnarkjsWorkers } from "./snarkjs-runtime.js";

export interface Groth16Setup {
  zkey: string;
  /** Verification key as snarkjs exports it. */
  vkeyJson: string;
  /** SHA-256 of the final zkey file, hex: the marketplace's `zkeyHash` names the setup by it. */
  zkeyHash: string;
}

/**
 * Groth16 phase 2 for a compiled circuit: new zkey from the r1cs and a prepared ptau, one random
 * contribution, a beacon, then the verification key. Cached next to the circuit build, keyed by the
 * ptau file's name (which the ptau tooling keys by its parameters).
 */
export async function groth16Setup(
  build: CircuitBuild,
  ptau: string,
  log: ProgressLog = silentLog,
): Promise<Groth16Setup> {
  const dir = path.join(build.dir, `setup-${path.basename(ptau, ".ptau")}`);
  const record = path.join(dir, "setup.json");
  if (existsSync(record)) return JSON.parse(await readFile(record, "utf8")) as Groth16Setup;

  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const logger = snarkjsLogger(log);
  try {
    log(`groth16 setup for ${build.name}: new zkey`);
    await snarkjs.zKey.newZKey(build.r1cs, ptau, path.join(work, "0.zkey"), logger);
    log(`groth16 setup for ${build.name}: contribution`);
    const entropy = randomBytes(32).toString("hex");
    await snarkjs.zKey.contribute(
      path.join(work, "0.zkey"),
      path.join(work, "1.zkey"),
      "holdfast local",
      entropy,
      logger,
    );
    log(`groth16 setup for ${build.name}: beacon`);
    await snarkjs.zKey.beacon(
      path.join(work, "1.zkey"),
      path.join(work, "final.zkey"),
      "holdfast beacon",
      LOCAL_BEACON,
      10,
      logger,
    );
    const vkey = await snarkjs.zKey.exportVerificationKey(path.join(work, "final.zkey"), logger);
    await writeFile(path.join(work, "verification_key.json"), JSON.stringify(vkey, null, 2));
    await rm(path.join(work, "0.zkey"));
    await rm(path.join(work, "1.zkey"));
    const setup: Groth16Setup = {
      zkey: path.join(dir, "final.zkey"),
      vkeyJson: path.join(dir, "verification_key.json"),
      zkeyHash: await sha256File(path.join(work, "final.zkey")),
    };
    await writeFile(path.join(work, "setup.json"), JSON.stringify(setup, null, 2));
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    log(`groth16 setup for ${build.name}: done, zkey sha256 ${setup.zkeyHash}`);
    return setup;
  } catch (error) {
    await rm(work, { recursive: true, force: true });
    throw error;
  } finally {
    await releaseSnarkjsWorkers();
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
