/**
 * The deployment as it happens on Taiko, against a separate JSON-RPC node process: `hardhat node`
 * serving a chain with Taiko Hoodi's id (167013) under the Shanghai rules (the taikoHoodiLocal
 * network of hardhat.config.ts). The system is deployed through the Ignition modules with
 * deploy/parameters/taikoHoodi.json and the dev circuit's real verification key, the record goes to
 * a temporary folder, and one request runs its whole life over JSON-RPC with real Groth16 proofs.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet, hexlify } from "ethers";
import { network } from "hardhat";
import { readDeployment } from "../../node/src/chain/deployment.js";
import type { TestToken } from "../../node/src/chain/contracts/index.js";
import { buildProofInput } from "../../node/src/proof/input.js";
import { StorageProver } from "../../node/src/proof/prover.js";
import {
  type ProvableSlot,
  SlotTree,
  blockStoreFromBytes,
  provableSlot,
} from "../../node/src/proof/slot-tree.js";
import { MerkleTree, toBytesLE } from "../../node/src/poseidon2/index.js";
import {
  type CircuitArtifacts,
  NAMED_INSTANCES,
  buildInstance,
} from "../../scripts/circuits/instances.js";
import { releaseSnarkjsWorkers } from "../../scripts/circuits/snarkjs-runtime.js";
import { deploymentProblems } from "../../scripts/deploy/check.js";
import { type HoldfastDeployment, deployHoldfast } from "../../scripts/deploy/holdfast.js";
import { readNetworkParameters } from "../../scripts/deploy/networks.js";
import { findForbiddenOpcodes } from "../../scripts/lib/evm-opcodes.js";
import { repoRoot } from "../../scripts/lib/paths.js";
import {
  type Config,
  type Connection,
  type Deployed,
  type Request,
  RequestState,
  STARTING_BALANCE,
  SlotState,
  type Testbed,
  type VerifierPlugin,
  collateralPerSlot,
  exampleRequest,
  maxPrice,
  pricePerSlotPerSecond,
  requestIdOf,
  slotIdOf,
  testbed,
} from "../contracts/marketplace/testbed.js";
import { byteSamples } from "../helpers/field-samples.js";

const TAIKO_HOODI_CHAIN_ID = 167013n;
const require = createRequire(import.meta.url);

/** Hardhat's simulated networks derive their accounts from this mnemonic (EDR's default). */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** A `hardhat node` child process and the URL it serves. */
interface NodeProcess {
  child: ChildProcess;
  url: string;
}

/** Starts `hardhat node --network taikoHoodiLocal` on a free port; resolves once it listens. */
async function startNode(): Promise<NodeProcess> {
  const cli = path.join(repoRoot, "node_modules", "hardhat", "dist", "src", "cli.js");
  const args = [cli, "node", "--network", "taikoHoodiLocal", "--hostname", "127.0.0.1"];
  const child = spawn(process.execPath, [...args, "--port", "0"], {
    cwd: repoRoot,
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // never leave a node behind that the test cannot stop
      reject(new Error(`node did not start:\n${output}`));
    }, 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /JSON-RPC server at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}:\n${output}`));
    });
  });
  // The node logs every call; keep reading so its pipe never fills and blocks it.
  child.stdout!.resume();
  child.stderr!.resume();
  return { child, url };
}

async function stopNode(node: NodeProcess | undefined): Promise<void> {
  if (!node || node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.child.once("exit", () => resolve()));
  node.child.kill("SIGTERM");
  const timer = setTimeout(() => node.child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * A dataset of `nSlots` slots of 32 cells (one block each) held in memory, as the node's prover
 * reads it (the same shape as test/node/proof/marketplace.test.ts uses).
 */
async function makeDataset(label: string, nSlots: number) {
  const slots: ProvableSlot[] = [];
  for (let s = 0; s < nSlots; s++) {
    const store = blockStoreFromBytes(byteSamples(`${label}/${s}`, 32 * 2048));
    slots.push(provableSlot(await SlotTree.build(store), store));
  }
  const slotRoots = slots.map((slot) => slot.root);
  return { slots, slotRoots, root: new MerkleTree(slotRoots).root };
}

describe("deployment to a Taiko Hoodi node (separate process, Shanghai rules)", function () {
  this.timeout(1_200_000);

  let node: NodeProcess | undefined;
  let deploymentsDir: string | undefined;
  let artifacts: CircuitArtifacts;
  let prover: StorageProver | undefined;
  let connection: Connection;
  let deployment: HoldfastDeployment;
  let config: Config;

  before(async function () {
    artifacts = await buildInstance(NAMED_INSTANCES.dev);
    await releaseSnarkjsWorkers();
    node = await startNode();
    deploymentsDir = await mkdtemp(path.join(tmpdir(), "holdfast-deployments-"));
    connection = await network.create({
      network: "localhost",
      override: { url: node.url, chainId: Number(TAIKO_HOODI_CHAIN_ID) },
    });
    deployment = await deployHoldfast(connection, {
      parameters: "taikoHoodi",
      verificationKey: artifacts.vkeyJson,
      zkeyHash: artifacts.zkeyHash,
      deploymentsDir,
    });
  });

  after(async function () {
    await prover?.close();
    await releaseSnarkjsWorkers();
    await stopNode(node);
    if (deploymentsDir) await rm(deploymentsDir, { recursive: true, force: true });
  });

  it("deploys through the Ignition modules and records the deployment by chain id", async function () {
    const { ethers } = connection;
    expect((await ethers.provider.getNetwork()).chainId).to.equal(TAIKO_HOODI_CHAIN_ID);
    expect(deployment.chainId).to.equal(TAIKO_HOODI_CHAIN_ID);
    expect(deployment.deploymentDir).to.equal(
      path.join(deploymentsDir!, `chain-${TAIKO_HOODI_CHAIN_ID}`),
    );
    const recorded = await readDeployment(TAIKO_HOODI_CHAIN_ID, { dir: deploymentsDir! });
    expect(recorded).to.deep.equal({
      chainId: TAIKO_HOODI_CHAIN_ID,
      marketplace: deployment.marketplace,
      token: deployment.token,
      verifier: deployment.verifier,
      deployBlock: deployment.deployBlock,
    });
    const receiptBlock = await ethers.provider.getBlock(deployment.deployBlock);
    expect(receiptBlock!.number).to.be.greaterThan(256);
    // The marketplace has code from its deploy block on, and none before it.
    expect(
      await ethers.provider.getCode(deployment.marketplace, deployment.deployBlock),
    ).to.not.equal("0x");
    expect(
      await ethers.provider.getCode(deployment.marketplace, deployment.deployBlock - 1),
    ).to.equal("0x");

    const marketplace = await ethers.getContractAt("Marketplace", deployment.marketplace);
    expect(await marketplace.token()).to.equal(deployment.token);
    const parameters = (await readNetworkParameters("taikoHoodi")).marketplace;
    const onChain = await marketplace.configuration();
    expect(onChain.proofs.period).to.equal(BigInt(parameters.proofs.period));
    expect(onChain.proofs.downtime).to.equal(BigInt(parameters.proofs.downtime));
    expect(onChain.proofs.minBlockTimeMs).to.equal(BigInt(parameters.proofs.minBlockTimeMs));
    expect(onChain.proofs.zkeyHash).to.equal(artifacts.zkeyHash);
  });

  it("matches the chain and the taikoHoodi parameters (the record check), and a wrong record does not", async function () {
    const provider = connection.ethers.provider;
    const recorded = (await readDeployment(TAIKO_HOODI_CHAIN_ID, { dir: deploymentsDir! }))!;
    const parameters = (await readNetworkParameters("taikoHoodi")).marketplace;
    expect(
      await deploymentProblems(provider, recorded, { parameters, zkeyHash: artifacts.zkeyHash }),
    ).to.deep.equal([]);
    const swapped = { ...recorded, token: recorded.verifier };
    expect(await deploymentProblems(provider, swapped)).to.deep.equal([
      `marketplace pays in ${recorded.token}, the record says ${recorded.verifier}`,
    ]);
    const otherPeriod = { ...parameters, proofs: { ...parameters.proofs, period: 60 } };
    expect(await deploymentProblems(provider, recorded, { parameters: otherPeriod })).to.deep.equal(
      [`proofs.period is ${parameters.proofs.period}, expected 60`],
    );
  });

  it("npm run deploy deploys and checks with the taikoHoodi network's key from the environment", async function () {
    const dir = await mkdtemp(path.join(deploymentsDir!, "cli-"));
    const artifactsFile = path.join(dir, "artifacts.json");
    await writeFile(artifactsFile, JSON.stringify(artifacts));
    const run = (args: string[]) =>
      spawnSync(process.execPath, [require.resolve("tsx/cli"), "scripts/deploy/cli.ts", ...args], {
        cwd: repoRoot,
        encoding: "utf8",
        env: {
          ...process.env,
          HARDHAT_DISABLE_TELEMETRY_PROMPT: "true",
          // The taikoHoodi network's configuration variables, as an operator would set them.
          TAIKO_HOODI_RPC_URL: node!.url,
          TAIKO_HOODI_PRIVATE_KEY: Wallet.fromPhrase(DEV_MNEMONIC).privateKey,
          TAIKO_PRIVATE_KEY: Wallet.fromPhrase(DEV_MNEMONIC).privateKey,
        },
      });
    const common = ["--network", "taikoHoodi", "--artifacts", artifactsFile];
    const deployed = run([...common, "--deployments-dir", dir]);
    expect(deployed.status, deployed.stderr).to.equal(0);
    const result = JSON.parse(deployed.stdout) as Record<string, unknown>;
    const recorded = (await readDeployment(TAIKO_HOODI_CHAIN_ID, { dir }))!;
    expect(result).to.deep.equal({
      chainId: TAIKO_HOODI_CHAIN_ID.toString(),
      token: recorded.token,
      verifier: recorded.verifier,
      marketplace: recorded.marketplace,
      deployBlock: recorded.deployBlock,
      deploymentDir: path.join(dir, `chain-${TAIKO_HOODI_CHAIN_ID}`),
    });
    expect(recorded.marketplace).to.not.equal(deployment.marketplace);
    expect(deployed.stderr).to.match(/confirmed Marketplace#Marketplace/);

    const checked = run(["check", ...common, "--deployments-dir", dir]);
    expect(checked.status, checked.stderr).to.equal(0);
    expect(checked.stderr).to.match(/matches the chain and taikoHoodi's parameters/);

    const wrongHash = run([
      "check",
      "--network",
      "taikoHoodi",
      "--zkey-hash",
      "00",
      "--deployments-dir",
      dir,
    ]);
    expect(wrongHash.status).to.equal(1);
    expect(wrongHash.stderr).to.match(/zkeyHash is [0-9a-f]{64}, expected 00/);

    // The network named must be the chain the RPC serves: Alethia's parameters never reach Hoodi.
    const wrongChain = run([
      "--network",
      "taiko",
      "--artifacts",
      artifactsFile,
      "--rpc-url",
      node!.url,
    ]);
    expect(wrongChain.status).to.equal(1);
    expect(wrongChain.stderr).to.match(/taiko is chain 167000, but the RPC serves chain 167013/);
  });

  it("deploys no bytecode with an opcode Taiko lacks (TSTORE, TLOAD, MCOPY, BLOBHASH, BLOBBASEFEE)", async function () {
    const { ethers } = connection;
    for (const [name, address] of [
      ["token", deployment.token],
      ["verifier", deployment.verifier],
      ["marketplace", deployment.marketplace],
    ] as const) {
      const code = await ethers.provider.getCode(address);
      expect(code.length, `${name} has code`).to.be.greaterThan(2);
      expect(findForbiddenOpcodes(code), name).to.deep.equal([]);
    }
  });

  it("runs one request through its whole life over JSON-RPC with real proofs", async function () {
    const { ethers } = connection;
    const parameters = (await readNetworkParameters("taikoHoodi")).marketplace;
    config = {
      collateral: mapBig(parameters.collateral),
      proofs: { ...mapBig(parameters.proofs), zkeyHash: artifacts.zkeyHash },
      reservations: mapBig(parameters.reservations),
      requestDurationLimit: BigInt(parameters.requestDurationLimit),
    };
    prover = new StorageProver(artifacts);
    const dataset = await makeDataset("taiko-hoodi", 4);
    const realProofs: VerifierPlugin = {
      name: "Groth16Verifier with the dev instance's key",
      deploy() {
        throw new Error("deployed through Ignition");
      },
      async proofFor([entropy, root, slotIndex]) {
        expect(root).to.equal(dataset.root);
        const input = await buildProofInput({
          parameters: artifacts.parameters,
          challenge: toBytesLE(entropy),
          merkleRoot: toBytesLE(root),
          slotIndex: Number(slotIndex),
          slotRoots: dataset.slotRoots,
          slot: dataset.slots[Number(slotIndex)]!,
        });
        return (await prover!.prove(input)).proof;
      },
    };
    const bed: Testbed = testbed(connection, config, realProofs);
    const [deployer, client, h1, h2, h3, h4, h5, validator, stranger] = await ethers.getSigners();
    const token = (await ethers.getContractAt("TestToken", deployment.token)) as TestToken;
    const marketplace = await ethers.getContractAt("Marketplace", deployment.marketplace);
    const d: Deployed = {
      marketplace,
      token,
      // Typed as the testbed's test verifier; the test never calls it (it is the real one).
      verifier: await ethers.getContractAt("TestGroth16Verifier", deployment.verifier),
      config,
      actors: {
        deployer: deployer!,
        client: client!,
        hosts: [h1!, h2!, h3!, h4!, h5!],
        validator: validator!,
        stranger: stranger!,
      },
    };
    // The test token's owner is Ignition's sender, the node's first account.
    for (const account of [client!, h1!, h2!, h3!, h4!]) {
      await token.connect(deployer).mint(account.address, STARTING_BALANCE);
    }

    const request: Request = exampleRequest(client!.address);
    request.content.merkleRoot = hexlify(toBytesLE(dataset.root));
    const { requestId, createdAt } = await bed.requestStorage(d, request);
    expect(await marketplace.requestState(requestId)).to.equal(RequestState.New);

    // The reservation window (windowDoublings on Taiko) admits each host at its own time.
    const filledAt: bigint[] = [];
    for (let i = 0n; i < request.ask.slots; i++) {
      const host = d.actors.hosts[Number(i)]!;
      const eligibleAt = await marketplace.reservationEligibleAt(requestId, i, host.address);
      if (eligibleAt > (await bed.latestTimestamp())) await bed.time.increaseTo(eligibleAt);
      filledAt.push((await bed.fillSlot(d, request, i, host)).filledAt);
    }
    expect(await marketplace.requestState(requestId)).to.equal(RequestState.Started);

    // Every host proves in a later period, with the pointer out of the downtime (a proof is due).
    await bed.advanceToNextPeriod();
    for (let i = 0n; i < request.ask.slots; i++) {
      const slotId = slotIdOf(requestId, i);
      const period = bed.periodOf(await bed.latestTimestamp());
      await bed.alignPointer(slotId, period, true);
      await bed.mineBlocks(1);
      expect(await marketplace.isProofRequired(slotId), `slot ${i} owes a proof`).to.equal(true);
      await expect(bed.submitProof(d, request, i, d.actors.hosts[Number(i)]!))
        .to.emit(marketplace, "ProofSubmitted")
        .withArgs(slotId);
      expect(bed.periodOf(await bed.latestTimestamp())).to.equal(period);
    }

    const end = await marketplace.requestEnd(requestId);
    expect(end).to.equal(createdAt + request.ask.duration);
    await bed.time.increaseTo(end + 1n);
    expect(await marketplace.requestState(requestId)).to.equal(RequestState.Finished);

    const pps = pricePerSlotPerSecond(request.ask);
    let paidToHosts = 0n;
    for (let i = 0n; i < request.ask.slots; i++) {
      const host = d.actors.hosts[Number(i)]!;
      const slotId = slotIdOf(requestId, i);
      expect(await marketplace.missingProofs(slotId)).to.equal(0n);
      const before = await token.balanceOf(host.address);
      await marketplace.connect(host).freeSlot(slotId);
      const payment = (end - filledAt[Number(i)]!) * pps;
      expect((await token.balanceOf(host.address)) - before, `host ${i}`).to.equal(
        payment + collateralPerSlot(request.ask),
      );
      expect(await marketplace.slotState(slotId)).to.equal(SlotState.Paid);
      paidToHosts += payment;
    }
    const clientBefore = await token.balanceOf(client!.address);
    await marketplace.connect(client).withdrawFunds(requestIdOf(request));
    expect((await token.balanceOf(client!.address)) - clientBefore).to.equal(
      maxPrice(request.ask) - paidToHosts,
    );
    expect(await token.balanceOf(deployment.marketplace)).to.equal(0n);
  });
});

/** Each number of `o` as a bigint (the testbed's Config holds bigints). */
function mapBig<T extends Record<string, number>>(o: T): { [K in keyof T]: bigint } {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, BigInt(v)])) as {
    [K in keyof T]: bigint;
  };
}
