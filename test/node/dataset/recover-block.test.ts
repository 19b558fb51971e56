/**
 * recoverBlock, the data layer's one-block erasure decoder that slot repair also uses: it rebuilds
 * a lost data block and a lost parity block (a parity slot being repaired) from any K of their
 * codeword, checks the result against the block's id, and says clearly when too few are left.
 */
import { createHash, randomBytes } from "node:crypto";
import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { type VerifiedBlocks, recoverBlock } from "../../../node/src/dataset/download.js";
import { codewordIndex, ecLayout } from "../../../node/src/erasure/layout.js";
import { ReedSolomon } from "../../../node/src/erasure/reed-solomon.js";
import { HoldfastError } from "../../../node/src/errors.js";

describe("recoverBlock", function () {
  const layout = ecLayout(6, 3, 2); // 3 data + 2 parity slots of 2 blocks
  const code = new ReedSolomon(3, 2);
  const blocks: Uint8Array[] = new Array(layout.blocksCount);
  for (let step = 0; step < layout.steps; step++) {
    const data = [0, 1, 2].map(() => new Uint8Array(randomBytes(BLOCK_SIZE)));
    const parity = code.encode(data);
    [...data, ...parity].forEach((b, j) => (blocks[codewordIndex(layout, step, j)] = b));
  }
  const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

  /** The protected dataset with the blocks at `lost` gone. */
  function without(lost: readonly number[]): VerifiedBlocks {
    return {
      async readVerified(index) {
        if (lost.includes(index)) throw new HoldfastError("ERR_CORRUPT_BLOCK", `lost ${index}`);
        return blocks[index]!;
      },
      async digest(index) {
        return sha256(blocks[index]!);
      },
    };
  }

  it("rebuilds every lost block, data or parity, from the rest of its codeword", async function () {
    for (let index = 0; index < layout.blocksCount; index++) {
      // The block and one more of its codeword lost (M = 2 allows both).
      const other = codewordIndex(layout, index % layout.steps, index < layout.steps ? 4 : 0);
      const rebuilt = await recoverBlock(without([index, other]), layout, code, index);
      expect(Buffer.from(rebuilt).equals(Buffer.from(blocks[index]!)), `block ${index}`).to.equal(
        true,
      );
    }
  });

  it("refuses with ERR_DECODE_FAILED when fewer than K blocks of the codeword are left", async function () {
    const parityBlock = codewordIndex(layout, 1, 4);
    const lost = [0, 1, 2, 3].map((j) => codewordIndex(layout, 1, j));
    const error = await recoverBlock(without(lost), layout, code, parityBlock).catch((e) => e);
    expect(error).to.be.instanceOf(HoldfastError);
    expect((error as HoldfastError).code).to.equal("ERR_DECODE_FAILED");
  });
});
