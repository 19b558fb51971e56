import { createHash } from "node:crypto";

/**
 * Reproducible pseudo-random bytes for tests (SHA-256 in counter mode over a seed), so a failure
 * shows the same inputs on every run and machine.
 */
export class DeterministicRandom {
  private counter = 0;

  constructor(private readonly seed: string) {}

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let filled = 0; filled < length; filled += 32) {
      const block = createHash("sha256").update(`${this.seed}/${this.counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, length - filled)), filled);
    }
    return out;
  }

  /** An integer in [0, 2^256) read little-endian. */
  bigint256(): bigint {
    return this.bytes(32).reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  }

  /** A field element: uniform-ish below r, with the edges (0, 1, r-1, r-2, 2^253) mixed in. */
  element(r: bigint): bigint {
    const pick = this.bytes(1)[0]!;
    if (pick < 8)
      return [0n, 1n, r - 1n, r - 2n, 1n << 253n, 2n, r >> 1n, (1n << 64n) + 770n][pick]!;
    return this.bigint256() % r;
  }
}
