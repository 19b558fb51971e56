import { expect } from "chai";
import { network } from "hardhat";
import * as snarkjs from "snarkjs";
import { BN254_BASE_MODULUS as Q, BN254_SCALAR_MODULUS as R } from "../../node/src/proof/bn254.js";
import {
  type G2PointArg,
  type Groth16ProofArg,
  type Groth16VerificationKeyArg,
  type PublicSignals,
  proofFromSnarkjs,
  publicSignalsFromSnarkjs,
  verificationKeyFromSnarkjs,
} from "../../node/src/proof/groth16-encoding.js";
import { findForbiddenOpcodes } from "../../scripts/lib/evm-opcodes.js";
import { releaseSnarkjsWorkers } from "../../scripts/circuits/snarkjs-runtime.js";
import type { Groth16Verifier } from "../../node/src/chain/contracts/index.js";
import { isOnG1, isOnTwist, twistPointOutsideG2 } from "../helpers/bn254.js";
import {
  type ThreePublicSetup,
  proveThreePublic,
  threePublicSetup,
} from "../helpers/three-public-fixture.js";

interface RealProof {
  snarkjs: { proof: snarkjs.Groth16Proof; publicSignals: string[] };
  proof: Groth16ProofArg;
  pub: PublicSignals;
}

/** KeyPoint enum of Groth16Verifier, in declaration order. */
const KeyPoint = { Alpha1: 0, Beta2: 1, Gamma2: 2, Delta2: 3, IC0: 4, IC1: 5, IC2: 6, IC3: 7 };
const g1Points = [
  ["Alpha1", (k: Groth16VerificationKeyArg) => k.alpha1],
  ["IC0", (k: Groth16VerificationKeyArg) => k.ic[0]],
  ["IC1", (k: Groth16VerificationKeyArg) => k.ic[1]],
  ["IC2", (k: Groth16VerificationKeyArg) => k.ic[2]],
  ["IC3", (k: Groth16VerificationKeyArg) => k.ic[3]],
] as const;
const g2Points = [
  ["Beta2", (k: Groth16VerificationKeyArg) => k.beta2],
  ["Gamma2", (k: Groth16VerificationKeyArg) => k.gamma2],
  ["Delta2", (k: Groth16VerificationKeyArg) => k.delta2],
] as const;

/** The eight coordinates of a proof, by name, as getters on a (cloned) proof. */
const proofCoordinates: [
  string,
  (p: Groth16ProofArg) => { get(): bigint; set(v: bigint): void },
][] = [
  ["a.x", (p) => field(p.a, "x")],
  ["a.y", (p) => field(p.a, "y")],
  ["b.x.real", (p) => field(p.b.x, "real")],
  ["b.x.imag", (p) => field(p.b.x, "imag")],
  ["b.y.real", (p) => field(p.b.y, "real")],
  ["b.y.imag", (p) => field(p.b.y, "imag")],
  ["c.x", (p) => field(p.c, "x")],
  ["c.y", (p) => field(p.c, "y")],
];

function field<T extends object, K extends keyof T>(o: T, k: K) {
  return {
    get: () => o[k] as bigint,
    set: (v: bigint) => {
      o[k] = v as T[K];
    },
  };
}

const swapHalves = (p: G2PointArg): G2PointArg => ({
  x: { real: p.x.imag, imag: p.x.real },
  y: { real: p.y.imag, imag: p.y.real },
});

/** snarkjs's projective JSON form of a G2 point, [c0, c1] per coordinate. */
const g2ToSnarkjs = (p: G2PointArg): snarkjs.Groth16Proof["pi_b"] => [
  [p.x.real.toString(), p.x.imag.toString()],
  [p.y.real.toString(), p.y.imag.toString()],
  ["1", "0"],
];

// Real Groth16 proofs of the three-public-input fixture, checked by the verifier contract on a
// Shanghai chain and, for every case snarkjs can express, by snarkjs.groth16.verify as well.
describe("Groth16Verifier (BN254, 3 public inputs, real proofs)", function () {
  this.timeout(180_000);
  after(releaseSnarkjsWorkers);

  let fixture: ThreePublicSetup;
  let key: Groth16VerificationKeyArg;
  let first: RealProof;
  let second: RealProof;
  let verifier: Groth16Verifier;
  let ethers: Awaited<ReturnType<typeof network.create>>["ethers"];

  async function prove(secret: bigint, dataSetRoot: bigint, slotIndex: bigint) {
    const result = await proveThreePublic(fixture, secret, dataSetRoot, slotIndex);
    return {
      snarkjs: result,
      proof: proofFromSnarkjs(result.proof),
      pub: publicSignalsFromSnarkjs(result.publicSignals),
    };
  }

  const verify = (proof: Groth16ProofArg, pub: readonly bigint[]) =>
    verifier.verify(proof, [pub[0]!, pub[1]!, pub[2]!]);

  async function snarkjsVerify(proof: snarkjs.Groth16Proof, pub: readonly bigint[]) {
    const ok = await snarkjs.groth16.verify(fixture.vkey, pub, proof);
    await releaseSnarkjsWorkers();
    return ok;
  }

  before(async function () {
    fixture = await threePublicSetup();
    key = verificationKeyFromSnarkjs(fixture.vkey);
    // A large dataSetRoot and entropy like the real ones, and a slot index past 2^32.
    first = await prove(123_456_789n, R - 987_654_321n, 7n);
    second = await prove(5n, 0x1234_5678_9abc_def0n, 2n ** 40n + 3n);
    await releaseSnarkjsWorkers();
    ({ ethers } = await network.create("hardhatMainnet"));
    verifier = await ethers.deployContract("Groth16Verifier", [key]);
  });

  describe("valid proofs", function () {
    it("accepts real proofs, as snarkjs does", async function () {
      for (const { snarkjs: s, proof, pub } of [first, second]) {
        expect(await snarkjsVerify(s.proof, pub)).to.equal(true);
        expect(await verify(proof, pub)).to.equal(true);
      }
    });

    it("returns the verification key it was deployed with", async function () {
      const held = await verifier.verificationKey();
      expect(held.alpha1.x).to.equal(key.alpha1.x);
      expect(held.alpha1.y).to.equal(key.alpha1.y);
      for (const name of ["beta2", "gamma2", "delta2"] as const) {
        expect([
          held[name].x.real,
          held[name].x.imag,
          held[name].y.real,
          held[name].y.imag,
        ]).to.deep.equal(
          [key[name].x.real, key[name].x.imag, key[name].y.real, key[name].y.imag],
          name,
        );
      }
      expect(held.ic.map((p) => [p.x, p.y])).to.deep.equal(key.ic.map((p) => [p.x, p.y]));
    });

    it("holds the key in its code, not in storage, and the code has no Cancun opcodes", async function () {
      const address = await verifier.getAddress();
      const code = await ethers.provider.getCode(address);
      for (const word of [key.alpha1.x, key.delta2.y.imag, key.ic[3].y]) {
        expect(code).to.include(word.toString(16).padStart(64, "0"));
      }
      expect(await ethers.provider.getStorage(address, 0)).to.equal(ethers.ZeroHash);
      expect(findForbiddenOpcodes(code)).to.deep.equal([]);
    });
  });

  describe("public inputs", function () {
    it("rejects each public input changed by one, as snarkjs does", async function () {
      for (let i = 0; i < 3; i++) {
        const pub = [...first.pub];
        pub[i] = (pub[i]! + 1n) % R;
        expect(await verify(first.proof, pub), `input ${i}`).to.equal(false);
        expect(await snarkjsVerify(first.snarkjs.proof, pub), `snarkjs, input ${i}`).to.equal(
          false,
        );
      }
    });

    it("rejects each public input shifted by r (not taken for the same field element)", async function () {
      for (let i = 0; i < 3; i++) {
        const pub = [...first.pub];
        pub[i] = pub[i]! + R;
        expect(await verify(first.proof, pub), `input ${i}`).to.equal(false);
        expect(await snarkjsVerify(first.snarkjs.proof, pub), `snarkjs, input ${i}`).to.equal(
          false,
        );
        pub[i] = 2n ** 256n - 1n;
        expect(await verify(first.proof, pub), `input ${i} = 2^256 - 1`).to.equal(false);
      }
    });

    it("rejects a proof with the inputs of another proof, and the other way round", async function () {
      expect(await verify(first.proof, second.pub)).to.equal(false);
      expect(await verify(second.proof, first.pub)).to.equal(false);
      expect(await snarkjsVerify(first.snarkjs.proof, second.pub)).to.equal(false);
      expect(await snarkjsVerify(second.snarkjs.proof, first.pub)).to.equal(false);
    });
  });

  describe("malformed proofs", function () {
    it("rejects each proof coordinate shifted by q, set to q, or set to 2^256 - 1", async function () {
      for (const [name, at] of proofCoordinates) {
        for (const [label, bad] of [
          ["+ q", (v: bigint) => v + Q],
          ["= q", () => Q],
          ["= 2^256 - 1", () => 2n ** 256n - 1n],
        ] as const) {
          const proof = structuredClone(first.proof);
          const coordinate = at(proof);
          coordinate.set(bad(coordinate.get()));
          expect(await verify(proof, first.pub), `${name} ${label}`).to.equal(false);
        }
      }
    });

    it("rejects A or C off the curve, as snarkjs does", async function () {
      for (const point of ["a", "c"] as const) {
        const proof = structuredClone(first.proof);
        proof[point].y = (proof[point].y + 1n) % Q;
        expect(isOnG1(proof[point].x, proof[point].y)).to.equal(false);
        expect(await verify(proof, first.pub), point).to.equal(false);
        const raw = structuredClone(first.snarkjs.proof);
        const pi = point === "a" ? raw.pi_a : raw.pi_c;
        pi[1] = proof[point].y.toString();
        expect(await snarkjsVerify(raw, first.pub), `snarkjs, ${point}`).to.equal(false);
      }
    });

    it("rejects A, B or C at the point at infinity", async function () {
      for (const point of ["a", "b", "c"] as const) {
        const proof = structuredClone(first.proof);
        if (point === "b") proof.b = { x: { real: 0n, imag: 0n }, y: { real: 0n, imag: 0n } };
        else proof[point] = { x: 0n, y: 0n };
        expect(await verify(proof, first.pub), point).to.equal(false);
      }
    });

    it("rejects B off the twist, as snarkjs does", async function () {
      const proof = structuredClone(first.proof);
      proof.b.x.real = (proof.b.x.real + 1n) % Q;
      expect(isOnTwist(proof.b)).to.equal(false);
      expect(await verify(proof, first.pub)).to.equal(false);
      const raw = { ...first.snarkjs.proof, pi_b: g2ToSnarkjs(proof.b) };
      expect(await snarkjsVerify(raw, first.pub)).to.equal(false);
    });

    it("rejects B on the twist but outside G2 (the order-r subgroup), as snarkjs does", async function () {
      const proof = structuredClone(first.proof);
      proof.b = twistPointOutsideG2();
      expect(isOnTwist(proof.b)).to.equal(true);
      expect(await verify(proof, first.pub)).to.equal(false);
      const raw = { ...first.snarkjs.proof, pi_b: g2ToSnarkjs(proof.b) };
      expect(await snarkjsVerify(raw, first.pub)).to.equal(false);
    });

    it("returns false, rather than running out of gas, when the pairing precompile fails", async function () {
      // A failing precompile consumes all the gas it was given (63/64 of what was left); at a
      // realistic gas limit what remains must still be enough to return false.
      const proof = structuredClone(first.proof);
      proof.b = twistPointOutsideG2(5n);
      const pub: PublicSignals = [...first.pub];
      expect(await verifier.verify.staticCall(proof, pub, { gasLimit: 400_000 })).to.equal(false);
      expect(await verifier.verify.staticCall(first.proof, pub, { gasLimit: 400_000 })).to.equal(
        true,
      );
    });

    it("rejects B with its Fp2 halves swapped, as snarkjs does", async function () {
      const proof = { ...first.proof, b: swapHalves(first.proof.b) };
      expect(await verify(proof, first.pub)).to.equal(false);
      const raw = { ...first.snarkjs.proof, pi_b: g2ToSnarkjs(proof.b) };
      expect(await snarkjsVerify(raw, first.pub)).to.equal(false);
    });

    it("rejects a proof with A negated or with A and C exchanged", async function () {
      const negated = structuredClone(first.proof);
      negated.a.y = Q - negated.a.y;
      expect(await verify(negated, first.pub)).to.equal(false);
      const exchanged = { ...first.proof, a: first.proof.c, c: first.proof.a };
      expect(await verify(exchanged, first.pub)).to.equal(false);
    });
  });

  describe("constructor", function () {
    const deploy = (vk: Groth16VerificationKeyArg) =>
      ethers.deployContract("Groth16Verifier", [vk]);
    const expectRevert = async (
      vk: Groth16VerificationKeyArg,
      error: string,
      point: number,
      label: string,
    ) => {
      const factory = await ethers.getContractFactory("Groth16Verifier");
      await expect(deploy(vk), label).to.be.revertedWithCustomError(factory, error).withArgs(point);
    };

    it("rejects a G1 point with a coordinate >= q, naming it", async function () {
      for (const [name, get] of g1Points) {
        for (const coordinate of ["x", "y"] as const) {
          const vk = structuredClone(key);
          get(vk)[coordinate] += Q;
          await expectRevert(vk, "Groth16Verifier_KeyCoordinateNotInField", KeyPoint[name], name);
        }
      }
    });

    it("rejects a G2 point with a coordinate >= q, naming it", async function () {
      for (const [name, get] of g2Points) {
        for (const [axis, half] of [
          ["x", "real"],
          ["x", "imag"],
          ["y", "real"],
          ["y", "imag"],
        ] as const) {
          const vk = structuredClone(key);
          get(vk)[axis][half] += Q;
          await expectRevert(vk, "Groth16Verifier_KeyCoordinateNotInField", KeyPoint[name], name);
        }
      }
    });

    it("rejects a G1 point off the curve or at infinity, naming it", async function () {
      for (const [name, get] of g1Points) {
        const vk = structuredClone(key);
        get(vk).y = (get(vk).y + 1n) % Q;
        await expectRevert(vk, "Groth16Verifier_KeyPointNotOnCurve", KeyPoint[name], name);
        Object.assign(get(vk), { x: 0n, y: 0n });
        await expectRevert(vk, "Groth16Verifier_KeyPointNotOnCurve", KeyPoint[name], `${name} = 0`);
      }
    });

    it("rejects a G2 point off the twist or with its Fp2 halves swapped, naming it", async function () {
      for (const [name, get] of g2Points) {
        const vk = structuredClone(key);
        get(vk).y.imag = (get(vk).y.imag + 1n) % Q;
        await expectRevert(vk, "Groth16Verifier_KeyPointNotOnCurve", KeyPoint[name], name);
        const swapped = structuredClone(key);
        Object.assign(get(swapped), swapHalves(get(key)));
        expect(isOnTwist(get(swapped))).to.equal(false);
        await expectRevert(swapped, "Groth16Verifier_KeyPointNotOnCurve", KeyPoint[name], name);
      }
    });

    it("rejects a G2 point on the twist but outside G2, naming it", async function () {
      for (const [name, get] of g2Points) {
        const vk = structuredClone(key);
        Object.assign(get(vk), twistPointOutsideG2());
        await expectRevert(vk, "Groth16Verifier_KeyPointNotInSubgroup", KeyPoint[name], name);
      }
    });

    it("deploys a key of valid points that is not the setup's, which then rejects the real proof", async function () {
      const vk = { ...key, gamma2: key.delta2, delta2: key.gamma2 };
      const other = await deploy(vk);
      expect(await other.verify(first.proof, first.pub)).to.equal(false);
    });
  });
});
