/** Runs the built node (`holdfast start`) as a child process, as a user would. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");
export const bin = path.join(repoRoot, "node", "bin", "holdfast.js");

export interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
}

/** Starts `holdfast start` and waits for its "API listening" log line. */
export async function startNode(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Running> {
  // A free peer-to-peer port too: the default (8070) may be taken by another node on this machine.
  const args = ["start", "--data-dir", dataDir, "--api-port", "0"];
  args.push("--listen-addrs", "/ip4/127.0.0.1/tcp/0");
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code)),
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`node did not start: ${stderr}`)), 20_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split("\n")) {
        if (!line.includes('"API listening"')) continue;
        clearTimeout(timer);
        resolve(`${(JSON.parse(line) as { address: string }).address}/api/v1`);
      }
    });
    void exited.then(() => reject(new Error(`node exited: ${stderr}`)));
  });
  return { child, url, exited };
}

export async function stopNode(node: Running): Promise<void> {
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill("SIGTERM");
  await node.exited;
}
