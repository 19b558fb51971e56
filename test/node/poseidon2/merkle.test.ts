import { expect } from "chai";
import {
  blockTreeRoots,
  cellHashes,
  compress,
  FIELD_MODULUS,
  merkleDepth,
  merkleRoot,
  MerkleTree,
  toBytesLE,
  verifyMerkleProof,
} from "../../../node/src/poseidon2/index.js";
import { DeterministicRandom } from "../../helpers/deterministic-random.js";
import * as reference from "../../helpers/poseidon2-reference.js";

describe("poseidon2: keyed Merkle trees", function () {
  const r = FIELD_MODULUS;
  const random = new DeterministicRandom("merkle");
  const leavesFor = (n: number) => Array.from({ length: n }, () => random.element(r));

  it("builds trees of every size from 1 to 40 with the reference's root", function () {
    this.timeout(60_000);
    for (let n = 1; n <= 40; n++) {
      const leaves = leavesFor(n);
      const expected = reference.merkleRoot(leaves);
      const tree = new MerkleTree(leaves);
      expect(merkleRoot(leaves), `n = ${n}`).to.equal(expected);
      expect(tree.root, `tree, n = ${n}`).to.equal(expected);
      expect(tree.leafCount).to.equal(n);
      expect(tree.depth).to.equal(merkleDepth(n));
      expect(tree.depth).to.equal(reference.merkleLayers(leaves).length - 1);
      leaves.forEach((leaf, i) => expect(tree.leaf(i)).to.equal(leaf));
    }
  });

  it("gives the root of a single leaf x as C(x, 0, key 3) and a one-step proof", function () {
    const x = 123456789n;
    const tree = new MerkleTree([x]);
    expect(tree.root).to.equal(compress(x, 0n, 3));
    expect(tree.root).to.not.equal(x);
    expect(tree.proof(0)).to.deep.equal([0n]);
    expect(verifyMerkleProof(tree.root, x, 0, 1, [0n])).to.equal(true);
    expect(verifyMerkleProof(tree.root, x + 1n, 0, 1, [0n])).to.equal(false);
    expect(verifyMerkleProof(tree.root, x, 0, 1, [1n])).to.equal(false);
  });

  it("proves every leaf of odd-sized trees (1..39), and rejects tampered proofs", function () {
    this.timeout(60_000);
    for (let n = 1; n <= 39; n += 2) {
      const leaves = leavesFor(n);
      const tree = new MerkleTree(leaves);
      for (let i = 0; i < n; i++) {
        const path = tree.proof(i);
        expect(path, `n = ${n}, leaf ${i}`).to.deep.equal(reference.merkleProof(leaves, i));
        expect(verifyMerkleProof(tree.root, leaves[i]!, i, n, path)).to.equal(true);
        // A wrong leaf, another leaf's index, a wrong root.
        expect(verifyMerkleProof(tree.root, (leaves[i]! + 1n) % r, i, n, path)).to.equal(false);
        if (n > 1)
          expect(verifyMerkleProof(tree.root, leaves[i]!, (i + 1) % n, n, path)).to.equal(false);
        expect(verifyMerkleProof((tree.root + 1n) % r, leaves[i]!, i, n, path)).to.equal(false);
        // Any sibling changed, including a 0 where the node was odd.
        path.forEach((sibling, level) => {
          const tampered = [...path];
          tampered[level] = (sibling + 1n) % r;
          expect(
            verifyMerkleProof(tree.root, leaves[i]!, i, n, tampered),
            `level ${level}`,
          ).to.equal(false);
        });
      }
    }
  });

  it("proves every leaf of some even-sized trees", function () {
    for (const n of [2, 4, 6, 8, 16, 32, 40]) {
      const leaves = leavesFor(n);
      const tree = new MerkleTree(leaves);
      for (let i = 0; i < n; i++) {
        const path = tree.proof(i);
        expect(
          verifyMerkleProof(tree.root, leaves[i]!, i, n, path),
          `n = ${n}, leaf ${i}`,
        ).to.equal(true);
        expect(verifyMerkleProof(tree.root, leaves[i]!, i ^ 1, n, path)).to.equal(false);
      }
    }
  });

  it("tells trees apart that differ only by a trailing zero leaf", function () {
    expect(merkleRoot([1n, 2n, 3n])).to.not.equal(merkleRoot([1n, 2n, 3n, 0n]));
  });

  it("builds a tree from packed leaves like from bigints", function () {
    const leaves = leavesFor(13);
    const packed = new Uint8Array(13 * 32);
    leaves.forEach((leaf, i) => packed.set(toBytesLE(leaf), i * 32));
    const tree = MerkleTree.fromPackedLeaves(packed);
    expect(tree.root).to.equal(merkleRoot(leaves));
    expect(tree.proof(12)).to.deep.equal(new MerkleTree(leaves).proof(12));
  });

  it("computes block-tree roots: the tree over each block's cell hashes", function () {
    this.timeout(60_000);
    const data = new DeterministicRandom("blocks").bytes(3 * 32 * 2048);
    const roots = blockTreeRoots(data);
    expect(roots).to.have.length(3);
    roots.forEach((root, b) =>
      expect(root, `block ${b}`).to.equal(
        merkleRoot(cellHashes(data.subarray(b * 65536, (b + 1) * 65536))),
      ),
    );
    // The first block fully against the reference.
    const cells = Array.from({ length: 32 }, (_, i) =>
      reference.cellHash(data.subarray(i * 2048, (i + 1) * 2048)),
    );
    expect(roots[0]).to.equal(reference.merkleRoot(cells));
    // Other block shapes.
    const small = data.subarray(0, 6 * 100);
    expect(blockTreeRoots(small, 3, 100)).to.deep.equal([
      reference.merkleRoot(
        [0, 1, 2].map((i) => reference.cellHash(small.subarray(i * 100, i * 100 + 100))),
      ),
      reference.merkleRoot(
        [3, 4, 5].map((i) => reference.cellHash(small.subarray(i * 100, i * 100 + 100))),
      ),
    ]);
  });

  it("has proofs as long as the number of compression layers", function () {
    expect([1, 2, 3, 4, 5, 8, 9, 2 ** 20, 2 ** 20 + 1].map(merkleDepth)).to.deep.equal([
      1, 1, 2, 2, 3, 3, 4, 20, 21,
    ]);
  });
});
