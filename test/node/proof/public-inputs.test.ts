import { expect } from "chai";
import { hexlify } from "ethers";
import { BN254_SCALAR_MODULUS as R } from "../../../node/src/proof/bn254.js";
import { StorageProofError } from "../../../node/src/proof/errors.js";
import {
  dataSetRootFromMerkleRoot,
  entropyFromChallenge,
  storageProofPublicInputs,
} from "../../../node/src/proof/public-inputs.js";

/** 32 bytes as the contract holds them, byte 0 first. */
const bytes32 = (fill: (i: number) => number) => Uint8Array.from({ length: 32 }, (_, i) => fill(i));

function expectCode(fn: () => unknown, code: string) {
  expect(fn).to.throw(StorageProofError).with.property("code", code);
}

// Byte patterns worked out by hand: byte i of the bytes32 carries weight 256^i.
describe("storage-proof public inputs from the contract's bytes32 values", function () {
  it("reads the entropy from the first 31 bytes, little-endian", function () {
    expect(entropyFromChallenge(bytes32((i) => (i === 0 ? 1 : 0)))).to.equal(1n);
    expect(entropyFromChallenge(bytes32((i) => (i === 1 ? 1 : 0)))).to.equal(256n);
    expect(entropyFromChallenge(bytes32((i) => (i === 30 ? 0x80 : 0)))).to.equal(2n ** 247n);
    // 0x0102..1f20: byte i holds i + 1.
    const counting = bytes32((i) => i + 1);
    let expected = 0n;
    for (let i = 30; i >= 0; i--) expected = expected * 256n + BigInt(i + 1);
    expect(entropyFromChallenge(counting)).to.equal(expected);
    expect(entropyFromChallenge(hexlify(counting))).to.equal(expected);
  });

  it("drops byte 31 of the challenge, so the entropy is always below 2^248", function () {
    expect(entropyFromChallenge(bytes32((i) => (i === 31 ? 0xff : 0)))).to.equal(0n);
    expect(entropyFromChallenge(bytes32(() => 0xff))).to.equal(2n ** 248n - 1n);
  });

  it("reads the dataset root from all 32 bytes, little-endian", function () {
    expect(dataSetRootFromMerkleRoot(bytes32((i) => (i === 31 ? 0x01 : 0)))).to.equal(2n ** 248n);
    expect(dataSetRootFromMerkleRoot(bytes32((i) => (i === 0 ? 0x2a : 0)))).to.equal(42n);
    // r - 1 = 0x30644e72...f0000000, written little-endian, is the largest root accepted.
    const rMinus1 = R - 1n;
    const le = bytes32((i) => Number((rMinus1 >> BigInt(8 * i)) & 0xffn));
    expect(le[0]).to.equal(0x00);
    expect(le[31]).to.equal(0x30);
    expect(dataSetRootFromMerkleRoot(le)).to.equal(rMinus1);
  });

  it("refuses a root that is not below r, and values that are not 32 bytes", function () {
    const r = bytes32((i) => Number((R >> BigInt(8 * i)) & 0xffn));
    expectCode(() => dataSetRootFromMerkleRoot(r), "BAD_BYTES32");
    expectCode(() => dataSetRootFromMerkleRoot(bytes32(() => 0xff)), "BAD_BYTES32");
    expectCode(() => entropyFromChallenge(new Uint8Array(31)), "BAD_BYTES32");
    expectCode(() => entropyFromChallenge(new Uint8Array(33)), "BAD_BYTES32");
    expectCode(() => entropyFromChallenge("0x1234"), "BAD_BYTES32");
    expectCode(() => dataSetRootFromMerkleRoot("not hex"), "BAD_BYTES32");
  });

  it("puts entropy, dataSetRoot and slotIndex in the verifier's order", function () {
    const challenge = bytes32((i) => (i === 2 ? 3 : 0));
    const root = bytes32((i) => (i === 1 ? 5 : 0));
    expect(storageProofPublicInputs(challenge, root, 7)).to.deep.equal([3n * 65536n, 1280n, 7n]);
    expect(storageProofPublicInputs(challenge, root, 2n ** 63n)[2]).to.equal(2n ** 63n);
  });

  it("refuses a slot index that is negative, fractional or not below r", function () {
    const zero = new Uint8Array(32);
    for (const index of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, R, -1n]) {
      expectCode(() => storageProofPublicInputs(zero, zero, index), "BAD_SLOT_INDEX");
    }
  });
});
