import { expect } from "chai";
import { BN254_BASE_MODULUS as Q, BN254_SCALAR_MODULUS as R } from "../../node/src/proof/bn254.js";
import {
  Groth16EncodingError,
  type Groth16EncodingErrorCode,
  proofFromSnarkjs,
  publicSignalsFromSnarkjs,
  verificationKeyFromSnarkjs,
} from "../../node/src/proof/groth16-encoding.js";
import { isOnTwist } from "../helpers/bn254.js";

// The generators of G1 and G2 (EIP-197), in snarkjs's JSON form: G2 coordinates as [c0, c1], where
// EIP-197 writes x = 11559...5634 * i + 10857...2781, so c0 = 10857...2781 is the real part.
const G1 = ["1", "2", "1"];
const G2 = [
  [
    "10857046999023057135944570762232829481370756359578518086990519993285655852781",
    "11559732032986387107991004021392285783925812861821192530917403151452391805634",
  ],
  [
    "8495653923123431417604973247489272438418190587263600148770280649306958101930",
    "4082367875863433681332203403145435568316851327593401208105741076214120093531",
  ],
  ["1", "0"],
];

const vkeyJson = () => ({
  protocol: "groth16",
  curve: "bn128",
  nPublic: 3,
  vk_alpha_1: [...G1],
  vk_beta_2: structuredClone(G2),
  vk_gamma_2: structuredClone(G2),
  vk_delta_2: structuredClone(G2),
  vk_alphabeta_12: [],
  IC: [
    ["1", "2", "1"],
    ["3", "4", "1"],
    ["5", "6", "1"],
    ["7", "8", "1"],
  ],
});

const proofJson = () => ({
  pi_a: ["11", "12", "1"],
  pi_b: structuredClone(G2),
  pi_c: ["13", "14", "1"],
  protocol: "groth16",
  curve: "bn128",
});

function expectError(fn: () => unknown, code: Groth16EncodingErrorCode, field: string) {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(Groth16EncodingError);
    const e = error as Groth16EncodingError;
    expect(e.code).to.equal(code);
    expect(e.field).to.equal(field);
    expect(e.message).to.include(field);
    return e;
  }
  expect.fail(`expected a Groth16EncodingError at ${field}`);
}

describe("Groth16 encoding (snarkjs JSON -> verifier contract arguments)", function () {
  describe("verification key", function () {
    it("maps each point, G2 coordinates [c0, c1] to {real: c0, imag: c1}", function () {
      const vk = verificationKeyFromSnarkjs(vkeyJson());
      expect(vk.alpha1).to.deep.equal({ x: 1n, y: 2n });
      expect(vk.beta2.x).to.deep.equal({
        real: 10857046999023057135944570762232829481370756359578518086990519993285655852781n,
        imag: 11559732032986387107991004021392285783925812861821192530917403151452391805634n,
      });
      expect(vk.delta2.y).to.deep.equal({
        real: 8495653923123431417604973247489272438418190587263600148770280649306958101930n,
        imag: 4082367875863433681332203403145435568316851327593401208105741076214120093531n,
      });
      // The order is right exactly when the generator comes out on the twist; swapped, it does not.
      expect(isOnTwist(vk.beta2)).to.equal(true);
      const swapped = { x: { real: vk.beta2.x.imag, imag: vk.beta2.x.real }, y: vk.beta2.y };
      expect(isOnTwist(swapped)).to.equal(false);
      expect(vk.ic).to.deep.equal([
        { x: 1n, y: 2n },
        { x: 3n, y: 4n },
        { x: 5n, y: 6n },
        { x: 7n, y: 8n },
      ]);
    });

    it("accepts the largest coordinate, q - 1, and refuses q", function () {
      const json = vkeyJson();
      json.vk_gamma_2[1]![0] = (Q - 1n).toString();
      expect(verificationKeyFromSnarkjs(json).gamma2.y.real).to.equal(Q - 1n);
      json.vk_gamma_2[1]![0] = Q.toString();
      const e = expectError(
        () => verificationKeyFromSnarkjs(json),
        "INVALID_VERIFICATION_KEY",
        "vk_gamma_2[1][0]",
      );
      expect(e.message).to.include("below q");
    });

    it("refuses a key for another number of public inputs", function () {
      const json = { ...vkeyJson(), nPublic: 1 };
      const e = expectError(
        () => verificationKeyFromSnarkjs(json),
        "INVALID_VERIFICATION_KEY",
        "nPublic",
      );
      expect(e.message).to.include("must be 3, got 1");
      const ic = { ...vkeyJson(), IC: vkeyJson().IC.slice(0, 2) };
      expectError(() => verificationKeyFromSnarkjs(ic), "INVALID_VERIFICATION_KEY", "IC");
    });

    it("refuses another protocol or curve", function () {
      expectError(
        () => verificationKeyFromSnarkjs({ ...vkeyJson(), protocol: "plonk" }),
        "INVALID_VERIFICATION_KEY",
        "protocol",
      );
      expectError(
        () => verificationKeyFromSnarkjs({ ...vkeyJson(), curve: "bls12381" }),
        "INVALID_VERIFICATION_KEY",
        "curve",
      );
    });

    it("refuses points not in affine form (z other than 1)", function () {
      const g1 = vkeyJson();
      g1.IC[2]![2] = "0";
      expectError(() => verificationKeyFromSnarkjs(g1), "INVALID_VERIFICATION_KEY", "IC[2][2]");
      const g2 = vkeyJson();
      g2.vk_beta_2[2] = ["0", "1"];
      expectError(() => verificationKeyFromSnarkjs(g2), "INVALID_VERIFICATION_KEY", "vk_beta_2[2]");
    });

    it("refuses numbers that are not decimal strings, and missing fields", function () {
      for (const bad of [7, 7n, "0x07", "-7", "", " 7", "7.0", null]) {
        const json = vkeyJson();
        (json.vk_alpha_1 as unknown[])[0] = bad;
        expectError(
          () => verificationKeyFromSnarkjs(json),
          "INVALID_VERIFICATION_KEY",
          "vk_alpha_1[0]",
        );
      }
      const { vk_delta_2: _dropped, ...missing } = vkeyJson();
      const e = expectError(
        () => verificationKeyFromSnarkjs(missing),
        "INVALID_VERIFICATION_KEY",
        "vk_delta_2",
      );
      expect(e.message).to.include("got nothing");
      expectError(
        () => verificationKeyFromSnarkjs([]),
        "INVALID_VERIFICATION_KEY",
        "verification key",
      );
      expectError(
        () => verificationKeyFromSnarkjs(null),
        "INVALID_VERIFICATION_KEY",
        "verification key",
      );
    });
  });

  describe("proof", function () {
    it("maps pi_a, pi_b, pi_c to a, b, c", function () {
      const proof = proofFromSnarkjs(proofJson());
      expect(proof.a).to.deep.equal({ x: 11n, y: 12n });
      expect(proof.c).to.deep.equal({ x: 13n, y: 14n });
      expect(proof.b.x.real).to.equal(
        10857046999023057135944570762232829481370756359578518086990519993285655852781n,
      );
      expect(proof.b.y.imag).to.equal(
        4082367875863433681332203403145435568316851327593401208105741076214120093531n,
      );
    });

    it("accepts a proof without the protocol and curve tags", function () {
      const { protocol: _p, curve: _c, ...bare } = proofJson();
      expect(proofFromSnarkjs(bare).a).to.deep.equal({ x: 11n, y: 12n });
    });

    it("names the offending field", function () {
      const big = proofJson();
      big.pi_c[1] = (Q + 14n).toString();
      expectError(() => proofFromSnarkjs(big), "INVALID_PROOF", "pi_c[1]");
      const short = proofJson();
      short.pi_b[0] = ["1"];
      expectError(() => proofFromSnarkjs(short), "INVALID_PROOF", "pi_b[0]");
      const projective = proofJson();
      projective.pi_a[2] = "2";
      expectError(() => proofFromSnarkjs(projective), "INVALID_PROOF", "pi_a[2]");
      expectError(
        () => proofFromSnarkjs({ ...proofJson(), protocol: "fflonk" }),
        "INVALID_PROOF",
        "protocol",
      );
      expectError(() => proofFromSnarkjs("proof"), "INVALID_PROOF", "proof");
    });
  });

  describe("public signals", function () {
    it("reads three decimal strings below r", function () {
      expect(publicSignalsFromSnarkjs(["0", "1", (R - 1n).toString()])).to.deep.equal([
        0n,
        1n,
        R - 1n,
      ]);
    });

    it("refuses r, a wrong count and non-strings", function () {
      const e = expectError(
        () => publicSignalsFromSnarkjs(["0", R.toString(), "2"]),
        "INVALID_PUBLIC_SIGNALS",
        "publicSignals[1]",
      );
      expect(e.message).to.include("below r");
      expectError(
        () => publicSignalsFromSnarkjs(["0", "1"]),
        "INVALID_PUBLIC_SIGNALS",
        "publicSignals",
      );
      expectError(
        () => publicSignalsFromSnarkjs([0, 1, 2]),
        "INVALID_PUBLIC_SIGNALS",
        "publicSignals[0]",
      );
    });
  });
});
