/**
 * A marketplace on a fresh simulated chain, with its token, a test verifier, funded actors and the
 * steps of a request's life as helpers. Ids, challenges, public inputs and money are computed here
 * from the specification, independently of the contracts, so tests compare two implementations.
 */
import {
  AbiCoder,
  getBytes,
  hexlify,
  keccak256,
  randomBytes,
  type Result,
  toUtf8Bytes,
} from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { network } from "hardhat";
import type {
  Marketplace,
  TestGroth16Verifier,
  TestToken,
} from "../../../node/src/chain/contracts/index.js";
import type {
  Groth16ProofStruct,
  MarketplaceConfigStruct,
} from "../../../node/src/chain/contracts/marketplace/Marketplace.js";

export type Connection = Awaited<ReturnType<typeof network.create>>;

export const SECONDS_PER_DAY = 86_400n;
export const STARTING_BALANCE = 10n ** 30n;

export interface Ask {
  proofProbability: bigint;
  pricePerBytePerSecond: bigint;
  collateralPerByte: bigint;
  slots: bigint;
  slotSize: bigint;
  duration: bigint;
  maxSlotLoss: bigint;
}

export interface Request {
  client: string;
  ask: Ask;
  content: { cid: string; merkleRoot: string };
  expiry: bigint;
  nonce: string;
}

export interface Config {
  collateral: {
    repairRewardPercentage: bigint;
    maxNumberOfSlashes: bigint;
    slashPercentage: bigint;
    validatorRewardPercentage: bigint;
  };
  proofs: {
    period: bigint;
    timeout: bigint;
    downtime: bigint;
    downtimeProduct: bigint;
    zkeyHash: string;
    minBlockTimeMs: bigint;
  };
  reservations: {
    maxReservations: bigint;
    windowDoublings: bigint;
    windowExpansionPercentage: bigint;
  };
  requestDurationLimit: bigint;
}

/** Codex's defaults (marketplace spec, "Configuration"), a 1-second block time, the window off. */
export function exampleConfig(): Config {
  return {
    collateral: {
      repairRewardPercentage: 10n,
      maxNumberOfSlashes: 2n,
      slashPercentage: 20n,
      validatorRewardPercentage: 20n,
    },
    proofs: {
      period: 120n,
      timeout: 30n,
      downtime: 64n,
      downtimeProduct: 67n,
      zkeyHash: "zkey-hash-for-tests",
      minBlockTimeMs: 1000n,
    },
    reservations: { maxReservations: 3n, windowDoublings: 0n, windowExpansionPercentage: 50n },
    requestDurationLimit: 30n * SECONDS_PER_DAY,
  };
}

/** A dataset root that is a field element: 31 random bytes and a zero top byte (little-endian). */
export function randomMerkleRoot(): string {
  return hexlify(new Uint8Array([...randomBytes(31), 0]));
}

export function exampleRequest(client: string): Request {
  return {
    client,
    ask: {
      proofProbability: 1n, // a proof every period: tests of proofs are deterministic
      pricePerBytePerSecond: 3n,
      collateralPerByte: 7_000n,
      slots: 4n,
      slotSize: 1_024n,
      duration: 2n * SECONDS_PER_DAY,
      maxSlotLoss: 1n,
    },
    content: {
      cid: hexlify(toUtf8Bytes("zDvZRwzmCvtiyubW9AecnxgLnXK8GrBvpQJBDzToxmzDN6Nrc2CZ")),
      merkleRoot: randomMerkleRoot(),
    },
    expiry: 3_600n,
    nonce: hexlify(randomBytes(32)),
  };
}

/** A struct returned by a contract call, as a plain object keyed by field name. */
export function plain(value: unknown): Record<string, unknown> {
  return (value as Result).toObject();
}

// ---- ids, as the specification defines them --------------------------------------------------

const REQUEST_TYPE =
  "tuple(address client, tuple(uint256 proofProbability, uint256 pricePerBytePerSecond, " +
  "uint256 collateralPerByte, uint64 slots, uint64 slotSize, uint64 duration, uint64 maxSlotLoss) ask, " +
  "tuple(bytes cid, bytes32 merkleRoot) content, uint64 expiry, bytes32 nonce)";

export function requestIdOf(request: Request): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode([REQUEST_TYPE], [request]));
}

export function slotIdOf(requestId: string, slotIndex: bigint | number): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [requestId, BigInt(slotIndex)]),
  );
}

// ---- money, as the specification defines it -----------------------------------------------------

export const pricePerSlotPerSecond = (ask: Ask) => ask.pricePerBytePerSecond * ask.slotSize;
export const collateralPerSlot = (ask: Ask) => ask.collateralPerByte * ask.slotSize;
export const maxPrice = (ask: Ask) => ask.slots * ask.duration * pricePerSlotPerSecond(ask);
export const slashAmount = (config: Config, ask: Ask) =>
  (collateralPerSlot(ask) * config.collateral.slashPercentage) / 100n;
export const validatorRewardPerSlash = (config: Config, ask: Ask) =>
  (slashAmount(config, ask) * config.collateral.validatorRewardPercentage) / 100n;
export const repairReward = (config: Config, ask: Ask) =>
  (collateralPerSlot(ask) * config.collateral.repairRewardPercentage) / 100n;

// ---- field encoding, as the storage-proof specification defines it -------------------------------

/** Little-endian integer of `bytes`. */
export function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

/** Entropy of a challenge: its bytes 0..30, little-endian. */
export const entropyOf = (challenge: string) => littleEndian(getBytes(challenge).slice(0, 31));
/** A dataset root (32 bytes little-endian) as a field element. */
export const rootToField = (root: string) => littleEndian(getBytes(root));

// ---- the testbed ---------------------------------------------------------------------------------

export interface Actors {
  deployer: HardhatEthersSigner;
  client: HardhatEthersSigner;
  hosts: HardhatEthersSigner[];
  validator: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
}

export interface Deployed {
  marketplace: Marketplace;
  token: TestToken;
  /** The test verifier; only meaningful when the testbed runs with `testVerifier`. */
  verifier: TestGroth16Verifier;
  config: Config;
  actors: Actors;
}

/** Public inputs in the circuit's order: entropy, dataSetRoot, slotIndex. */
export type PublicInputs = [bigint, bigint, bigint];

/** A proof verifier to run the marketplace with: how to deploy it and how to prove given inputs. */
export interface VerifierPlugin {
  name: string;
  deploy(connection: Connection): Promise<string>;
  proofFor(inputs: PublicInputs): Promise<Groth16ProofStruct>;
}

/** The test verifier in its default mode, where a proof is valid for the inputs it carries. */
export const testVerifier: VerifierPlugin = {
  name: "TestGroth16Verifier (binds inputs, no pairing check)",
  async deploy(connection) {
    return (await connection.ethers.deployContract("TestGroth16Verifier")).getAddress();
  },
  async proofFor([entropy, root, slotIndex]) {
    // The unchecked coordinates are full-size numbers so that calldata costs what a real proof's does.
    const filler = (i: number) => BigInt(keccak256(toUtf8Bytes(`filler ${i}`))) >> 2n;
    return {
      a: { x: entropy, y: root },
      b: { x: { real: filler(0), imag: filler(1) }, y: { real: filler(2), imag: filler(3) } },
      c: { x: slotIndex, y: filler(4) },
    };
  },
};

export function testbed(
  connection: Connection,
  config: Config = exampleConfig(),
  verifierPlugin: VerifierPlugin = testVerifier,
) {
  const { ethers, networkHelpers } = connection;
  const { time } = networkHelpers;

  async function deploy(): Promise<Deployed> {
    // The pointer reads up to 256 blocks back; the marketplace refuses to exist before that.
    await networkHelpers.mine(300, { interval: 0 });
    const [deployer, client, h1, h2, h3, h4, h5, validator, stranger] = await ethers.getSigners();
    const hosts = [h1!, h2!, h3!, h4!, h5!];
    const token = await ethers.deployContract("TestToken", [deployer!.address, 0n]);
    const verifierAddress = await verifierPlugin.deploy(connection);
    const verifier = await ethers.getContractAt("TestGroth16Verifier", verifierAddress);
    const marketplace = await ethers.deployContract("Marketplace", [
      config as MarketplaceConfigStruct,
      await token.getAddress(),
      verifierAddress,
    ]);
    for (const account of [client!, ...hosts, validator!, stranger!]) {
      await token.mint(account.address, STARTING_BALANCE);
    }
    return {
      marketplace,
      token,
      verifier,
      config,
      actors: {
        deployer: deployer!,
        client: client!,
        hosts,
        validator: validator!,
        stranger: stranger!,
      },
    };
  }

  /** The challenge of `slotId` at block `blockNumber` with time `timestamp`, from the spec's formula. */
  async function challengeAt(slotId: string, blockNumber: number, timestamp: bigint) {
    const period = timestamp / config.proofs.period;
    const pointer = pointerAt(slotId, period, blockNumber);
    const block = await ethers.provider.getBlock(blockNumber - 1 - pointer);
    return keccak256(block!.hash!);
  }

  function pointerAt(slotId: string, period: bigint, blockNumber: number): number {
    const p =
      ((BigInt(blockNumber) % 256n) +
        ((period * config.proofs.downtimeProduct) % 256n) +
        (BigInt(slotId) % 256n)) %
      256n;
    return Number(p);
  }

  /**
   * Pins the next block's timestamp (one second after the latest unless given) and returns the
   * proof of the slot for that block: the next transaction must be the one that uses it.
   */
  async function proofForNextBlock(
    slotId: string,
    slotIndex: bigint,
    merkleRoot: string,
    timestamp?: bigint,
  ): Promise<{
    proof: Groth16ProofStruct;
    timestamp: bigint;
    challenge: string;
    inputs: PublicInputs;
  }> {
    const latest = (await ethers.provider.getBlock("latest"))!;
    const at = timestamp ?? BigInt(latest.timestamp) + 1n;
    await time.setNextBlockTimestamp(at);
    const challenge = await challengeAt(slotId, latest.number + 1, at);
    const inputs: PublicInputs = [entropyOf(challenge), rootToField(merkleRoot), slotIndex];
    return { proof: await verifierPlugin.proofFor(inputs), timestamp: at, challenge, inputs };
  }

  async function latestTimestamp(): Promise<bigint> {
    return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  }

  async function blockTimestamp(txHash: string): Promise<bigint> {
    const receipt = await ethers.provider.getTransactionReceipt(txHash);
    return BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);
  }

  /** Mines `count` blocks without moving time (more than the clock's one-second rounding). */
  async function mineBlocks(count: number) {
    if (count > 0) await networkHelpers.mine(count, { interval: 0 });
  }

  /** Requests `request` as its client (approving the price first); returns id and creation time. */
  async function requestStorage(d: Deployed, request: Request, signer = d.actors.client) {
    await d.token.connect(signer).approve(await d.marketplace.getAddress(), maxPrice(request.ask));
    const tx = await d.marketplace.connect(signer).requestStorage(request);
    return { requestId: requestIdOf(request), createdAt: await blockTimestamp(tx.hash), tx };
  }

  /** Reserves and fills slot `slotIndex` as `host`; returns the fill time. */
  async function fillSlot(
    d: Deployed,
    request: Request,
    slotIndex: bigint,
    host: HardhatEthersSigner,
    options: { repair?: boolean } = {},
  ) {
    const requestId = requestIdOf(request);
    const slotId = slotIdOf(requestId, slotIndex);
    const deposit =
      collateralPerSlot(request.ask) - (options.repair ? repairReward(config, request.ask) : 0n);
    await d.token.connect(host).approve(await d.marketplace.getAddress(), deposit);
    await d.marketplace.connect(host).reserveSlot(requestId, slotIndex);
    const { proof } = await proofForNextBlock(slotId, slotIndex, request.content.merkleRoot);
    const tx = await d.marketplace.connect(host).fillSlot(requestId, slotIndex, proof);
    return { slotId, filledAt: await blockTimestamp(tx.hash), tx };
  }

  /** Fills every slot of a requested `request`, slot i by hosts[i]; the request is then Started. */
  async function fillAll(d: Deployed, request: Request) {
    const fills = [];
    for (let i = 0n; i < request.ask.slots; i++) {
      fills.push(await fillSlot(d, request, i, d.actors.hosts[Number(i)]!));
    }
    return fills;
  }

  /** Requests `request` and fills every slot, slot i by hosts[i]; the request is then Started. */
  async function startRequest(d: Deployed, request: Request) {
    const { requestId, createdAt } = await requestStorage(d, request);
    return { requestId, createdAt, fills: await fillAll(d, request) };
  }

  /** Submits the proof of `slotId` for the current period as `host`. */
  async function submitProof(
    d: Deployed,
    request: Request,
    slotIndex: bigint,
    host: HardhatEthersSigner,
  ) {
    const slotId = slotIdOf(requestIdOf(request), slotIndex);
    const { proof } = await proofForNextBlock(slotId, slotIndex, request.content.merkleRoot);
    return d.marketplace.connect(host).submitProof(slotId, proof);
  }

  const periodOf = (timestamp: bigint) => timestamp / config.proofs.period;
  const periodEnd = (period: bigint) => (period + 1n) * config.proofs.period;

  /** Moves the clock to the start of the next period (mining one block there). */
  async function advanceToNextPeriod() {
    const now = await latestTimestamp();
    await time.increaseTo(periodEnd(periodOf(now)));
  }

  /**
   * Mines blocks (without moving time) until the next block's pointer for `slotId` and `period` is
   * outside the downtime (`outside` true) or inside it (`outside` false).
   */
  async function alignPointer(slotId: string, period: bigint, outside: boolean) {
    const latest = (await ethers.provider.getBlock("latest"))!;
    const next = latest.number + 1;
    const pointer = pointerAt(slotId, period, next);
    const downtime = Number(config.proofs.downtime);
    let blocks = 0;
    if (outside && pointer < downtime) blocks = downtime - pointer;
    if (!outside && pointer >= downtime) blocks = 256 - pointer;
    await mineBlocks(blocks);
  }

  /**
   * Lets period `period` pass without a proof and moves to the first moment a validator can mark it:
   * the clock at the period's end and the pointer out of downtime for the next block.
   */
  async function advanceToMarkable(slotId: string, period: bigint) {
    await time.increaseTo(periodEnd(period));
    await alignPointer(slotId, period, true);
  }

  /**
   * Lets the slot miss the proof of the next period (never the current one, which may be the fill
   * period) and marks it missing as `validator`.
   */
  async function missProof(d: Deployed, slotId: string, validator = d.actors.validator) {
    const missed = periodOf(await latestTimestamp()) + 1n;
    await advanceToMarkable(slotId, missed);
    const tx = await d.marketplace.connect(validator).markProofAsMissing(slotId, missed);
    return { period: missed, tx };
  }

  /**
   * networkHelpers.loadFixture, then the next block one second after the snapshot's last. After a
   * revert Hardhat's clock runs ahead by up to twice the wall time since the snapshot, and that
   * adds up over a file's tests until windows of a few seconds close early.
   */
  async function loadFixture<T>(fixture: () => Promise<T>): Promise<T> {
    const result = await networkHelpers.loadFixture(fixture);
    await time.setNextBlockTimestamp((await latestTimestamp()) + 1n);
    return result;
  }

  return {
    config,
    deploy,
    loadFixture,
    challengeAt,
    pointerAt,
    proofForNextBlock,
    latestTimestamp,
    blockTimestamp,
    mineBlocks,
    requestStorage,
    fillSlot,
    fillAll,
    startRequest,
    submitProof,
    periodOf,
    periodEnd,
    advanceToNextPeriod,
    alignPointer,
    advanceToMarkable,
    missProof,
    time,
    networkHelpers,
    ethers,
  };
}

export type Testbed = ReturnType<typeof testbed>;

/** Marketplace RequestState and SlotState, in declaration order. */
export const RequestState = { New: 0n, Started: 1n, Cancelled: 2n, Finished: 3n, Failed: 4n };
export const SlotState = {
  Free: 0n,
  Filled: 1n,
  Finished: 2n,
  Failed: 3n,
  Paid: 4n,
  Cancelled: 5n,
  Repair: 6n,
};
