import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const bin = path.join(repoRoot, "node", "bin", "holdfast.js");
const { version } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  version: string;
};

// Runs the real bin (the built node) as a user would, in its own process.
function holdfast(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("holdfast command", function () {
  it("prints the package version with --version", function () {
    const { code, stdout } = holdfast("--version");
    expect(code).to.equal(0);
    expect(stdout.trim()).to.equal(version);
  });

  it("prints usage with --help and with no arguments", function () {
    for (const args of [["--help"], []]) {
      const { code, stdout } = holdfast(...args);
      expect(code).to.equal(0);
      expect(stdout).to.match(/^holdfast \d+\.\d+\.\d+/);
      expect(stdout).to.include("--version");
    }
  });

  it("rejects an unknown flag with exit code 2 and a pointer to --help", function () {
    const { code, stderr } = holdfast("--frobnicate");
    expect(code).to.equal(2);
    expect(stderr).to.include("--frobnicate");
    expect(stderr).to.include("holdfast --help");
  });

  it("rejects an unknown command with exit code 2", function () {
    const { code, stderr } = holdfast("fly");
    expect(code).to.equal(2);
    expect(stderr).to.include('unknown command "fly"');
  });
});
