import { expect } from "chai";
import { network } from "hardhat";
import { entropyOf, rootToField } from "./testbed.js";

const { ethers } = await network.create();

const FIELD_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** 32 bytes where byte i is `f(i)`, as a 0x-hex string in wire order (byte 0 first). */
function bytes32(f: (i: number) => number): string {
  return "0x" + Array.from({ length: 32 }, (_, i) => f(i).toString(16).padStart(2, "0")).join("");
}

/** The 32-byte little-endian encoding of `value`. */
function littleEndianBytes(value: bigint): string {
  return bytes32((i) => Number((value >> BigInt(8 * i)) & 0xffn));
}

describe("FieldEncoding", function () {
  async function harness() {
    return ethers.deployContract("FieldEncodingHarness");
  }

  describe("challengeToEntropy: bytes 0..30 of the challenge, little-endian", function () {
    it("reads byte 0 as the least significant byte", async function () {
      const h = await harness();
      const challenge = bytes32((i) => (i === 0 ? 1 : 0));
      expect(await h.challengeToEntropy(challenge)).to.equal(1n);
    });

    it("reads byte 30 as the most significant byte", async function () {
      const h = await harness();
      const challenge = bytes32((i) => (i === 30 ? 0x80 : 0));
      expect(await h.challengeToEntropy(challenge)).to.equal(2n ** 247n);
    });

    it("drops byte 31", async function () {
      const h = await harness();
      expect(await h.challengeToEntropy(bytes32((i) => (i === 31 ? 0xff : 0)))).to.equal(0n);
      expect(await h.challengeToEntropy(bytes32(() => 0xff))).to.equal(2n ** 248n - 1n);
    });

    it("decodes the pattern 00 01 02 .. 1f to 0x1e1d..0100", async function () {
      const h = await harness();
      const challenge = bytes32((i) => i);
      const expected = BigInt("0x1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100");
      expect(await h.challengeToEntropy(challenge)).to.equal(expected);
      expect(entropyOf(challenge)).to.equal(expected); // the testbed's reading agrees
    });

    it("agrees with the testbed's reading on random challenges, always below r", async function () {
      const h = await harness();
      for (let k = 0; k < 16; k++) {
        const challenge = ethers.hexlify(ethers.randomBytes(32));
        const entropy = await h.challengeToEntropy(challenge);
        expect(entropy).to.equal(entropyOf(challenge));
        expect(entropy < FIELD_MODULUS).to.equal(true);
      }
    });
  });

  describe("merkleRootToField: 32 bytes little-endian", function () {
    it("reads byte 0 as least and byte 31 as most significant", async function () {
      const h = await harness();
      expect(await h.merkleRootToField(bytes32((i) => (i === 0 ? 1 : 0)))).to.equal(1n);
      expect(await h.merkleRootToField(bytes32((i) => (i === 31 ? 1 : 0)))).to.equal(2n ** 248n);
    });

    it("decodes the pattern 01 02 .. 20 to 0x201f..0201", async function () {
      const h = await harness();
      const root = bytes32((i) => i + 1);
      const expected = BigInt("0x201f1e1d1c1b1a191817161514131211100f0e0d0c0b0a090807060504030201");
      expect(await h.merkleRootToField(root)).to.equal(expected);
      expect(rootToField(root)).to.equal(expected);
    });

    it("round-trips r - 1 and r from their little-endian encodings", async function () {
      const h = await harness();
      expect(await h.merkleRootToField(littleEndianBytes(FIELD_MODULUS - 1n))).to.equal(
        FIELD_MODULUS - 1n,
      );
      expect(await h.merkleRootToField(littleEndianBytes(FIELD_MODULUS))).to.equal(FIELD_MODULUS);
    });
  });

  describe("reverseBytes", function () {
    it("reverses 00 01 .. 1f into 1f 1e .. 00", async function () {
      const h = await harness();
      expect(await h.reverseBytes(bytes32((i) => i))).to.equal(bytes32((i) => 31 - i));
    });

    it("is its own inverse", async function () {
      const h = await harness();
      const value = ethers.hexlify(ethers.randomBytes(32));
      expect(await h.reverseBytes(await h.reverseBytes(value))).to.equal(value);
    });
  });
});
