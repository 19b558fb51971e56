import { expect } from "chai";
import {
  ELEMENT_BYTES,
  FIELD_MODULUS,
  fromBytesLE,
  Poseidon2Error,
  toBytesLE,
} from "../../../node/src/poseidon2/index.js";
import { DeterministicRandom } from "../../helpers/deterministic-random.js";

describe("poseidon2: field elements as 32 little-endian bytes", function () {
  const r = FIELD_MODULUS;

  it("serialises least significant byte first", function () {
    expect([...toBytesLE(1n)]).to.deep.equal([1, ...new Array(31).fill(0)]);
    expect([...toBytesLE(0x0102n)]).to.deep.equal([2, 1, ...new Array(30).fill(0)]);
    expect(
      Buffer.from(toBytesLE(r - 1n))
        .reverse()
        .toString("hex"),
    ).to.equal((r - 1n).toString(16).padStart(64, "0"));
    expect(toBytesLE(0n)).to.have.length(ELEMENT_BYTES);
  });

  it("round-trips random elements and the edges", function () {
    const random = new DeterministicRandom("bytes-le");
    const values = [0n, 1n, 255n, 256n, 2n ** 64n, 2n ** 253n, r - 1n];
    for (let i = 0; i < 200; i++) values.push(random.element(r));
    for (const x of values) expect(fromBytesLE(toBytesLE(x))).to.equal(x);
  });

  it("reads from a view at an offset into a larger buffer", function () {
    const buffer = new Uint8Array(40);
    buffer.set(toBytesLE(r - 5n), 3);
    expect(fromBytesLE(buffer.subarray(3, 35))).to.equal(r - 5n);
  });

  it("rejects non-canonical bytes (r, and the largest 256-bit integer)", function () {
    const encode = (x: bigint) => {
      const bytes = new Uint8Array(32);
      for (let i = 0; i < 32; i++) bytes[i] = Number((x >> BigInt(8 * i)) & 0xffn);
      return bytes;
    };
    for (const x of [r, r + 1n, 2n ** 256n - 1n])
      expect(() => fromBytesLE(encode(x)))
        .to.throw(Poseidon2Error, /integer >= r/)
        .with.property("code", "NOT_A_FIELD_ELEMENT");
  });

  it("rejects byte strings that are not exactly 32 bytes", function () {
    for (const length of [0, 31, 33, 64])
      expect(() => fromBytesLE(new Uint8Array(length)))
        .to.throw(Poseidon2Error, `exactly 32 bytes, got ${length}`)
        .with.property("code", "BAD_LENGTH");
    expect(() => fromBytesLE([1, 2] as unknown as Uint8Array))
      .to.throw(Poseidon2Error)
      .with.property("code", "BAD_TYPE");
  });

  it("refuses to serialise values outside the field", function () {
    for (const x of [-1n, r, 2n ** 256n])
      expect(() => toBytesLE(x))
        .to.throw(Poseidon2Error, /must be in \[0, r\)/)
        .with.property("code", "NOT_A_FIELD_ELEMENT");
    expect(() => toBytesLE(5 as unknown as bigint))
      .to.throw(Poseidon2Error, /must be a bigint, got number/)
      .with.property("code", "NOT_A_FIELD_ELEMENT");
  });
});
