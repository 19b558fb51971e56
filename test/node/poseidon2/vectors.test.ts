import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import {
  bytesToElements,
  merkleRoot,
  permute,
  sponge,
  toBytesLE,
} from "../../../node/src/poseidon2/index.js";
import * as codex from "./codex-vectors.js";

// test/vectors holds a verbatim copy of the team's shared/vectors/poseidon2-bn254-t3.json (which
// lives outside the repository), so the test runs in any checkout.
const kat = JSON.parse(
  readFileSync(
    path.join(import.meta.dirname, "..", "..", "vectors", "poseidon2-bn254-t3.json"),
    "utf8",
  ),
) as {
  permutation: { input: string[]; output: string[] };
  wrong_constant_set: { output: string[] };
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i + 1));

describe("poseidon2: known answers", function () {
  it("permutes the shared known-answer input to the February 2023 constant set's output", function () {
    const [a, b, c] = kat.permutation.input.map(BigInt) as [bigint, bigint, bigint];
    const out = permute([a, b, c]);
    expect(out).to.deep.equal(kat.permutation.output.map(BigInt));
    // The June 2023 constants give a different answer; getting it would mean the wrong set.
    const wrong = kat.wrong_constant_set.output.map(BigInt);
    out.forEach((x, i) => expect(x).to.not.equal(wrong[i]));
  });

  it("matches Codex's permutation vector (nim-poseidon2 testPermutation.nim)", function () {
    expect(permute([0n, 1n, 2n])).to.deep.equal(codex.PERMUTATION_OF_0_1_2.map(BigInt));
  });

  it("matches Codex's sponge vectors for rates 1 and 2 over 1..n, n = 0..7", function () {
    for (let n = 0; n <= 7; n++) {
      expect(sponge(oneTo(n), 1), `rate 1, n = ${n}`).to.equal(BigInt(codex.SPONGE_RATE_1[n]!));
      expect(sponge(oneTo(n), 2), `rate 2, n = ${n}`).to.equal(BigInt(codex.SPONGE_RATE_2[n]!));
      expect(sponge(oneTo(n)), `default rate, n = ${n}`).to.equal(BigInt(codex.SPONGE_RATE_2[n]!));
    }
  });

  it("matches Codex's Merkle roots over the elements 1..n, n = 1..40", function () {
    for (let n = 1; n <= 40; n++)
      expect(merkleRoot(oneTo(n)), `n = ${n}`).to.equal(
        BigInt(codex.MERKLE_ROOTS_OF_ELEMENTS[n - 1]!),
      );
  });

  it("matches Codex's Merkle roots over the bytes 1..n, n = 0..80", function () {
    for (let n = 0; n <= 80; n++) {
      const bytes = Uint8Array.from(oneTo(n), Number);
      expect(merkleRoot(bytesToElements(bytes)), `n = ${n}`).to.equal(
        BigInt(codex.MERKLE_ROOTS_OF_BYTES[n]!),
      );
    }
    const bytes80 = Uint8Array.from(oneTo(80), Number);
    expect(hex(toBytesLE(merkleRoot(bytesToElements(bytes80))))).to.equal(
      codex.MERKLE_ROOT_OF_BYTES_1_TO_80_LE_HEX,
    );
    expect(hex(toBytesLE(merkleRoot(bytesToElements(new Uint8Array(0)))))).to.equal(
      codex.MERKLE_ROOT_OF_NO_BYTES_LE_HEX,
    );
  });

  it("matches Codex's root of the 2^17-leaf tree over 1..2^17", function () {
    this.timeout(120_000);
    expect(hex(toBytesLE(merkleRoot(oneTo(2 ** 17))))).to.equal(
      codex.MERKLE_ROOT_OF_1_TO_2_POW_17_LE_HEX,
    );
  });
});
