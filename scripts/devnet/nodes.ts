/**
 * Holdfast nodes of the devnet, each a `holdfast start` process with its own data folder, ports,
 * account and log file. A node can be stopped (SIGTERM, an orderly shutdown), killed (SIGKILL, a
 * crash) and started again on the same folder, ports and account.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { NodeApi } from "../../node/src/cli/api-client.js";
import { repoRoot } from "../lib/paths.js";
import type { DevAccount } from "./accounts.js";
import { freePorts } from "./ports.js";
import { type ManagedProcess, killProcess, startProcess, stopProcess } from "./processes.js";

export type NodeRole = "client" | "host" | "validator" | "reader";

export interface DevnetNodeOptions {
  name: string;
  role: NodeRole;
  /** Folder under which the node gets <name>/ (data) and <name>.log. */
  dir: string;
  /** Chain settings; absent for a node without marketplace roles. */
  chain?: { url: string; marketplace: string; account: DevAccount };
  /** Folder of the dev circuit's artifacts (hosts prove with it). */
  circuitDir?: string;
  /** Multiaddrs (with /p2p/<id>) of nodes to join through. */
  bootstrap?: string[];
  /** Extra `holdfast start` flags. */
  extraArgs?: string[];
  logLevel?: string;
}

export class DevnetNode {
  readonly api: NodeApi;
  #process: ManagedProcess | undefined;
  /** Multiaddr peers dial, with the peer id. */
  address = "";
  peerId = "";
  /** Times the node was started. */
  starts = 0;

  private constructor(
    readonly options: DevnetNodeOptions,
    readonly apiPort: number,
    readonly p2pPort: number,
  ) {
    this.api = new NodeApi(`http://127.0.0.1:${apiPort}`, { timeoutMs: 120_000 });
  }

  static async create(options: DevnetNodeOptions): Promise<DevnetNode> {
    const [apiPort, p2pPort] = (await freePorts(2)) as [number, number];
    return new DevnetNode(options, apiPort, p2pPort);
  }

  get name(): string {
    return this.options.name;
  }

  get dataDir(): string {
    return path.join(this.options.dir, this.options.name);
  }

  get logFile(): string {
    return path.join(this.options.dir, `${this.options.name}.log`);
  }

  get account(): DevAccount | undefined {
    return this.options.chain?.account;
  }

  get running(): boolean {
    return this.#process !== undefined && !this.#process.done;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  args(): string[] {
    const o = this.options;
    const args = [
      path.join(repoRoot, "node", "bin", "holdfast.js"),
      "start",
      "--data-dir",
      this.dataDir,
      "--api-port",
      String(this.apiPort),
      "--listen-addrs",
      `/ip4/127.0.0.1/tcp/${this.p2pPort}`,
      "--log-level",
      o.logLevel ?? "info",
      "--network-timeout",
      "15000",
    ];
    for (const peer of o.bootstrap ?? []) args.push("--bootstrap-node", peer);
    if (o.chain) {
      args.push(
        "--eth-provider",
        o.chain.url,
        "--eth-private-key",
        o.chain.account.privateKey,
        "--marketplace-address",
        o.chain.marketplace,
        "--eth-confirmations",
        "0",
        "--eth-poll-interval",
        "500",
      );
    }
    if (o.role === "host") {
      if (!o.circuitDir) throw new Error(`host ${o.name} needs the circuit folder`);
      args.push("--persistence", "--circuit-dir", o.circuitDir, "--sales-workers", "1");
    }
    if (o.role === "validator") args.push("--validator");
    args.push(...(o.extraArgs ?? []));
    return args;
  }

  /** Starts the process and waits until its API answers (`timeoutMs`). */
  async start(timeoutMs = 120_000): Promise<void> {
    if (this.running) throw new Error(`${this.name} is running already`);
    await mkdir(this.dataDir, { recursive: true });
    this.#process = await startProcess(this.name, process.execPath, this.args(), {
      logFile: this.logFile,
      cwd: repoRoot,
    });
    this.starts++;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#process.done) {
        throw new Error(
          `${this.name} exited at start (${await this.#process.exited}); see ${this.logFile}`,
        );
      }
      try {
        const peer = await new NodeApi(this.api.url, { timeoutMs: 2_000 }).peer();
        this.peerId = peer.id;
        this.address = `/ip4/127.0.0.1/tcp/${this.p2pPort}/p2p/${peer.id}`;
        return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        await killProcess(this.#process);
        throw new Error(`${this.name} did not start within ${timeoutMs} ms; see ${this.logFile}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** An orderly stop (SIGTERM); SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.#process) await stopProcess(this.#process, { graceMs });
  }

  /** A crash: SIGKILL to the node's process group. */
  async kill(): Promise<void> {
    if (this.#process) await killProcess(this.#process);
  }
}
