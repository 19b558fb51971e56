/**
 * A plain, readable Poseidon2 (BN254, t = 3) and the Codex-style constructions built on it, written
 * straight from shared/spec/storage-proof.md with one BigInt operation at a time. It is slow on
 * purpose: it is the yardstick the fast library and the circuits are checked against, never used by
 * the node.
 */
import {
  EXTERNAL_ROUND_CONSTANTS,
  INTERNAL_ROUND_CONSTANTS,
} from "../../node/src/poseidon2/constants.js";

export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

type State = [bigint, bigint, bigint];

const add = (a: bigint, b: bigint) => (a + b) % R;
const sbox = (x: bigint) => {
  const x2 = (x * x) % R;
  return (((x2 * x2) % R) * x) % R;
};

/** circ(2,1,1): each lane plus the sum of all lanes. */
function externalLinear([a, b, c]: State): State {
  const sum = (a + b + c) % R;
  return [add(a, sum), add(b, sum), add(c, sum)];
}

/** [[2,1,1],[1,2,1],[1,1,3]]: the sum of all lanes plus diag(1,1,2) times the state. */
function internalLinear([a, b, c]: State): State {
  const sum = (a + b + c) % R;
  return [add(a, sum), add(b, sum), add((2n * c) % R, sum)];
}

function fullRound(state: State, round: number): State {
  const rc = (lane: number) => EXTERNAL_ROUND_CONSTANTS[3 * round + lane]!;
  return externalLinear([
    sbox(add(state[0], rc(0))),
    sbox(add(state[1], rc(1))),
    sbox(add(state[2], rc(2))),
  ]);
}

function partialRound(state: State, round: number): State {
  return internalLinear([
    sbox(add(state[0], INTERNAL_ROUND_CONSTANTS[round]!)),
    state[1],
    state[2],
  ]);
}

export function permute(input: readonly [bigint, bigint, bigint]): State {
  let state = externalLinear([input[0], input[1], input[2]]);
  for (let r = 0; r < 4; r++) state = fullRound(state, r);
  for (let r = 0; r < 56; r++) state = partialRound(state, r);
  for (let r = 4; r < 8; r++) state = fullRound(state, r);
  return state;
}

/** Sponge with "10*" padding (always padded), IV = 2^64 + 256*t + rate in the capacity lane. */
export function sponge(elements: readonly bigint[], rate: 1 | 2 = 2): bigint {
  const iv = 2n ** 64n + 256n * 3n + BigInt(rate);
  const padded = [...elements, 1n];
  while (padded.length % rate !== 0) padded.push(0n);
  let state: State = [0n, 0n, iv]; // the IV sits in the last lane for both rates
  for (let i = 0; i < padded.length; i += rate) {
    state =
      rate === 2
        ? [add(state[0], padded[i]!), add(state[1], padded[i + 1]!), state[2]]
        : [add(state[0], padded[i]!), state[1], state[2]];
    state = permute(state);
  }
  return state[0];
}

export function compress(x: bigint, y: bigint, key: number): bigint {
  return permute([x, y, BigInt(key)])[0];
}

/** 31-byte little-endian chunks; the last (possibly empty) chunk gets a 0x01 byte appended. */
export function bytesToElements(bytes: Uint8Array): bigint[] {
  const elements: bigint[] = [];
  const full = Math.floor(bytes.length / 31);
  const readLE = (chunk: Uint8Array) =>
    chunk.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  for (let i = 0; i < full; i++) elements.push(readLE(bytes.subarray(31 * i, 31 * i + 31)));
  const rest = new Uint8Array(bytes.length - 31 * full + 1);
  rest.set(bytes.subarray(31 * full));
  rest[rest.length - 1] = 1;
  elements.push(readLE(rest));
  return elements;
}

export function cellHash(cell: Uint8Array): bigint {
  return sponge(bytesToElements(cell));
}

const KEY_BOTTOM = 1;
const KEY_ODD = 2;

/** Every layer of the keyed Merkle tree, leaves first, root last. */
export function merkleLayers(leaves: readonly bigint[]): bigint[][] {
  if (leaves.length === 0) throw new Error("a Merkle tree needs at least one leaf");
  const layers: bigint[][] = [[...leaves]];
  let isBottom = true;
  // A single leaf is still compressed once (bottom and odd): the loop runs while the layer has more
  // than one node, or once for the bottom layer.
  while (layers.at(-1)!.length > 1 || isBottom) {
    const layer = layers.at(-1)!;
    const next: bigint[] = [];
    for (let i = 0; i < layer.length; i += 2) {
      const odd = i + 1 === layer.length;
      const key = (isBottom ? KEY_BOTTOM : 0) | (odd ? KEY_ODD : 0);
      next.push(compress(layer[i]!, odd ? 0n : layer[i + 1]!, key));
    }
    layers.push(next);
    isBottom = false;
  }
  return layers;
}

export function merkleRoot(leaves: readonly bigint[]): bigint {
  return merkleLayers(leaves).at(-1)![0]!;
}

/** Siblings from the leaf upwards; 0 where the node was the odd last one of its layer. */
export function merkleProof(leaves: readonly bigint[], index: number): bigint[] {
  const layers = merkleLayers(leaves);
  const path: bigint[] = [];
  let i = index;
  for (const layer of layers.slice(0, -1)) {
    const sibling = i ^ 1;
    path.push(sibling < layer.length ? layer[sibling]! : 0n);
    i >>= 1;
  }
  return path;
}

/** Cell indices for a challenge: h_k = sponge(entropy, slotRoot, k), index = h_k mod nCells. */
export function sampleCellIndices(
  entropy: bigint,
  slotRoot: bigint,
  nCells: number,
  nSamples: number,
): number[] {
  const indices: number[] = [];
  for (let k = 1; k <= nSamples; k++)
    indices.push(Number(sponge([entropy, slotRoot, BigInt(k)]) % BigInt(nCells)));
  return indices;
}
