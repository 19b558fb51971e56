import { randomBytes } from "node:crypto";
import { copyFile, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { ZERO_BLOCK } from "../../../node/src/blocks/cid.js";
import { inspectFile } from "../../../node/src/cli/inspect.js";
import { inThreadBlockRoots } from "../../../node/src/slots/hasher.js";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { isHoldfastError } from "../../../node/src/errors.js";
import { ecLayout } from "../../../node/src/erasure/layout.js";
import { ReedSolomon } from "../../../node/src/erasure/reed-solomon.js";
import type { Manifest } from "../../../node/src/manifest/manifest.js";
import { fieldFromHex } from "../../../node/src/slots/field.js";
import { cellHash, merkleProof, merkleRoot } from "../../helpers/poseidon2-reference.js";
import { referenceTrees } from "../../helpers/reference-trees.js";
import { type TestStore, chunksOf, collect, openTestStore } from "./helpers.js";

function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size), ...subsets(n - 1, size - 1).map((s) => [...s, n - 1])];
}

const blockRootOf = (block: Uint8Array) => merkleRoot(referenceTrees.cellHashes(block));

describe("data service: protect, decode and cell proofs", function () {
  this.timeout(300_000);
  // 7 blocks (the last one partial) with K=3, M=2: 3 blocks per slot, 2 zero-padding blocks, slot
  // trees padded from 3 to 4 leaves. Small, because the reference Poseidon2 is slow on purpose.
  const ecK = 3;
  const ecM = 2;
  const bytes = new Uint8Array(randomBytes(6 * BLOCK_SIZE + 1000));
  let store: TestStore;
  let original: { cid: string; manifest: Manifest };
  let result: { protectedCid: string; verifiableCid: string; manifest: Manifest };
  /** The protected dataset's blocks, rebuilt here independently of the node's stored files. */
  let expectedBlocks: Uint8Array[];

  before(async function () {
    store = await openTestStore();
    original = await store.service.upload(chunksOf(bytes), {
      filename: "data.bin",
      mimetype: "application/x-test",
    });
    result = await store.service.protect(original.cid, { ecK, ecM });
    const layout = ecLayout(7, ecK, ecM);
    const padded = new Uint8Array(layout.rounded * BLOCK_SIZE);
    padded.set(bytes);
    const data = Array.from({ length: layout.rounded }, (_, i) =>
      padded.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE),
    );
    const parity = new Array<Uint8Array>(ecM * layout.steps);
    const code = new ReedSolomon(ecK, ecM);
    for (let step = 0; step < layout.steps; step++) {
      const p = code.encode([0, 1, 2].map((j) => data[step + j * layout.steps]!));
      p.forEach((block, j) => (parity[j * layout.steps + step] = block));
    }
    expectedBlocks = [...data, ...parity];
  });
  after(async function () {
    await store.cleanup();
  });

  it("records K, M, the original tree and Codex's row layout in the manifests", function () {
    const m = result.manifest;
    expect(m.protected).to.deep.equal({
      ecK,
      ecM,
      originalTreeCid: original.manifest.treeCid,
      originalBlocksCount: 7,
    });
    expect(m.blocksCount).to.equal(15);
    expect(m.datasetSize).to.equal(bytes.length);
    expect(m.filename).to.equal("data.bin");
    expect(m.verifiable!.slotBlocks).to.equal(4);
    expect(m.verifiable!.cellSize).to.equal(2048);
    expect(m.verifiable!.slotRoots).to.have.length(5);
  });

  it("computes the slot roots and dataset root the reference Poseidon2 computes", function () {
    const slotRoots = Array.from({ length: 5 }, (_, s) => {
      const leaves = expectedBlocks.slice(s * 3, s * 3 + 3).map(blockRootOf);
      leaves.push(blockRootOf(ZERO_BLOCK));
      return merkleRoot(leaves);
    });
    expect(result.manifest.verifiable!.slotRoots.map((r) => fieldFromHex(r))).to.deep.equal(
      slotRoots,
    );
    expect(fieldFromHex(result.manifest.verifiable!.datasetRoot)).to.equal(merkleRoot(slotRoots));
  });

  it("downloads the original bytes by every manifest id", async function () {
    for (const cid of [original.cid, result.protectedCid, result.verifiableCid]) {
      const { stream } = await store.service.download(cid);
      expect((await collect(stream)).equals(Buffer.from(bytes)), cid).to.equal(true);
    }
  });

  describe("with slots lost", function () {
    let files: { data: string; parity: string };
    before(async function () {
      const packs = (await readdir(path.join(store.dir, "packs"))).filter((f) =>
        f.endsWith(".blocks"),
      );
      const sizes = await Promise.all(
        packs.map(async (f) => (await stat(path.join(store.dir, "packs", f))).size),
      );
      const dataAt = sizes.indexOf(7 * BLOCK_SIZE);
      files = {
        data: path.join(store.dir, "packs", packs[dataAt]!),
        parity: path.join(store.dir, "packs", packs[1 - dataAt]!),
      };
      for (const file of Object.values(files)) await copyFile(file, `${file}.saved`);
    });
    afterEach(async function () {
      for (const file of Object.values(files)) await copyFile(`${file}.saved`, file);
    });
    after(async function () {
      for (const file of Object.values(files)) await rm(`${file}.saved`);
    });

    /** Overwrites every stored block of the given slots with garbage. */
    async function destroySlots(slots: number[]): Promise<void> {
      for (const slot of slots) {
        for (let index = slot * 3; index < slot * 3 + 3; index++) {
          const [file, position] =
            index < 7
              ? [files.data, index]
              : index < 9
                ? [undefined, 0]
                : [files.parity, index - 9];
          if (!file) continue; // zero padding is not stored
          const handle = await open(file, "r+");
          await handle.write(
            new Uint8Array(randomBytes(BLOCK_SIZE)),
            0,
            BLOCK_SIZE,
            position * BLOCK_SIZE,
          );
          await handle.close();
        }
      }
    }

    for (const lost of subsets(5, 2)) {
      it(`decodes with slots ${lost.join(" and ")} lost`, async function () {
        await destroySlots(lost);
        const { stream } = await store.service.download(result.verifiableCid);
        expect((await collect(stream)).equals(Buffer.from(bytes))).to.equal(true);
      });
    }

    it("fails clearly when more than M slots are lost", async function () {
      await destroySlots([0, 1, 3]);
      const { stream } = await store.service.download(result.protectedCid);
      try {
        await collect(stream);
        expect.fail("decoded with 3 of 5 slots lost");
      } catch (error) {
        expect(isHoldfastError(error, "ERR_DECODE_FAILED")).to.equal(true);
      }
    });
  });

  it("proves cells without rehashing the slot, matching the reference paths", async function () {
    for (const [slot, cell] of [
      [0, 0],
      [1, 37],
      [4, 95],
      [2, 127],
    ] as const) {
      const proof = await store.service.cellProof(result.verifiableCid, slot, cell);
      const blockPosition = Math.floor(cell / 32);
      const block = blockPosition < 3 ? expectedBlocks[slot * 3 + blockPosition]! : ZERO_BLOCK;
      const cellBytes = block.subarray((cell % 32) * 2048, ((cell % 32) + 1) * 2048);
      expect(Buffer.from(proof.cell).equals(Buffer.from(cellBytes))).to.equal(true);
      expect(proof.cellHash).to.equal(cellHash(cellBytes));
      expect(proof.blockPath).to.deep.equal(
        merkleProof(referenceTrees.cellHashes(block), cell % 32),
      );
      const slotLeaves = [
        ...expectedBlocks.slice(slot * 3, slot * 3 + 3).map(blockRootOf),
        blockRootOf(ZERO_BLOCK),
      ];
      expect(proof.slotPath).to.deep.equal(merkleProof(slotLeaves, blockPosition));
      expect(proof.slotRoot).to.equal(fieldFromHex(result.manifest.verifiable!.slotRoots[slot]!));
      expect(proof.cellsPerSlot).to.equal(128);
    }
  });

  it("holdfast dataset inspect computes the same ids and roots without storing anything", async function () {
    const file = path.join(store.dir, "inspect-me.bin");
    await writeFile(file, bytes);
    const inspected = await inspectFile(
      file,
      { ecK, ecM },
      { trees: referenceTrees, roots: inThreadBlockRoots(referenceTrees) },
    );
    await rm(file);
    expect(inspected).to.deep.include({
      datasetSize: bytes.length,
      blocksCount: 7,
      treeCid: original.manifest.treeCid,
      protectedTreeCid: result.manifest.treeCid,
      protectedBlocksCount: 15,
      slotBlocks: 4,
      cellsPerSlot: 128,
      slotRoots: result.manifest.verifiable!.slotRoots,
      datasetRoot: result.manifest.verifiable!.datasetRoot,
    });
  });

  it("rejects bad parameters before writing anything", async function () {
    const before = store.service.space().usedBytes;
    for (const params of [
      { ecK: 8, ecM: 1 },
      { ecK: 0, ecM: 1 },
      { ecK: 200, ecM: 100 },
    ]) {
      try {
        await store.service.protect(original.cid, params);
        expect.fail("accepted bad parameters");
      } catch (error) {
        expect(isHoldfastError(error, "ERR_INVALID_EC_PARAMS"), String(error)).to.equal(true);
      }
    }
    expect(store.service.space().usedBytes).to.equal(before);
  });
});
