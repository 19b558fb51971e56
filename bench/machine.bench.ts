import { createHash, randomBytes } from "node:crypto";
import { type Benchmark, opsPerSecond } from "./harness.js";

// The machine's own reference speeds, against which the node's data paths are judged (uploads
// should run near SHA-256 speed on 64 KiB blocks).
const bench: Benchmark = {
  name: "machine",
  description: "reference speeds of this machine (SHA-256 over 64 KiB blocks, one core)",
  async run() {
    const block = randomBytes(64 * 1024);
    const perSecond = opsPerSecond(() => createHash("sha256").update(block).digest(), 2000);
    return [
      {
        subject: "node:crypto sha256",
        metric: "64 KiB blocks",
        value: (perSecond * block.length) / 1e6,
        unit: "MB/s",
      },
    ];
  },
};
export default bench;
