import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { ZERO_BLOCK } from "../../../node/src/blocks/cid.js";
import { MerkleTree, merkleRoot } from "../../../node/src/poseidon2/index.js";
import {
  blockRootsInThread,
  defaultHashing,
  poseidon2Trees,
} from "../../../node/src/slots/default-hashing.js";
import { blockRoot, pathFromLayers } from "../../../node/src/slots/hasher.js";
import { referenceTrees } from "../../helpers/reference-trees.js";
import { merkleLayers as referenceLayers } from "../../helpers/poseidon2-reference.js";

const randomElement = () => BigInt(`0x${randomBytes(31).toString("hex")}`);

describe("the node's Poseidon2 hashing (library adapter)", function () {
  this.timeout(120_000);

  it("builds tree layers that agree with the library's roots and proofs and with the reference", function () {
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, randomElement);
      const layers = poseidon2Trees.merkleLayers(leaves);
      expect(layers.at(-1)![0], `n=${n}`).to.equal(merkleRoot(leaves));
      const tree = new MerkleTree(leaves);
      for (let i = 0; i < n; i++)
        expect(pathFromLayers(layers, i), `n=${n} i=${i}`).to.deep.equal(tree.proof(i));
      if (n <= 9) expect(layers).to.deep.equal(referenceLayers(leaves));
    }
  });

  it("hashes cells and block roots as the reference does", function () {
    const block = new Uint8Array(randomBytes(BLOCK_SIZE));
    expect(poseidon2Trees.cellHashes(block)).to.deep.equal(referenceTrees.cellHashes(block));
    const expected = [block, ZERO_BLOCK].map((b) => blockRoot(referenceTrees, b));
    expect(blockRootsInThread([block, ZERO_BLOCK])).to.deep.equal(expected);
    expect(blockRoot(poseidon2Trees, block)).to.equal(expected[0]);
  });

  it("computes the same block roots in worker threads", async function () {
    const hashing = defaultHashing(2);
    try {
      const blocks = Array.from({ length: 5 }, () => new Uint8Array(randomBytes(BLOCK_SIZE)));
      expect(await hashing.roots.blockRoots(blocks)).to.deep.equal(blockRootsInThread(blocks));
    } finally {
      await hashing.roots.close();
    }
  });
});
