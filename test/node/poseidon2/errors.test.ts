import { expect } from "chai";
import {
  blockTreeRoots,
  bytesToElements,
  cellHash,
  cellHashes,
  compress,
  FIELD_MODULUS,
  merkleDepth,
  merkleRoot,
  MerkleTree,
  permute,
  Poseidon2Error,
  type Poseidon2ErrorCode,
  sampleCellIndices,
  sponge,
  verifyMerkleProof,
} from "../../../node/src/poseidon2/index.js";

const r = FIELD_MODULUS;

/** Expects `fn` to throw a Poseidon2Error with this code and a message matching `message`. */
function expectError(fn: () => unknown, code: Poseidon2ErrorCode, message: RegExp | string) {
  expect(fn).to.throw(Poseidon2Error, message).with.property("code", code);
}

// Every refusal of the library, one by one. Each is checked for its error type, its code and the
// words of its message; the last test checks that nothing was left half-done by them.
describe("poseidon2: bad input gets a clear, typed error", function () {
  it("permute: wrong state length or type, elements outside the field", function () {
    const p = permute as (state: unknown) => unknown;
    expectError(() => p([1n, 2n]), "BAD_LENGTH", "array of 3 field elements, got length 2");
    expectError(() => p([1n, 2n, 3n, 4n]), "BAD_LENGTH", "got length 4");
    expectError(() => p("abc"), "BAD_LENGTH", "got string");
    expectError(() => p([1n, r, 3n]), "NOT_A_FIELD_ELEMENT", /state\[1\] must be in \[0, r\)/);
    expectError(() => p([-1n, 2n, 3n]), "NOT_A_FIELD_ELEMENT", /state\[0\] must be in \[0, r\)/);
    expectError(() => p([1n, 2n, 3]), "NOT_A_FIELD_ELEMENT", /state\[2\] must be a bigint/);
  });

  it("compress: keys outside 0..3, inputs outside the field", function () {
    const c = compress as (x: bigint, y: bigint, key: unknown) => bigint;
    for (const key of [4, -1, 1.5, "1", 1n])
      expectError(() => c(1n, 2n, key), "BAD_PARAMETER", "key must be 0, 1, 2 or 3");
    expectError(() => c(r, 2n, 0), "NOT_A_FIELD_ELEMENT", /compress: x/);
    expectError(() => c(1n, r + 1n, 0), "NOT_A_FIELD_ELEMENT", /compress: y/);
  });

  it("sponge: rates other than 1 and 2, bad elements, not an array", function () {
    const s = sponge as (elements: unknown, rate?: unknown) => bigint;
    for (const rate of [0, 3, 1.5, "2"])
      expectError(() => s([1n], rate), "BAD_PARAMETER", "rate must be 1 or 2");
    expectError(() => s([1n, 2n, r]), "NOT_A_FIELD_ELEMENT", /elements\[2\]/);
    expectError(() => s([1n, 2]), "NOT_A_FIELD_ELEMENT", /elements\[1\] must be a bigint/);
    expectError(() => s(new Uint8Array(3)), "BAD_TYPE", "must be an array");
  });

  it("bytes and cells: not a Uint8Array, bad cell sizes, data not a whole number of cells", function () {
    const asBytes = (x: unknown) => x as Uint8Array;
    expectError(() => bytesToElements(asBytes([1, 2])), "BAD_TYPE", "expected a Uint8Array");
    expectError(() => cellHash(asBytes("abc")), "BAD_TYPE", "expected a Uint8Array");
    expectError(() => cellHashes(asBytes(null)), "BAD_TYPE", "expected a Uint8Array");
    for (const size of [0, -2048, 1.5, NaN])
      expectError(() => cellHashes(new Uint8Array(10), size), "BAD_PARAMETER", "positive integer");
    expectError(
      () => cellHashes(new Uint8Array(2049)),
      "BAD_LENGTH",
      "data length 2049 is not a multiple of the cell size 2048",
    );
    expectError(
      () => blockTreeRoots(new Uint8Array(65536 + 2048)),
      "BAD_LENGTH",
      "block size 65536",
    );
    expectError(() => blockTreeRoots(new Uint8Array(64), 0), "BAD_PARAMETER", "cellsPerBlock");
    expectError(() => blockTreeRoots(new Uint8Array(64), 2, 0), "BAD_PARAMETER", "cellSize");
  });

  it("Merkle trees: no leaves, leaves outside the field, indices outside the tree", function () {
    expectError(() => merkleRoot([]), "EMPTY_TREE", "at least one leaf");
    expectError(() => new MerkleTree([]), "EMPTY_TREE", "at least one leaf");
    expectError(() => merkleRoot([1n, r]), "NOT_A_FIELD_ELEMENT", /leaves\[1\]/);
    expectError(() => merkleRoot("ab" as unknown as bigint[]), "BAD_TYPE", "must be an array");
    expectError(() => MerkleTree.fromPackedLeaves(new Uint8Array(0)), "EMPTY_TREE", "at least one");
    expectError(() => MerkleTree.fromPackedLeaves(new Uint8Array(33)), "BAD_LENGTH", "33 bytes");
    const tree = new MerkleTree([1n, 2n, 3n]);
    for (const index of [-1, 3, 1.5, NaN])
      expectError(() => tree.proof(index), "BAD_INDEX", "leaf index must be an integer in [0, 3)");
    expectError(() => tree.leaf(3), "BAD_INDEX", "[0, 3)");
    expectError(() => merkleDepth(0), "EMPTY_TREE", "at least one leaf");
    expectError(() => merkleDepth(-1), "BAD_INDEX", "non-negative integer");
  });

  it("verifyMerkleProof: malformed calls throw rather than return false", function () {
    const tree = new MerkleTree([1n, 2n, 3n]);
    const path = tree.proof(2);
    expect(verifyMerkleProof(tree.root, 3n, 2, 3, path)).to.equal(true);
    expectError(() => verifyMerkleProof(tree.root, 3n, 2, 0, path), "EMPTY_TREE", "at least one");
    expectError(() => verifyMerkleProof(tree.root, 3n, 3, 3, path), "BAD_INDEX", "[0, 3)");
    expectError(
      () => verifyMerkleProof(tree.root, 3n, 2, 3, path.slice(1)),
      "BAD_LENGTH",
      "a tree of 3 leaves needs a path of 2, got 1",
    );
    expectError(() => verifyMerkleProof(tree.root, 3n, 2, 3, [...path, 0n]), "BAD_LENGTH", "got 3");
    expectError(
      () => verifyMerkleProof(tree.root, 3n, 2, 3, [r, 0n]),
      "NOT_A_FIELD_ELEMENT",
      /path\[0\]/,
    );
    expectError(() => verifyMerkleProof(r, 3n, 2, 3, path), "NOT_A_FIELD_ELEMENT", /root/);
    expectError(() => verifyMerkleProof(tree.root, -3n, 2, 3, path), "NOT_A_FIELD_ELEMENT", /leaf/);
  });

  it("sampleCellIndices: cell counts that are not powers of two, bad sample counts", function () {
    for (const nCells of [0, 3, 6, 1000, 1.5, -4, 2 ** 53 + 2])
      expectError(() => sampleCellIndices(1n, 2n, nCells, 5), "NOT_A_POWER_OF_TWO", "power of two");
    for (const nSamples of [-1, 2.5])
      expectError(() => sampleCellIndices(1n, 2n, 8, nSamples), "BAD_INDEX", "nSamples");
    expectError(() => sampleCellIndices(r, 2n, 8, 1), "NOT_A_FIELD_ELEMENT", /entropy/);
    expectError(() => sampleCellIndices(1n, r, 8, 1), "NOT_A_FIELD_ELEMENT", /slotRoot/);
  });

  it("is unaffected by the refused calls: results afterwards are still right", function () {
    expect(() => sponge([1n, r])).to.throw(Poseidon2Error);
    expect(() => merkleRoot([1n, 2n, r])).to.throw(Poseidon2Error);
    expect(permute([0n, 1n, 2n])[0]).to.equal(
      0x30610a447b7dec194697fb50786aa7421494bd64c221ba4d3b1af25fb07bd103n,
    );
    // Codex's sponge and Merkle vectors (see codex-vectors.ts).
    expect(sponge([1n, 2n, 3n])).to.equal(
      18511919414269811073023003336929505285555117419480831606637506641708579940507n,
    );
    expect(merkleRoot([1n, 2n, 3n])).to.equal(
      3290849705974295885356475812949977947719075082723205888372484144436587857608n,
    );
  });
});
