import { expect } from "chai";
import {
  bytesToElements,
  cellHash,
  cellHashes,
  cellHashesPacked,
  compress,
  FIELD_MODULUS,
  fromBytesLE,
  permute,
  sampleCellIndices,
  sponge,
} from "../../../node/src/poseidon2/index.js";
import { DeterministicRandom } from "../../helpers/deterministic-random.js";
import * as reference from "../../helpers/poseidon2-reference.js";

// The fast library against the plain BigInt reference (test/helpers/poseidon2-reference.ts) on
// reproducible pseudo-random inputs, including the field's edges (0, 1, r - 1, ...).
describe("poseidon2: fast implementation against the reference", function () {
  const r = FIELD_MODULUS;

  it("uses the same prime as the reference", function () {
    expect(r).to.equal(reference.R);
  });

  it("permutes 300 states like the reference", function () {
    const random = new DeterministicRandom("permute");
    for (let i = 0; i < 300; i++) {
      const state: [bigint, bigint, bigint] = [
        random.element(r),
        random.element(r),
        random.element(r),
      ];
      expect(permute(state), `state ${state.join(", ")}`).to.deep.equal(reference.permute(state));
    }
  });

  it("leaves the caller's state array untouched", function () {
    const state: [bigint, bigint, bigint] = [5n, 6n, 7n];
    permute(state);
    expect(state).to.deep.equal([5n, 6n, 7n]);
  });

  it("computes the sponge like the reference for rates 1 and 2 and lengths 0..10", function () {
    const random = new DeterministicRandom("sponge");
    for (let length = 0; length <= 10; length++)
      for (let trial = 0; trial < 3; trial++) {
        const elements = Array.from({ length }, () => random.element(r));
        for (const rate of [1, 2] as const)
          expect(sponge(elements, rate), `rate ${rate}, length ${length}`).to.equal(
            reference.sponge(elements, rate),
          );
      }
  });

  it("compresses with every key like the reference", function () {
    const random = new DeterministicRandom("compress");
    for (let i = 0; i < 40; i++) {
      const [x, y] = [random.element(r), random.element(r)];
      for (const key of [0, 1, 2, 3] as const)
        expect(compress(x, y, key), `key ${key}`).to.equal(reference.compress(x, y, key));
    }
  });

  it("cuts bytes into elements like the reference for lengths 0..80 and 2048", function () {
    const random = new DeterministicRandom("bytes");
    const lengths = [...Array.from({ length: 81 }, (_, n) => n), 2048];
    for (const length of lengths) {
      for (const bytes of [random.bytes(length), new Uint8Array(length).fill(0xff)]) {
        const elements = bytesToElements(bytes);
        expect(elements, `length ${length}`).to.deep.equal(reference.bytesToElements(bytes));
        expect(elements).to.have.length(Math.floor(length / 31) + 1);
      }
    }
    expect(bytesToElements(new Uint8Array(2048))).to.have.length(67);
  });

  it("hashes byte strings like the reference for lengths 0..80 and one 2048-byte cell", function () {
    this.timeout(60_000);
    const random = new DeterministicRandom("cellHash");
    for (let length = 0; length <= 80; length++) {
      const bytes = random.bytes(length);
      expect(cellHash(bytes), `length ${length}`).to.equal(reference.cellHash(bytes));
    }
    for (const cell of [random.bytes(2048), new Uint8Array(2048).fill(0xff), new Uint8Array(2048)])
      expect(cellHash(cell)).to.equal(reference.cellHash(cell));
  });

  it("hashes a byte string that is a view into a larger buffer", function () {
    const random = new DeterministicRandom("view");
    const buffer = random.bytes(3000);
    const view = buffer.subarray(17, 17 + 2048);
    expect(cellHash(view)).to.equal(reference.cellHash(Uint8Array.from(view)));
  });

  it("hashes batches of cells like single cells, for several cell sizes", function () {
    const random = new DeterministicRandom("batch");
    for (const cellSize of [1, 31, 62, 100, 2048]) {
      const data = random.bytes(cellSize * 7);
      const expected = Array.from({ length: 7 }, (_, i) =>
        reference.cellHash(data.subarray(i * cellSize, (i + 1) * cellSize)),
      );
      expect(cellHashes(data, cellSize), `cell size ${cellSize}`).to.deep.equal(expected);
    }
    expect(cellHashes(new Uint8Array(0))).to.deep.equal([]);
  });

  it("hashes more cells than fit one kernel batch (memory growth, batch boundaries)", function () {
    this.timeout(120_000);
    const random = new DeterministicRandom("large");
    const cells = 2048 + 3; // the kernel takes 4 MiB (2048 cells) per batch
    const data = random.bytes(cells * 2048);
    const packed = cellHashesPacked(data);
    expect(packed).to.have.length(cells * 32);
    for (const i of [0, 1, 2047, 2048, 2049, cells - 1]) {
      const cell = data.subarray(i * 2048, (i + 1) * 2048);
      expect(fromBytesLE(packed.subarray(i * 32, (i + 1) * 32)), `cell ${i}`).to.equal(
        reference.cellHash(cell),
      );
    }
    expect(cellHashes(data)).to.deep.equal(
      Array.from({ length: cells }, (_, i) => fromBytesLE(packed.subarray(i * 32, i * 32 + 32))),
    );
  });

  it("samples cell indices like the reference", function () {
    const random = new DeterministicRandom("sampling");
    for (const nCells of [1, 2, 1024, 2 ** 20, 2 ** 32]) {
      const [entropy, slotRoot] = [random.element(r), random.element(r)];
      const indices = sampleCellIndices(entropy, slotRoot, nCells, 5);
      expect(indices, `nCells ${nCells}`).to.deep.equal(
        reference.sampleCellIndices(entropy, slotRoot, nCells, 5),
      );
      for (const index of indices) expect(index).to.be.within(0, nCells - 1);
    }
    expect(sampleCellIndices(1n, 2n, 64, 0)).to.deep.equal([]);
  });
});
