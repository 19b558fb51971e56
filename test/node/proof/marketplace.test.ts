import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";
import { network } from "hardhat";
import { verificationKeyFromSnarkjs } from "../../../node/src/proof/groth16-encoding.js";
import { buildProofInput } from "../../../node/src/proof/input.js";
import { StorageProver } from "../../../node/src/proof/prover.js";
import {
  dataSetRootFromMerkleRoot,
  entropyFromChallenge,
} from "../../../node/src/proof/public-inputs.js";
import {
  type ProvableSlot,
  SlotTree,
  blockStoreFromBytes,
  provableSlot,
} from "../../../node/src/proof/slot-tree.js";
import { BN254_SCALAR_MODULUS as R } from "../../../node/src/proof/bn254.js";
import { MerkleTree, toBytesLE } from "../../../node/src/poseidon2/index.js";
import {
  type CircuitArtifacts,
  NAMED_INSTANCES,
  buildInstance,
} from "../../../scripts/circuits/instances.js";
import {
  type Deployed,
  type PublicInputs,
  type Request,
  type VerifierPlugin,
  exampleRequest,
  slotIdOf,
  testbed,
} from "../../contracts/marketplace/testbed.js";
import { byteSamples } from "../../helpers/field-samples.js";
import { readFile } from "node:fs/promises";

/** 32 bytes with byte i = f(i), as the contract holds them (byte 0 first). */
const bytes32 = (f: (i: number) => number) =>
  hexlify(Uint8Array.from({ length: 32 }, (_, i) => f(i)));

// The node's public-input encoding against the marketplace's (contracts/marketplace/FieldEncoding.sol).
describe("storage-proof public inputs, node and marketplace", function () {
  it("read challenges and dataset roots as FieldEncoding does", async function () {
    const { ethers } = await network.create();
    const harness = await ethers.deployContract("FieldEncodingHarness");
    const patterns = [
      bytes32(() => 0),
      bytes32(() => 0xff),
      bytes32((i) => i),
      bytes32((i) => 255 - i),
      bytes32((i) => (i === 30 ? 0x80 : 0)),
      bytes32((i) => (i === 31 ? 0x30 : 0)),
      ...Array.from({ length: 24 }, () => hexlify(randomBytes(32))),
    ];
    for (const value of patterns) {
      expect(entropyFromChallenge(value), value).to.equal(await harness.challengeToEntropy(value));
      const onChain = await harness.merkleRootToField(value);
      if (onChain < R) expect(dataSetRootFromMerkleRoot(value), value).to.equal(onChain);
      else expect(() => dataSetRootFromMerkleRoot(value), value).to.throw(/not below r/);
    }
  });
});

/** A dataset of `nSlots` slots of 32 cells (one block each), held in memory. */
async function makeDataset(label: string, nSlots: number) {
  const slots: ProvableSlot[] = [];
  for (let s = 0; s < nSlots; s++) {
    const store = blockStoreFromBytes(byteSamples(`${label}/${s}`, 32 * 2048));
    slots.push(provableSlot(await SlotTree.build(store), store));
  }
  const slotRoots = slots.map((slot) => slot.root);
  return { slots, slotRoots, root: new MerkleTree(slotRoots).root };
}

type Dataset = Awaited<ReturnType<typeof makeDataset>>;

let artifacts: CircuitArtifacts;
let prover: StorageProver;
const datasets = new Map<bigint, Dataset>();

/** The marketplace's verifier plugin: the dev Groth16Verifier and proofs from the node's prover. */
const realVerifier: VerifierPlugin = {
  name: "Groth16Verifier with the dev instance's key",
  async deploy(connection) {
    const vkey = JSON.parse(await readFile(artifacts.vkeyJson, "utf8")) as unknown;
    const verifier = await connection.ethers.deployContract("Groth16Verifier", [
      verificationKeyFromSnarkjs(vkey),
    ]);
    return verifier.getAddress();
  },
  async proofFor([entropy, root, slotIndex]: PublicInputs) {
    const dataset = datasets.get(root);
    if (!dataset) throw new Error(`no dataset with root ${root}`);
    // Any 32 bytes whose first 31 read little-endian give the entropy: the challenge's own.
    const input = await buildProofInput({
      parameters: artifacts.parameters,
      challenge: toBytesLE(entropy),
      merkleRoot: toBytesLE(root),
      slotIndex: Number(slotIndex),
      slotRoots: dataset.slotRoots,
      slot: dataset.slots[Number(slotIndex)]!,
    });
    return (await prover.prove(input)).proof;
  },
};

const bed = testbed(await network.create(), undefined, realVerifier);

// Real proofs of the dev instance, through the real Marketplace and Groth16Verifier: the marketplace
// computes the public inputs itself (challenge, content.merkleRoot, slot index), so a proof the node
// made passes only if both sides encode them the same way.
describe("storage proofs submitted to the marketplace (dev instance, real proofs)", function () {
  this.timeout(900_000);

  let d: Deployed;
  let request: Request;
  let requestId: string;

  before(async function () {
    artifacts = await buildInstance(NAMED_INSTANCES.dev);
    prover = new StorageProver(artifacts);
    const dataset = await makeDataset("marketplace", 4);
    datasets.set(dataset.root, dataset);
    d = await bed.deploy();
    await bed.advanceToNextPeriod();
    request = exampleRequest(d.actors.client.address);
    request.content.merkleRoot = hexlify(toBytesLE(dataset.root));
    // Filling each of the 4 slots takes a proof for its own slot index.
    ({ requestId } = await bed.startRequest(d, request));
  });

  after(async function () {
    await prover?.close();
  });

  it("accepts each host's proof for its slot in a later period", async function () {
    await bed.advanceToNextPeriod();
    for (const slotIndex of [0n, 3n]) {
      const host = d.actors.hosts[Number(slotIndex)]!;
      await expect(bed.submitProof(d, request, slotIndex, host))
        .to.emit(d.marketplace, "ProofSubmitted")
        .withArgs(slotIdOf(requestId, slotIndex));
    }
  });

  it("refuses a proof made for another slot of the request", async function () {
    await bed.advanceToNextPeriod();
    const slotId = slotIdOf(requestId, 1n);
    // Slot 2's proof against slot 1's challenge of the next block: only the slot index differs.
    const latest = (await bed.ethers.provider.getBlock("latest"))!;
    const at = BigInt(latest.timestamp) + 1n;
    await bed.time.setNextBlockTimestamp(at);
    const challenge = await bed.challengeAt(slotId, latest.number + 1, at);
    const root = dataSetRootFromMerkleRoot(request.content.merkleRoot);
    const replayed = await realVerifier.proofFor([entropyFromChallenge(challenge), root, 2n]);
    await expect(
      d.marketplace.connect(d.actors.hosts[1]!).submitProof(slotId, replayed),
    ).to.be.revertedWithCustomError(d.marketplace, "Proofs_InvalidProof");
  });

  it("refuses a proof made for an earlier challenge", async function () {
    const slotId = slotIdOf(requestId, 2n);
    const { proof: stale } = await bed.proofForNextBlock(slotId, 2n, request.content.merkleRoot);
    await bed.mineBlocks(1); // the block the proof was made for passes
    await bed.advanceToNextPeriod();
    await expect(
      d.marketplace.connect(d.actors.hosts[2]!).submitProof(slotId, stale),
    ).to.be.revertedWithCustomError(d.marketplace, "Proofs_InvalidProof");
  });
});
