import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Git-ignored build folder inside the repository (circuit artifacts, keyed by content hash). */
export const buildDir = path.join(repoRoot, "build");

/**
 * Cache folder outside the repository, shared by clones on one machine: the Node 22 bootstrap and
 * the powers-of-tau files, which are slow to make and depend on nothing in the repository.
 */
export function cacheDir(): string {
  return process.env.HOLDFAST_CACHE ?? path.join(homedir(), ".cache", "holdfast");
}
