import { expect } from "chai";
import { hexlify } from "ethers";
import { network } from "hardhat";
import { BN254_SCALAR_MODULUS as R } from "../../../node/src/proof/bn254.js";
import { StorageProofError } from "../../../node/src/proof/errors.js";
import type { PublicSignals } from "../../../node/src/proof/groth16-encoding.js";
import {
  type ProofInputRequest,
  type StorageProofInput,
  buildProofInput,
} from "../../../node/src/proof/input.js";
import {
  type StorageProof,
  StorageProofVerifier,
  StorageProver,
} from "../../../node/src/proof/prover.js";
import { storageProofPublicInputs } from "../../../node/src/proof/public-inputs.js";
import {
  type ProvableSlot,
  SlotTree,
  blockStoreFromBytes,
  provableSlot,
} from "../../../node/src/proof/slot-tree.js";
import { isHoldfastError } from "../../../node/src/errors.js";
import { MerkleTree, toBytesLE } from "../../../node/src/poseidon2/index.js";
import {
  type CircuitArtifacts,
  NAMED_INSTANCES,
  buildInstance,
} from "../../../scripts/circuits/instances.js";
import Groth16VerifierModule from "../../../deploy/modules/Groth16Verifier.js";
import type { Groth16Verifier } from "../../../node/src/chain/contracts/index.js";
import { byteSamples, fieldSamples } from "../../helpers/field-samples.js";

/** A slot of `nCells` pseudo-random cells, held in memory. */
async function makeSlot(label: string, nCells: number): Promise<ProvableSlot> {
  const store = blockStoreFromBytes(byteSamples(label, nCells * 2048));
  return provableSlot(await SlotTree.build(store), store);
}

type Slot = ProvableSlot;

/** A dataset whose slot `index` is `slot` and whose other slots only contribute their roots. */
function dataset(slot: Slot, index: number, nSlots: number, label: string) {
  const roots = fieldSamples(label, nSlots);
  roots[index] = slot.root;
  return { roots, merkleRoot: hexlify(toBytesLE(new MerkleTree(roots).root)) };
}

const challenge = (label: string) => hexlify(byteSamples(`challenge ${label}`, 32));

// Real Groth16 proofs of the dev instance from inputs the node builds, checked by the verifier
// contract (deployed by Ignition from the setup's parameters) and by snarkjs.
describe("storage prover (dev instance, real proofs)", function () {
  this.timeout(900_000);

  let artifacts: CircuitArtifacts;
  let prover: StorageProver;
  let verifier: StorageProofVerifier;
  let contract: Groth16Verifier;
  let requests: {
    oneBlock: ProofInputRequest;
    twoBlocks: ProofInputRequest;
    big: ProofInputRequest;
  };
  const proofs = new Map<string, { input: StorageProofInput; proof: StorageProof }>();

  before(async function () {
    artifacts = await buildInstance(NAMED_INSTANCES.dev);
    prover = new StorageProver(artifacts);
    verifier = await StorageProofVerifier.fromFile(artifacts.vkeyJson);
    const { ignition, ethers } = await network.create("hardhatMainnet");
    const { verifier: deployed } = await ignition.deploy(Groth16VerifierModule, {
      parameters: artifacts.verifierParameters,
    });
    contract = await ethers.getContractAt("Groth16Verifier", await deployed.getAddress());

    const request = async (slot: Slot, index: number, nSlots: number, label: string) => {
      const { roots, merkleRoot } = dataset(slot, index, nSlots, label);
      return {
        parameters: artifacts.parameters,
        challenge: challenge(label),
        merkleRoot,
        slotIndex: index,
        slotRoots: roots,
        slot,
      };
    };
    requests = {
      oneBlock: await request(await makeSlot("one block", 32), 0, 1, "one block"),
      twoBlocks: await request(await makeSlot("two blocks", 64), 2, 3, "two blocks"),
      big: await request(await makeSlot("big", 1024), 7, 11, "big"),
    };
  });

  after(async function () {
    await prover?.close();
    await verifier?.close();
  });

  const onChain = (proof: StorageProof, pub: readonly bigint[]) =>
    contract.verify(proof.proof, [pub[0]!, pub[1]!, pub[2]!]);
  const offChain = (proof: StorageProof, pub: readonly bigint[]) =>
    verifier.verify(proof.snarkjs.proof, pub);

  async function proveRequest(name: keyof typeof requests) {
    const input = await buildProofInput(requests[name]);
    const proof = await prover.prove(input);
    proofs.set(name, { input, proof });
    return { input, proof };
  }

  function proven(name: string) {
    const found = proofs.get(name);
    if (!found) throw new Error(`the proof of ${name} was not made (an earlier test failed)`);
    return found.proof;
  }

  describe("valid proofs", function () {
    for (const [name, what] of [
      ["oneBlock", "a one-block slot (32 cells), the only slot of its dataset"],
      ["twoBlocks", "a 64-cell slot, slot 2 of 3"],
      ["big", "a 2^10-cell slot, slot 7 of 11"],
    ] as const) {
      it(`proves ${what}; the contract and snarkjs accept it`, async function () {
        const { proof } = await proveRequest(name);
        const r = requests[name];
        const expected = storageProofPublicInputs(r.challenge, r.merkleRoot, r.slotIndex);
        expect(proof.publicSignals).to.deep.equal(expected);
        expect(await onChain(proof, proof.publicSignals)).to.equal(true);
        expect(await offChain(proof, proof.publicSignals)).to.equal(true);
      });
    }
  });

  describe("cheating at the verifier", function () {
    /** Both verifiers must refuse the proof for these public inputs. */
    async function expectRefused(proof: StorageProof, pub: readonly bigint[], what: string) {
      expect(await onChain(proof, pub), `contract: ${what}`).to.equal(false);
      expect(await offChain(proof, pub), `snarkjs: ${what}`).to.equal(false);
    }

    it("refuses a proof for a stale challenge (the next period's entropy)", async function () {
      const proof = proven("twoBlocks");
      const r = requests.twoBlocks;
      const fresh = storageProofPublicInputs(challenge("next period"), r.merkleRoot, r.slotIndex);
      await expectRefused(proof, fresh, "fresh entropy");
    });

    it("refuses a proof replayed for another slot of the same dataset", async function () {
      const proof = proven("twoBlocks");
      for (const slotIndex of [0n, 1n, 3n]) {
        const pub: PublicSignals = [proof.publicSignals[0], proof.publicSignals[1], slotIndex];
        await expectRefused(proof, pub, `slot ${slotIndex}`);
      }
      await expectRefused(proof, proven("big").publicSignals, "another request's inputs");
    });

    it("refuses a proof against another dataset root", async function () {
      const proof = proven("big");
      const pub: PublicSignals = [...proof.publicSignals];
      pub[1] = (pub[1] + 1n) % R;
      await expectRefused(proof, pub, "dataset root + 1");
    });

    it("refuses each public input shifted by r", async function () {
      const proof = proven("oneBlock");
      for (let i = 0; i < 3; i++) {
        const pub: bigint[] = [...proof.publicSignals];
        pub[i] = pub[i]! + R;
        await expectRefused(proof, pub, `input ${i} + r`);
      }
    });
  });

  describe("cheating in the witness", function () {
    /** The prover must refuse the tampered input with WITNESS_FAILED, before proving. */
    async function expectWitnessFails(input: StorageProofInput) {
      let failure: unknown;
      try {
        await prover.prove(input);
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(StorageProofError);
      expect((failure as StorageProofError).code).to.equal("WITNESS_FAILED");
      expect((failure as Error).message).to.match(/Assert Failed/);
    }

    it("refuses wrong cell data, another cell, a wrong slot index and stale entropy", async function () {
      const input = await buildProofInput(requests.big);
      const cellData = input.cellData.map((cell) => [...cell]);
      cellData[0]![10] = cellData[0]![10]! + 1n;
      await expectWitnessFails({ ...input, cellData });

      const otherIndex = await buildProofInput({ ...requests.big, challenge: challenge("other") });
      expect(otherIndex.merklePaths[0]).to.not.deep.equal(input.merklePaths[0]);
      await expectWitnessFails({
        ...input,
        cellData: otherIndex.cellData,
        merklePaths: otherIndex.merklePaths,
      });
      await expectWitnessFails({ ...input, entropy: otherIndex.entropy });
      await expectWitnessFails({ ...input, slotIndex: 6n });
    });

    it("refuses a slot root that is not in the dataset tree", async function () {
      const input = await buildProofInput(requests.twoBlocks);
      const stranger = await buildProofInput({
        ...requests.oneBlock,
        challenge: requests.twoBlocks.challenge,
      });
      await expectWitnessFails({
        ...stranger,
        dataSetRoot: input.dataSetRoot,
        slotIndex: input.slotIndex,
        nSlotsPerDataSet: input.nSlotsPerDataSet,
        slotProof: input.slotProof,
      });
    });
  });

  describe("the worker thread", function () {
    it("keeps the event loop free while it proves", async function () {
      const input = await buildProofInput(requests.oneBlock);
      // Event-loop utilisation: the share of the time the main thread ran code rather than waited.
      // Measured here: proving through the worker 0.003-0.011, snarkjs on the main thread
      // 0.24-0.35, with or without four busy loops loading the machine. The longest gap between
      // timer ticks does not separate the two on a loaded machine (both can pass 200 ms).
      const before = performance.eventLoopUtilization();
      await prover.prove(input);
      const { utilization } = performance.eventLoopUtilization(before);
      expect(utilization).to.be.lessThan(0.1);
    });

    it("stops a proof when its signal aborts, and proves again afterwards", async function () {
      const input = await buildProofInput(requests.oneBlock);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("period over")), 200);
      let failure: unknown;
      try {
        await prover.prove(input, { signal: controller.signal });
      } catch (error) {
        failure = error;
      }
      expect(isHoldfastError(failure, "ERR_ABORTED")).to.equal(true);
      expect(((failure as Error).cause as Error).message).to.equal("period over");
      const proof = await prover.prove(input);
      expect(await onChain(proof, proof.publicSignals)).to.equal(true);
    });

    it("refuses to prove once closed", async function () {
      const closing = new StorageProver(artifacts);
      await closing.close();
      let failure: unknown;
      try {
        await closing.prove(await buildProofInput(requests.oneBlock));
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(StorageProofError);
      expect((failure as StorageProofError).code).to.equal("CLOSED");
    });
  });
});
