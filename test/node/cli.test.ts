import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const bin = path.join(repoRoot, "node", "bin", "holdfast.js");
const { version } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  version: string;
};

// Runs the real bin (the built node) as a user would, in its own process.
function holdfast(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("holdfast command", function () {
  this.timeout(60_000);

  it("prints the package version with --version", function () {
    const { code, stdout } = holdfast(["--version"]);
    expect(code).to.equal(0);
    expect(stdout.trim()).to.equal(version);
  });

  it("prints usage with --help and with no arguments", function () {
    for (const args of [["--help"], []]) {
      const { code, stdout } = holdfast(args);
      expect(code).to.equal(0);
      expect(stdout).to.match(/^holdfast \d+\.\d+\.\d+/);
      for (const word of [
        "--version",
        "holdfast start",
        "dataset inspect",
        "--data-dir",
        "HOLDFAST_API_PORT",
      ]) {
        expect(stdout).to.include(word);
      }
    }
  });

  it("rejects an unknown flag with exit code 2 and a pointer to --help", function () {
    const { code, stderr } = holdfast(["--frobnicate"]);
    expect(code).to.equal(2);
    expect(stderr).to.include("--frobnicate");
    expect(stderr).to.include("holdfast --help");
  });

  it("rejects an unknown command with exit code 2", function () {
    const { code, stderr } = holdfast(["fly"]);
    expect(code).to.equal(2);
    expect(stderr).to.include('unknown command "fly"');
  });

  describe("start", function () {
    it("refuses invalid flags, environment and config file values with exit code 2", async function () {
      const dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-cli-"));
      try {
        const file = path.join(dir, "config.json");
        await writeFile(file, JSON.stringify({ apiPort: "http" }));
        const { code, stderr } = holdfast(["start", "--config", file, "--storage-quota", "lots"], {
          HOLDFAST_LOG_LEVEL: "chatty",
        });
        expect(code).to.equal(2);
        expect(stderr).to.include("--storage-quota");
        expect(stderr).to.include("HOLDFAST_LOG_LEVEL");
        expect(stderr).to.include(`"apiPort" in ${file}`);
        expect(holdfast(["start", "--no-such-flag"]).code).to.equal(2);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe("dataset inspect", function () {
    it("explains missing or malformed arguments with exit code 2", function () {
      expect(holdfast(["dataset", "inspect", "x.bin"]).stderr).to.include("--ec K+M");
      expect(holdfast(["dataset", "inspect", "--ec", "4+2"]).stderr).to.include("exactly one file");
      const bad = holdfast(["dataset", "inspect", "x.bin", "--ec", "4-2"]);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.include("K+M");
      expect(holdfast(["dataset", "inspect", "x.bin", "--ec", "250+10"]).stderr).to.include(
        "at most 256",
      );
      expect(holdfast(["dataset", "frobnicate"]).code).to.equal(2);
      const missing = holdfast([
        "dataset",
        "inspect",
        path.join(os.tmpdir(), "no-such-file.bin"),
        "--ec",
        "2+1",
      ]);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.include("cannot read");
    });
  });
});

describe("holdfast dataset inspect against a running node", function () {
  this.timeout(120_000);

  it("prints the tree id, slot roots and dataset root the node commits to when protecting", async function () {
    const { startNode, stopNode } = await import("./api/process.js");
    const dir = await mkdtemp(path.join(os.tmpdir(), "holdfast-inspect-"));
    const node = await startNode(path.join(dir, "data"));
    try {
      const file = path.join(dir, "file.bin");
      const bytes = new Uint8Array(3 * 65536 + 12_345).map((_, i) => (i * 7919) % 251);
      await writeFile(file, bytes);
      const uploaded = (await (
        await fetch(`${node.url}/data`, { method: "POST", body: bytes })
      ).json()) as { id: string; manifest: { treeCid: string } };
      const protectedResponse = await fetch(`${node.url}/data/${uploaded.id}/protect`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ecK: 2, ecM: 1 }),
      });
      expect(protectedResponse.status).to.equal(201);
      const { manifest } = (await protectedResponse.json()) as {
        manifest: { treeCid: string; verifiable: { slotRoots: string[]; datasetRoot: string } };
      };
      const inspected = holdfast(["dataset", "inspect", file, "--ec", "2+1", "--json"]);
      expect(inspected.code, inspected.stderr).to.equal(0);
      const result = JSON.parse(inspected.stdout) as Record<string, unknown>;
      expect(result).to.deep.include({
        treeCid: uploaded.manifest.treeCid,
        protectedTreeCid: manifest.treeCid,
        slotRoots: manifest.verifiable.slotRoots,
        datasetRoot: manifest.verifiable.datasetRoot,
      });
      const text = holdfast(["dataset", "inspect", file, "--ec", "2+1"]);
      expect(text.stdout).to.include(manifest.verifiable.datasetRoot);
      expect(text.stdout).to.include(uploaded.manifest.treeCid);
    } finally {
      await stopNode(node);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
