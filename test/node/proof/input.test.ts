import { expect } from "chai";
import { hexlify } from "ethers";
import { type StorageProofErrorCode } from "../../../node/src/proof/errors.js";
import { StorageProofError } from "../../../node/src/proof/errors.js";
import { type ProofInputRequest, buildProofInput } from "../../../node/src/proof/input.js";
import { SlotTree, blockStoreFromBytes, provableSlot } from "../../../node/src/proof/slot-tree.js";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { isHoldfastError } from "../../../node/src/errors.js";
import { toBytesLE } from "../../../node/src/poseidon2/index.js";
import { poseidon2Trees } from "../../../node/src/slots/default-hashing.js";
import { zeroBlockRoot } from "../../../node/src/slots/hasher.js";
import { fieldSamples } from "../../helpers/field-samples.js";
import { merkleRoot } from "../../helpers/poseidon2-reference.js";
import {
  DEV_PARAMETERS,
  PRODUCTION_PARAMETERS,
  ReferenceSlot,
  referenceProofInput,
  sampleCells,
  sampleEntropies,
  sampleSlots,
  slotBytes,
} from "../../helpers/storage-proof-reference.js";

/** A challenge whose first 31 bytes (little-endian) are `entropy`, and a random last byte. */
function challengeFor(entropy: bigint): string {
  const bytes = toBytesLE(entropy);
  bytes[31] = 0xa5;
  return hexlify(bytes);
}

async function expectCode(promise: Promise<unknown>, code: StorageProofErrorCode) {
  let failure: unknown;
  try {
    await promise;
  } catch (error) {
    failure = error;
  }
  expect(failure, "no error").to.be.instanceOf(StorageProofError);
  expect((failure as StorageProofError).code).to.equal(code);
}

// The node's input builder against the BigInt reference builder, on the same slots.
describe("storage-proof input builder", function () {
  this.timeout(120_000);

  /** Node and reference inputs for slot `index` of `slots`. */
  async function both(
    slots: readonly ReferenceSlot[],
    index: number,
    entropy: bigint,
    parameters = DEV_PARAMETERS,
  ) {
    const store = blockStoreFromBytes(slotBytes(slots[index]!));
    const tree = await SlotTree.build(store);
    const roots = slots.map((s) => s.root);
    const node = await buildProofInput({
      parameters,
      challenge: challengeFor(entropy),
      merkleRoot: toBytesLE(merkleRoot(roots)),
      slotIndex: index,
      slotRoots: roots,
      slot: provableSlot(tree, store),
    });
    const reference = referenceProofInput(parameters, slots[index]!, roots, index, entropy);
    return { node, reference, tree };
  }

  it("builds the reference's input for one-block slots in datasets of 1 and 11 slots", async function () {
    const [entropy] = sampleEntropies("builder", 1) as [bigint];
    const single = sampleSlots("single", 1, 32);
    const { node, reference, tree } = await both(single, 0, entropy);
    expect(tree.root).to.equal(single[0]!.root);
    expect(node).to.deep.equal({ ...reference, slotIndex: 0n });
    const eleven = sampleSlots("eleven", 11, 32);
    for (const index of [0, 5, 10]) {
      const { node, reference } = await both(eleven, index, entropy);
      expect(node).to.deep.equal({ ...reference, slotIndex: BigInt(index) });
    }
  });

  it("builds the reference's input for 64-cell slots of a 3-slot dataset, with 5 samples at production size", async function () {
    const three = sampleSlots("three", 3, 64);
    for (const entropy of sampleEntropies("builder 3", 3)) {
      for (const parameters of [DEV_PARAMETERS, PRODUCTION_PARAMETERS]) {
        const { node, reference } = await both(three, 1, entropy, parameters);
        expect(node).to.deep.equal({ ...reference, slotIndex: 1n });
        expect(node.merklePaths).to.have.length(parameters.nSamples);
        expect(node.merklePaths[0]).to.have.length(parameters.maxDepth);
        expect(node.slotProof).to.have.length(parameters.maxLog2NSlots);
      }
    }
  });

  it("pads a slot of 3 blocks with an all-zero block to 128 cells", async function () {
    const cells = sampleCells("three blocks", 96);
    const padded = new ReferenceSlot([...cells, ...new Array(32).fill(new Uint8Array(2048))]);
    const data = slotBytes(padded).subarray(0, 3 * BLOCK_SIZE);
    const store = blockStoreFromBytes(data);
    const tree = await SlotTree.build(store);
    expect(tree.geometry.slotBlocks).to.equal(3);
    expect(tree.cellCount).to.equal(128);
    expect(tree.root).to.equal(padded.root);
    expect(tree.blockRoot(3)).to.equal(zeroBlockRoot(poseidon2Trees));
    // Sample until a cell of the padding block comes up: it is proven from zeros.
    const roots = [padded.root];
    let sawPadding = false;
    for (const entropy of sampleEntropies("padding", 40)) {
      const node = await buildProofInput({
        parameters: DEV_PARAMETERS,
        challenge: challengeFor(entropy),
        merkleRoot: toBytesLE(merkleRoot(roots)),
        slotIndex: 0,
        slotRoots: roots,
        slot: provableSlot(tree, store),
      });
      expect(node).to.deep.equal({
        ...referenceProofInput(DEV_PARAMETERS, padded, roots, 0, entropy),
        slotIndex: 0n,
      });
      if (node.cellData[0]!.slice(0, 66).every((x) => x === 0n)) sawPadding = true;
    }
    expect(sawPadding, "no sample fell in the padding block").to.equal(true);
  });

  describe("refusals", function () {
    let request: ProofInputRequest;
    let slots: ReferenceSlot[];
    let tree: SlotTree;
    before(async function () {
      slots = sampleSlots("refusals", 3, 32);
      const store = blockStoreFromBytes(slotBytes(slots[1]!));
      const roots = slots.map((s) => s.root);
      request = {
        parameters: DEV_PARAMETERS,
        challenge: challengeFor(sampleEntropies("refusals", 1)[0]!),
        merkleRoot: toBytesLE(merkleRoot(roots)),
        slotIndex: 1,
        slotRoots: roots,
        slot: provableSlot((tree = await SlotTree.build(store)), store),
      };
      await buildProofInput(request);
    });

    it("refuses a slot whose root is not the dataset's leaf at the index", async function () {
      await expectCode(buildProofInput({ ...request, slotIndex: 0 }), "SLOT_NOT_IN_DATASET");
      const roots = [...request.slotRoots];
      roots[1] = roots[1]! + 1n;
      await expectCode(buildProofInput({ ...request, slotRoots: roots }), "SLOT_NOT_IN_DATASET");
    });

    it("refuses slot roots whose tree is not the on-chain dataset root", async function () {
      const roots = [...request.slotRoots, fieldSamples("extra", 1)[0]!];
      await expectCode(buildProofInput({ ...request, slotRoots: roots }), "DATASET_ROOT_MISMATCH");
      await expectCode(
        buildProofInput({ ...request, merkleRoot: toBytesLE(123n) }),
        "DATASET_ROOT_MISMATCH",
      );
    });

    it("refuses a slot index outside the dataset", async function () {
      for (const slotIndex of [-1, 3, 1.5]) {
        await expectCode(buildProofInput({ ...request, slotIndex }), "BAD_SLOT_INDEX");
      }
    });

    it("refuses datasets and slots larger than the instance", async function () {
      const roots = fieldSamples("17 slots", 17);
      await expectCode(
        buildProofInput({ ...request, slotRoots: roots, merkleRoot: toBytesLE(merkleRoot(roots)) }),
        "TOO_LARGE",
      );
      // 33 blocks pad to 64: 2^11 cells, one level more than the dev instance's 2^10.
      const big = new SlotTree(fieldSamples("33 blocks", 33));
      expect(big.cellCount).to.equal(2048);
      const store = blockStoreFromBytes(new Uint8Array(33 * BLOCK_SIZE));
      await expectCode(
        buildProofInput({ ...request, slot: provableSlot(big, store) }),
        "TOO_LARGE",
      );
    });

    it("refuses circuit parameters for another cell layout", async function () {
      await expectCode(
        buildProofInput({ ...request, parameters: { ...DEV_PARAMETERS, nFieldElemsPerCell: 66 } }),
        "BAD_PARAMETERS",
      );
      await expectCode(
        buildProofInput({ ...request, parameters: { ...DEV_PARAMETERS, blockTreeDepth: 4 } }),
        "BAD_PARAMETERS",
      );
      await expectCode(
        buildProofInput({ ...request, parameters: { ...DEV_PARAMETERS, maxDepth: 5 } }),
        "BAD_PARAMETERS",
      );
    });

    it("refuses a store whose block changed since the slot tree was built, or is short", async function () {
      const changed = slotBytes(slots[1]!);
      changed[1000] = changed[1000]! ^ 1;
      const store = blockStoreFromBytes(changed);
      await expectCode(
        buildProofInput({ ...request, slot: provableSlot(tree, store) }),
        "BAD_BLOCK",
      );
      const short = {
        blockCount: 1,
        readBlock: () => Promise.resolve(new Uint8Array(BLOCK_SIZE - 1)),
      };
      await expectCode(
        buildProofInput({ ...request, slot: provableSlot(tree, short) }),
        "BAD_BLOCK",
      );
      await expectCode(SlotTree.build(short), "BAD_BLOCK");
      const longer = blockStoreFromBytes(new Uint8Array(2 * BLOCK_SIZE));
      expect(() => provableSlot(tree, longer))
        .to.throw(StorageProofError)
        .with.property("code", "BAD_BLOCK");
      expect(() => blockStoreFromBytes(new Uint8Array(BLOCK_SIZE + 1)))
        .to.throw(StorageProofError)
        .with.property("code", "BAD_BLOCK");
    });

    it("refuses a challenge or merkle root that is not 32 bytes", async function () {
      await expectCode(buildProofInput({ ...request, challenge: "0x00" }), "BAD_BYTES32");
      await expectCode(
        buildProofInput({ ...request, merkleRoot: new Uint8Array(31) }),
        "BAD_BYTES32",
      );
    });

    it("stops when its signal is aborted", async function () {
      const controller = new AbortController();
      controller.abort(new Error("stop"));
      let failure: unknown;
      try {
        await buildProofInput({ ...request, signal: controller.signal });
      } catch (error) {
        failure = error;
      }
      expect(isHoldfastError(failure, "ERR_ABORTED")).to.equal(true);
      expect(((failure as Error).cause as Error).message).to.equal("stop");
    });
  });
});
