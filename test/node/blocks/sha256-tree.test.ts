import { createHash, randomBytes } from "node:crypto";
import { expect } from "chai";
import {
  Sha256TreeBuilder,
  sha256TreeLayers,
  sha256TreeProof,
  sha256TreeRoot,
  verifySha256TreeProof,
} from "../../../node/src/blocks/sha256-tree.js";

const leaf = () => new Uint8Array(randomBytes(32));
const h = (...parts: Uint8Array[]) => {
  const hash = createHash("sha256");
  for (const p of parts) hash.update(p);
  return new Uint8Array(hash.digest());
};
const ZERO = new Uint8Array(32);

describe("SHA-256 dataset tree", function () {
  it("follows the keyed construction for 1, 2 and 3 leaves", function () {
    const [a, b, c] = [leaf(), leaf(), leaf()];
    expect(sha256TreeRoot([a])).to.deep.equal(h(a, ZERO, Uint8Array.of(3)));
    expect(sha256TreeRoot([a, b])).to.deep.equal(h(a, b, Uint8Array.of(1)));
    const left = h(a, b, Uint8Array.of(1));
    const right = h(c, ZERO, Uint8Array.of(3));
    expect(sha256TreeRoot([a, b, c])).to.deep.equal(h(left, right, Uint8Array.of(0)));
  });

  it("builds the same root streaming as layer by layer, for 1 to 70 leaves", function () {
    const leaves = Array.from({ length: 70 }, leaf);
    for (let n = 1; n <= 70; n++) {
      const builder = new Sha256TreeBuilder();
      for (const l of leaves.slice(0, n)) builder.push(l);
      expect(builder.root(), `n=${n}`).to.deep.equal(
        sha256TreeLayers(leaves.slice(0, n)).at(-1)![0],
      );
    }
  });

  it("proves every leaf of odd-sized trees and rejects a wrong leaf or index", function () {
    for (const n of [1, 3, 5, 7, 13]) {
      const leaves = Array.from({ length: n }, leaf);
      const root = sha256TreeRoot(leaves);
      for (let i = 0; i < n; i++) {
        const path = sha256TreeProof(leaves, i);
        expect(verifySha256TreeProof(root, leaves[i]!, i, n, path), `n=${n} i=${i}`).to.equal(true);
        expect(verifySha256TreeProof(root, leaf(), i, n, path)).to.equal(false);
        if (n > 1)
          expect(verifySha256TreeProof(root, leaves[i]!, (i + 1) % n, n, path)).to.equal(false);
      }
    }
  });

  it("refuses an empty tree", function () {
    expect(() => new Sha256TreeBuilder().root()).to.throw(/at least one leaf/);
  });
});
