import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { findForbiddenOpcodes } from "../../scripts/lib/evm-opcodes.js";
import { compileSolidity } from "../helpers/solc.js";

const artifactsDir = path.resolve(import.meta.dirname, "..", "..", "artifacts", "contracts");

async function artifactFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await artifactFiles(full)));
    else if (entry.name.endsWith(".json") && !entry.name.endsWith(".dbg.json")) files.push(full);
  }
  return files;
}

describe("Taiko compatibility: no Cancun-only opcodes", function () {
  it("finds them in hand-made bytecode, and skips PUSH data and the metadata trailer", function () {
    expect(findForbiddenOpcodes("0x5f5d")).to.deep.equal([{ offset: 1, name: "TSTORE" }]);
    expect(findForbiddenOpcodes("0x5c5e4a49").map((f) => f.name)).to.deep.equal([
      "TLOAD",
      "MCOPY",
      "BLOBBASEFEE",
      "BLOBHASH",
    ]);
    expect(findForbiddenOpcodes("0x615c5d00")).to.deep.equal([]); // PUSH2 0x5c5d, STOP
    expect(findForbiddenOpcodes("0x00a1015d0003")).to.deep.equal([]); // STOP + 3-byte CBOR trailer
  });

  it("skips dead bytes (data) after a halt or jump, up to the next JUMPDEST", function () {
    for (const halt of ["00", "56", "f3", "fd", "fe", "ff"]) {
      expect(findForbiddenOpcodes(`0x${halt}305d`), halt).to.deep.equal([]);
      expect(findForbiddenOpcodes(`0x${halt}5b5d`), halt).to.deep.equal([
        { offset: 2, name: "TSTORE" },
      ]);
    }
    // A 0x5b inside PUSH data is no JUMPDEST, so the dead region goes on.
    expect(findForbiddenOpcodes("0xfe605b5d")).to.deep.equal([]);
    // Code after a conditional jump (JUMPI) is live.
    expect(findForbiddenOpcodes("0x575d")).to.deep.equal([{ offset: 1, name: "TSTORE" }]);
  });

  it("finds TSTORE and TLOAD in a contract compiled for Cancun", function () {
    const source = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;
contract Transient {
  function f(uint256 x) external returns (uint256 y) { assembly { tstore(0, x) y := tload(0) } }
}`;
    const { bytecode } = compileSolidity("Transient.sol", source, "Transient", "cancun");
    expect(findForbiddenOpcodes(bytecode).map((f) => f.name)).to.include.members([
      "TSTORE",
      "TLOAD",
    ]);
  });

  it("appear in no compiled contract of this repository", async function () {
    const files = await artifactFiles(artifactsDir);
    let checked = 0;
    for (const file of files) {
      const artifact = JSON.parse(await readFile(file, "utf8")) as {
        bytecode?: string;
        deployedBytecode?: string;
      };
      for (const code of [artifact.bytecode, artifact.deployedBytecode]) {
        if (!code || code === "0x") continue;
        expect(findForbiddenOpcodes(code), `${path.relative(artifactsDir, file)}`).to.deep.equal(
          [],
        );
        checked++;
      }
    }
    expect(checked, "number of bytecodes checked").to.be.greaterThan(0);
  });
});
