/**
 * The slot store on a real folder: a slot is written whole or not at all, and deleting one removes
 * its files and gives back its bytes, also when a crash interrupts the deletion.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { type SlotRecord, SlotStore } from "../../../node/src/network/slot-store.js";

const MANIFEST = "zDvZRwzmCvtiyubW9AecnxgLnXK8GrBvpQJBDzToxmzDN6Nrc2CZ";

describe("slot store", function () {
  let dataDir: string;
  let store: SlotStore;
  const slotDir = () => path.join(dataDir, "network-slots");

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "holdfast-slot-store-"));
    store = await SlotStore.open(dataDir);
  });

  afterEach(async function () {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Stores slot `slot` of 3 random blocks with a 5-leaf tree; returns its record and blocks. */
  async function storeSlot(slot: number): Promise<{ record: SlotRecord; blocks: Uint8Array[] }> {
    const blocks = [0, 1, 2].map(() => new Uint8Array(randomBytes(BLOCK_SIZE)));
    const record: SlotRecord = {
      manifestCid: MANIFEST,
      manifestBytes: "",
      treeCid: MANIFEST,
      slot,
      start: 3 * slot,
      count: blocks.length,
      digests: blocks.map((b) => createHash("sha256").update(b).digest("hex")),
    };
    const leaves = [0, 1, 2, 3, 4].map(() => new Uint8Array(randomBytes(32)));
    await store.write(
      record,
      leaves,
      (async function* () {
        for (const [position, bytes] of blocks.entries()) yield { position, bytes };
      })(),
    );
    return { record, blocks };
  }

  it("deletes a slot: its files go, its bytes are returned, reads find nothing", async function () {
    const { record, blocks } = await storeSlot(0);
    await storeSlot(1);
    expect(await store.read(record, 1)).to.deep.equal(blocks[1]); // opens the file
    const bytes = 3 * BLOCK_SIZE + 5 * 32;
    expect(await store.usedBytes()).to.equal(2 * bytes);

    expect(await store.delete(MANIFEST, 0)).to.equal(bytes);
    expect(store.has(MANIFEST, 0)).to.equal(false);
    expect(store.has(MANIFEST, 1)).to.equal(true);
    expect(await store.read(record, 1)).to.equal(undefined);
    expect(await store.usedBytes()).to.equal(bytes);
    expect((await readdir(slotDir())).filter((n) => n.startsWith(`${MANIFEST}.0.`))).to.deep.equal(
      [],
    );
    // Deleting what is not stored is a no-op.
    expect(await store.delete(MANIFEST, 0)).to.equal(0);
    expect(await store.delete(MANIFEST, 7)).to.equal(0);
  });

  it("a deletion cut short after its record went leaves nothing behind at the next open", async function () {
    await storeSlot(0);
    await storeSlot(1);
    // What a crash right after delete() removed the record leaves: the data files only.
    await rm(path.join(slotDir(), `${MANIFEST}.0.json`));
    await store.close();
    store = await SlotStore.open(dataDir);
    expect(store.has(MANIFEST, 0)).to.equal(false);
    expect(store.has(MANIFEST, 1)).to.equal(true);
    expect((await readdir(slotDir())).sort()).to.deep.equal(
      [`${MANIFEST}.1.blocks`, `${MANIFEST}.1.json`, `${MANIFEST}.1.leaves`].sort(),
    );
  });
});
