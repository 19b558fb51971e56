import { readFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "chai";
import { type TestCircuit, loadTemplate } from "../helpers/circuits.js";
import { byteSamples, fieldSamples } from "../helpers/field-samples.js";
import {
  R,
  bytesToElements,
  cellHash,
  compress,
  permute,
  sponge,
} from "../helpers/poseidon2-reference.js";

const PERMUTATION = "circuits/poseidon2/permutation.circom";
const COMPRESS = "circuits/poseidon2/compress.circom";
const SPONGE = "circuits/poseidon2/sponge.circom";

interface KnownAnswer {
  permutation: { input: string[]; output: string[] };
}

// Every witness below is computed by the circuit's generator and then checked against every R1CS
// constraint (TestCircuit.calculate); the outputs are compared with the plain reference.
describe("Poseidon2 circuits", function () {
  this.timeout(300_000);

  describe("Poseidon2Permutation", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate(
        "poseidon2_permutation",
        [PERMUTATION],
        "Poseidon2Permutation()",
      );
    });

    it("spends at most 240 non-linear constraints (3 per S-box, 80 S-boxes)", function () {
      expect(circuit.build.nonLinearConstraints).to.be.at.most(240);
      expect(circuit.constraintCount).to.equal(circuit.build.nonLinearConstraints);
    });

    it("reproduces the known-answer test (February 2023 constants)", async function () {
      const file = path.join(import.meta.dirname, "..", "vectors", "poseidon2-bn254-t3.json");
      const kat = (JSON.parse(await readFile(file, "utf8")) as KnownAnswer).permutation;
      const witness = await circuit.calculate({ in: kat.input.map(BigInt) });
      expect(witness.array("main.out", 3)).to.deep.equal(kat.output.map(BigInt));
    });

    it("matches the reference on random states and edge values", async function () {
      const random = fieldSamples("permutation", 30);
      const states: [bigint, bigint, bigint][] = [
        [0n, 0n, 0n],
        [R - 1n, R - 1n, R - 1n],
        [1n, R - 1n, 0n],
      ];
      for (let i = 0; i < random.length; i += 3) {
        states.push([random[i]!, random[i + 1]!, random[i + 2]!]);
      }
      for (const state of states) {
        const witness = await circuit.calculate({ in: state });
        expect(witness.array("main.out", 3), `state ${state.join(", ")}`).to.deep.equal(
          permute(state),
        );
      }
    });
  });

  describe("Poseidon2Compress", function () {
    let circuit: TestCircuit;
    before(async function () {
      circuit = await loadTemplate("poseidon2_compress", [COMPRESS], "Poseidon2Compress()");
    });

    it("costs one permutation", function () {
      expect(circuit.build.nonLinearConstraints).to.equal(240);
    });

    for (const key of [0, 1, 2, 3] as const) {
      it(`matches the reference with key ${key}`, async function () {
        const [x, y, ...rest] = fieldSamples(`compress ${key}`, 8);
        const pairs: [bigint, bigint][] = [
          [x!, y!],
          [x!, 0n],
          [rest[0]!, rest[1]!],
          [rest[2]!, rest[3]!],
          [rest[4]!, rest[5]!],
        ];
        for (const [left, right] of pairs) {
          const witness = await circuit.calculate({ left, right, key });
          expect(witness.get("main.out")).to.equal(compress(left, right, key));
        }
      });
    }

    it("distinguishes the keys", async function () {
      const [left, right] = fieldSamples("compress keys", 2) as [bigint, bigint];
      const outputs = new Set<bigint>();
      for (const key of [0, 1, 2, 3]) {
        outputs.add((await circuit.calculate({ left, right, key })).get("main.out"));
      }
      expect(outputs.size).to.equal(4);
    });
  });

  describe("Poseidon2Sponge(n), rate 2", function () {
    for (const n of [1, 2, 3, 4, 5, 8, 67]) {
      describe(`n = ${n}`, function () {
        let circuit: TestCircuit;
        before(async function () {
          circuit = await loadTemplate(`poseidon2_sponge_${n}`, [SPONGE], `Poseidon2Sponge(${n})`);
        });

        const permutations = Math.floor(n / 2) + 1;
        it(`costs ${permutations} x 240 non-linear constraints`, function () {
          expect(circuit.build.nonLinearConstraints).to.equal(permutations * 240);
        });

        it("matches the reference on random inputs, zeros and r - 1", async function () {
          const inputs = [
            fieldSamples(`sponge ${n} a`, n),
            fieldSamples(`sponge ${n} b`, n),
            new Array<bigint>(n).fill(0n),
            new Array<bigint>(n).fill(R - 1n),
          ];
          for (const input of inputs) {
            const witness = await circuit.calculate({ in: input });
            expect(witness.get("main.out")).to.equal(sponge(input));
          }
        });

        if (n === 67) {
          it("hashes 2 KiB cells to the reference cell hash", async function () {
            for (const label of ["cell a", "cell b"]) {
              const cell = byteSamples(label, 2048);
              const witness = await circuit.calculate({ in: bytesToElements(cell) });
              expect(witness.get("main.out")).to.equal(cellHash(cell));
            }
          });
        }
      });
    }
  });
});
