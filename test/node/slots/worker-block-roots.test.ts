import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { workerBlockRoots } from "../../../node/src/slots/worker-block-roots.js";
import { blockRootsInThread } from "../../helpers/reference-trees.js";

describe("block roots in worker threads", function () {
  this.timeout(120_000);

  it("returns the roots in order, as hashing in this thread does", async function () {
    const pool = workerBlockRoots(new URL("../../helpers/reference-trees.ts", import.meta.url), 2);
    try {
      const blocks = Array.from({ length: 3 }, () => new Uint8Array(randomBytes(BLOCK_SIZE)));
      expect(await pool.blockRoots(blocks)).to.deep.equal(blockRootsInThread(blocks));
      expect(await pool.blockRoots([])).to.deep.equal([]);
    } finally {
      await pool.close();
    }
  });

  it("reports a worker's failure as an error, not a hang", async function () {
    const pool = workerBlockRoots(new URL("../../helpers/reference-trees.ts", import.meta.url), 1);
    try {
      await pool.blockRoots([new Uint8Array(0)]).then(
        () => expect.fail("hashed an empty block"),
        (error: Error) => expect(error.message).to.include("block hashing failed"),
      );
    } finally {
      await pool.close();
    }
  });
});
