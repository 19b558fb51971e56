import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { isHoldfastError } from "../../../node/src/errors.js";
import { ReedSolomon } from "../../../node/src/erasure/reed-solomon.js";
import { inv, mul } from "../../../node/src/erasure/gf256.js";

function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size), ...subsets(n - 1, size - 1).map((s) => [...s, n - 1])];
}

const shardsOf = (k: number, size: number) =>
  Array.from({ length: k }, () => new Uint8Array(randomBytes(size)));

describe("Reed-Solomon over GF(2^8)", function () {
  it("has a field where every nonzero element has an inverse", function () {
    for (let a = 1; a < 256; a++) expect(mul(a, inv(a))).to.equal(1);
    expect(mul(0x80, 2)).to.equal(0x1d); // reduction by 0x11d
  });

  for (const [k, m] of [
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 3],
    [5, 5],
  ] as const) {
    it(`K=${k} M=${m}: every way of losing M shards decodes`, function () {
      const code = new ReedSolomon(k, m);
      const data = shardsOf(k, 64);
      const all = [...data, ...code.encode(data)];
      for (const lost of subsets(k + m, m)) {
        const shards = all.map((s, i) => (lost.includes(i) ? null : s));
        expect(code.decode(shards), `lost ${lost.join(",")}`).to.deep.equal(data);
      }
    });
  }

  it("K+M = 256 (the maximum): random losses of M shards decode", function () {
    const code = new ReedSolomon(200, 56);
    const data = shardsOf(200, 16);
    const all = [...data, ...code.encode(data)];
    for (let trial = 0; trial < 3; trial++) {
      const order = [...all.keys()].sort(() => Math.random() - 0.5);
      const lost = new Set(order.slice(0, 56));
      expect(code.decode(all.map((s, i) => (lost.has(i) ? null : s)))).to.deep.equal(data);
    }
  });

  it("fails clearly with fewer than K shards", function () {
    const code = new ReedSolomon(3, 2);
    const data = shardsOf(3, 8);
    const all: (Uint8Array | null)[] = [...data, ...code.encode(data)];
    all[0] = all[1] = all[4] = null;
    try {
      code.decode(all);
      expect.fail("decoded from 2 of 5 shards");
    } catch (error) {
      expect(isHoldfastError(error, "ERR_DECODE_FAILED")).to.equal(true);
    }
  });

  it("rejects parameters outside 1 <= K, 1 <= M, K + M <= 256", function () {
    for (const [k, m] of [
      [0, 1],
      [1, 0],
      [200, 57],
      [1.5, 2],
    ]) {
      expect(() => new ReedSolomon(k!, m!)).to.throw(/K \+ M <= 256/);
    }
  });
});
