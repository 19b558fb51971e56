/**
 * The Poseidon2 kernel: a WebAssembly module, generated here, that runs the permutation, the
 * sponge, cell hashing and Merkle layers entirely on its own linear memory, so JavaScript crosses
 * into it once per call (per permutation, per batch of cells, per tree layer) and never per field
 * operation.
 *
 * Interface: every element that enters or leaves the kernel is 32 little-endian bytes, canonical
 * (< r); the caller (../kernel.ts) checks that before writing. Inside, the sponge state is
 * three elements in Montgomery form at LAYOUT.state.
 */
import { type FunctionBuilder, type Local, ModuleBuilder } from "./encoder.js";
import { FieldEmitter, LIMB_ELEMENT_BYTES as E, montgomeryLimbs } from "./montgomery.js";

export const FULL_ROUNDS = 8;
export const PARTIAL_ROUNDS = 56;
const WIDTH = 3;

/** Fixed addresses in the kernel's memory (bytes). Buffers from `heap` on belong to the caller. */
export const LAYOUT = {
  /** Round constants in Montgomery form, in the order the rounds use them (written at startup). */
  roundConstants: 0,
  /** The permutation state: 3 elements of 36 bytes. */
  state: 3072,
  /** One element passed to and from the S-box function. */
  scratch: 3200,
  /** A zeroed 32-byte chunk (+8 readable bytes) for the last, padded piece of a byte string. */
  tail: 3264,
  /** permute()'s input and output: 3 x 32 bytes. */
  io: 4096,
  heap: 65536,
} as const;
export const ROUND_CONSTANT_COUNT = WIDTH * FULL_ROUNDS + PARTIAL_ROUNDS;

/** Sponge IV: 2^64 + 256*t + rate in the capacity lane (storage-proof.md, "Sponge"). */
const spongeIv = (rate: 1 | 2) => 2n ** 64n + 256n * BigInt(WIDTH) + BigInt(rate);

/** Emits `for (i = start; i < end; i += step) body()` with `end` in a local. */
function forLoop(
  f: FunctionBuilder,
  i: Local,
  end: Local,
  step: number,
  body: () => void,
  start = 0,
): void {
  f.i32(start).set(i);
  f.block().loop();
  f.get(i).get(end).op("i32.ge_u").brIf(1);
  body();
  f.get(i).i32(step).op("i32.add").set(i);
  f.br(0).end().end();
}

/**
 * x^5 in place for the normalised element at ptr (< 11r); the result is < 2r, normalised. A
 * function of its own rather than inlined into the rounds: with fewer live locals V8 allocates
 * registers much better, which more than pays for the call and the 18 loads and stores (about
 * 30% faster on the machine we measured).
 */
function emitSbox(m: ModuleBuilder): FunctionBuilder {
  const f = m.addFunction("sbox", ["i32"], null);
  const ptr = f.params[0]!;
  const F = new FieldEmitter(f);
  const x = F.element();
  const x2 = F.element();
  const x4 = F.element();
  F.load(x, ptr, 0);
  F.squareLoose(x2, x);
  F.squareLoose(x4, x2);
  F.mulLoose(x, x4, x);
  F.store(ptr, 0, x);
  return f;
}

/**
 * The permutation on the state at `ptr` (three reduced elements in, three reduced elements out).
 * The lanes live in i64 locals for all 64 rounds; memory is touched only for the round constants.
 * Full rounds (the first and last four) apply the S-box x^5 to every lane and then the matrix
 * circ(2,1,1); the 56 partial rounds apply it to lane 0 only and then ones + diag(1,1,2). That is
 * why partial rounds are cheap: one S-box (two squarings and a product) plus a few limb additions,
 * since both matrices come down to "add the sum of the lanes" (and double lane 2 once more).
 *
 * Values stay loose (see montgomery.ts) with these bounds, in multiples of r:
 * - S-box input: normalised, below 11 (so x^2 and x^4 * x stay within ka*kb <= 169); output < 2.
 * - full round: each lane (< 14) plus its constant is loosely reduced to < 3 (normalised) before
 *   its S-box; after the matrix, lane + sum < 2 + 6 = 8.
 * - limbs between normalisations are sums of at most six normalised limbs, so below 2^32, as
 *   reduceLoose needs.
 * - partial round: lanes 1 and 2 (< 14) are loosely reduced to < 3 first; lane 0 (< 10) plus its
 *   constant is < 11; then lane 0 = 2*s0 + s1 + s2 < 10, lane 1 = s0 + 2*s1 + s2 < 11,
 *   lane 2 = s0 + s1 + 3*s2 < 14, all within reduceLoose's < 16.
 */
function emitPermutation(m: ModuleBuilder): FunctionBuilder {
  const sboxFn = emitSbox(m);
  const f = m.addFunction("permuteState", ["i32"], null);
  const ptr = f.params[0]!;
  const F = new FieldEmitter(f);
  const lanes = [F.element(), F.element(), F.element()] as const;
  const [s0, s1, s2] = lanes;
  const sum = F.element();
  const rc = F.element();
  const rcPtr = f.local("i32");
  const round = f.local("i32");
  const scratch = f.local("i32");
  f.i32(LAYOUT.scratch).set(scratch);

  /** x = x^5 for normalised x < 11r; the result is < 2r, normalised. */
  const sbox = (x: Local[]) => {
    F.store(scratch, 0, x);
    f.get(scratch).call(sboxFn, m);
    F.load(x, scratch, 0);
  };
  /** lane += its round constant (at rcPtr + offset), limb by limb. */
  const addRoundConstant = (lane: Local[], offset: number) => {
    F.load(rc, rcPtr, offset);
    F.addLimbs(lane, lane, rc);
  };
  /** circ(2,1,1): every lane plus the sum of all lanes. */
  const externalLinear = () => {
    F.addLimbs(sum, s0, s1, s2);
    for (const lane of lanes) F.addLimbs(lane, lane, sum);
  };

  lanes.forEach((lane, k) => F.load(lane, ptr, k * E));
  externalLinear(); // applied once to the input before the first round: lanes < 4r
  f.i32(LAYOUT.roundConstants).set(rcPtr);
  f.i32(0).set(round);
  f.loop();
  {
    // Full round iff round < 4 or round >= 60: as unsigned, (round - 4) >= 56 covers both.
    f.get(round)
      .i32(FULL_ROUNDS / 2)
      .op("i32.sub")
      .i32(PARTIAL_ROUNDS)
      .op("i32.ge_u")
      .if();
    lanes.forEach((lane, k) => {
      addRoundConstant(lane, k * E);
      F.reduceLoose(lane);
      sbox(lane);
    });
    externalLinear();
    f.get(rcPtr)
      .i32(WIDTH * E)
      .op("i32.add")
      .set(rcPtr);
    f.else();
    F.reduceLoose(s1);
    F.reduceLoose(s2);
    addRoundConstant(s0, 0);
    F.normalise(s0);
    sbox(s0);
    // [[2,1,1],[1,2,1],[1,1,3]] with sum = s1 + s2; lane 0 is read last, after the others used it.
    F.addLimbs(sum, s1, s2);
    F.addLimbs(s2, s0, sum, s2, s2);
    F.addLimbs(s1, s0, sum, s1);
    F.addLimbs(s0, s0, s0, sum);
    f.get(rcPtr).i32(E).op("i32.add").set(rcPtr);
    f.end();
  }
  f.get(round).i32(1).op("i32.add").tee(round);
  f.i32(FULL_ROUNDS + PARTIAL_ROUNDS)
    .op("i32.ne")
    .brIf(0)
    .end();
  // Lanes are < 8r after the last full round: back to reduced values.
  lanes.forEach((lane, k) => {
    F.reduceLoose(lane);
    F.reduceFully(lane);
    F.store(ptr, k * E, lane);
  });
  return f;
}

/** lane += the element in `byteCount` little-endian bytes at src (a sponge absorb step). */
function emitAbsorb(m: ModuleBuilder, byteCount: 31 | 32): FunctionBuilder {
  const f = m.addFunction(`absorb${byteCount}`, ["i32", "i32"], null);
  const [lanePtr, src] = f.params as [Local, Local];
  const F = new FieldEmitter(f);
  const x = F.element();
  const lane = F.element();
  F.unpackBytes(x, src, 0, byteCount);
  F.toMontgomery(x, x);
  F.load(lane, lanePtr, 0);
  F.add(lane, lane, x);
  F.store(lanePtr, 0, lane);
  return f;
}

/** lane += 1: the "10*" padding element (the zeros that follow it change nothing). */
function emitAddOne(m: ModuleBuilder): FunctionBuilder {
  const f = m.addFunction("addOne", ["i32"], null);
  const lanePtr = f.params[0]!;
  const F = new FieldEmitter(f);
  const one = F.element();
  const lane = F.element();
  F.setConstant(one, montgomeryLimbs(1n));
  F.load(lane, lanePtr, 0);
  F.add(lane, lane, one);
  F.store(lanePtr, 0, lane);
  return f;
}

/** lane = a small integer (a compression key 0..3). */
function emitSetSmall(m: ModuleBuilder): FunctionBuilder {
  const f = m.addFunction("setSmall", ["i32", "i32"], null);
  const [lanePtr, value] = f.params as [Local, Local];
  const F = new FieldEmitter(f);
  const x = F.element();
  F.setConstant(x, Array<bigint>(x.length).fill(0n));
  f.get(value).op("i64.extend_i32_u").set(x[0]!);
  F.toMontgomery(x, x);
  F.store(lanePtr, 0, x);
  return f;
}

/** state = (0, 0, IV(rate)); any rate other than 1 means 2 (the caller checks). */
function emitInitState(m: ModuleBuilder): FunctionBuilder {
  const f = m.addFunction("initState", ["i32"], null);
  const rate = f.params[0]!;
  const F = new FieldEmitter(f);
  const state = f.local("i32");
  const zero = F.element();
  const iv = F.element();
  f.i32(LAYOUT.state).set(state);
  F.setConstant(zero, Array<bigint>(zero.length).fill(0n));
  F.store(state, 0, zero);
  F.store(state, E, zero);
  f.get(rate).i32(1).op("i32.eq").if();
  F.setConstant(iv, montgomeryLimbs(spongeIv(1)));
  f.else();
  F.setConstant(iv, montgomeryLimbs(spongeIv(2)));
  f.end();
  F.store(state, 2 * E, iv);
  return f;
}

/** dst = state lane 0 as 32 canonical little-endian bytes. */
function emitSqueeze(m: ModuleBuilder): FunctionBuilder {
  const f = m.addFunction("squeeze", ["i32"], null);
  const dst = f.params[0]!;
  const F = new FieldEmitter(f);
  const state = f.local("i32");
  const x = F.element();
  f.i32(LAYOUT.state).set(state);
  F.load(x, state, 0);
  F.fromMontgomery(x, x);
  F.packBytes(dst, 0, x);
  return f;
}

export function generateKernel(): Uint8Array {
  const m = new ModuleBuilder(2); // 128 KiB to start; the host grows it for large batches
  const permuteState = emitPermutation(m);
  const absorb31 = emitAbsorb(m, 31);
  const absorb32 = emitAbsorb(m, 32);
  const addOne = emitAddOne(m);
  const setSmall = emitSetSmall(m);
  const initState = emitInitState(m);
  const squeeze = emitSqueeze(m);
  const laneAddress = (f: FunctionBuilder, lane: Local) =>
    f.get(lane).i32(E).op("i32.mul").i32(LAYOUT.state).op("i32.add");

  // permute(io): the three 32-byte elements at io are replaced by their permutation.
  {
    const f = m.addFunction("permute", ["i32"], null, { exported: true });
    const io = f.params[0]!;
    const F = new FieldEmitter(f);
    const state = f.local("i32");
    const x = F.element();
    f.i32(LAYOUT.state).set(state);
    for (let k = 0; k < WIDTH; k++) {
      F.unpackBytes(x, io, 32 * k, 32);
      F.toMontgomery(x, x);
      F.store(state, k * E, x);
    }
    f.get(state).call(permuteState, m);
    for (let k = 0; k < WIDTH; k++) {
      F.load(x, state, k * E);
      F.fromMontgomery(x, x);
      F.packBytes(io, 32 * k, x);
    }
  }

  // sponge(src, n, rate, dst): dst = sponge over the n 32-byte elements at src.
  {
    const f = m.addFunction("sponge", ["i32", "i32", "i32", "i32"], null, { exported: true });
    const [src, n, rate, dst] = f.params as [Local, Local, Local, Local];
    const i = f.local("i32");
    const lane = f.local("i32");
    f.get(rate).call(initState, m);
    f.i32(0).set(lane);
    forLoop(f, i, n, 1, () => {
      laneAddress(f, lane);
      f.get(src).get(i).i32(32).op("i32.mul").op("i32.add");
      f.call(absorb32, m);
      f.get(lane).i32(1).op("i32.add").tee(lane);
      f.get(rate).op("i32.eq").if();
      f.i32(LAYOUT.state).call(permuteState, m);
      f.i32(0).set(lane);
      f.end();
    });
    laneAddress(f, lane).call(addOne, m);
    f.i32(LAYOUT.state).call(permuteState, m);
    f.get(dst).call(squeeze, m);
  }

  // hashBytes(src, len, dst): the rate-2 sponge over bytesToElements of len bytes at src.
  const hashBytes = m.addFunction("hashBytes", ["i32", "i32", "i32"], null);
  {
    const f = hashBytes;
    const [src, len, dst] = f.params as [Local, Local, Local];
    const pos = f.local("i32");
    const lane = f.local("i32");
    const k = f.local("i32");
    const rest = f.local("i32");
    const tail = f.local("i32");
    /** Toggle between lanes 0 and 1; permute after filling lane 1. */
    const nextLane = () => {
      f.get(lane).i32(1).op("i32.add").i32(1).op("i32.and").tee(lane);
      f.op("i32.eqz").if();
      f.i32(LAYOUT.state).call(permuteState, m);
      f.end();
    };
    f.i32(2).call(initState, m);
    f.i32(0).set(lane);
    f.i32(0).set(pos);
    // Whole 31-byte chunks while at least 31 bytes remain.
    f.block().loop();
    f.get(len).get(pos).op("i32.sub").i32(31).op("i32.lt_u").brIf(1);
    laneAddress(f, lane);
    f.get(src).get(pos).op("i32.add").call(absorb31, m);
    nextLane();
    f.get(pos).i32(31).op("i32.add").set(pos);
    f.br(0).end().end();
    // The remainder (0..30 bytes) followed by 0x01, zero-padded to 32 bytes.
    f.i32(LAYOUT.tail).set(tail);
    for (let w = 0; w < 5; w++)
      f.get(tail)
        .i64(0n)
        .store("i64.store", 8 * w);
    f.get(len).get(pos).op("i32.sub").set(rest);
    forLoop(f, k, rest, 1, () => {
      f.get(tail).get(k).op("i32.add");
      f.get(src).get(pos).op("i32.add").get(k).op("i32.add").load("i32.load8_u");
      f.store("i32.store8");
    });
    f.get(tail).get(rest).op("i32.add").i32(1).store("i32.store8");
    laneAddress(f, lane);
    f.get(tail).call(absorb32, m);
    nextLane();
    laneAddress(f, lane).call(addOne, m);
    f.i32(LAYOUT.state).call(permuteState, m);
    f.get(dst).call(squeeze, m);
  }

  // hashCells(src, cellSize, count, dst): dst[i] = hashBytes(cell i) for count consecutive cells.
  {
    const f = m.addFunction("hashCells", ["i32", "i32", "i32", "i32"], null, { exported: true });
    const [src, cellSize, count, dst] = f.params as [Local, Local, Local, Local];
    const i = f.local("i32");
    forLoop(f, i, count, 1, () => {
      f.get(src).get(i).get(cellSize).op("i32.mul").op("i32.add");
      f.get(cellSize);
      f.get(dst).get(i).i32(32).op("i32.mul").op("i32.add");
      f.call(hashBytes, m);
    });
  }

  // merkleLayer(src, n, bottom, dst): the next layer of a keyed Merkle tree over n elements.
  // Pair (x, y) becomes C(x, y, key) with key bit 0 = bottom layer, bit 1 = odd last node (y = 0).
  // dst may equal src: output i is written after inputs 2i and 2i+1 were read.
  {
    const f = m.addFunction("merkleLayer", ["i32", "i32", "i32", "i32"], null, { exported: true });
    const [src, n, bottom, dst] = f.params as [Local, Local, Local, Local];
    const F = new FieldEmitter(f);
    const i = f.local("i32");
    const key = f.local("i32");
    const state = f.local("i32");
    const zero = F.element();
    f.i32(LAYOUT.state).set(state);
    F.setConstant(zero, Array<bigint>(zero.length).fill(0n));
    forLoop(f, i, n, 2, () => {
      F.store(state, 0, zero);
      F.store(state, E, zero);
      f.get(state);
      f.get(src).get(i).i32(32).op("i32.mul").op("i32.add");
      f.call(absorb32, m);
      f.get(bottom).set(key);
      f.get(i).i32(1).op("i32.add").get(n).op("i32.lt_u").if();
      f.get(state).i32(E).op("i32.add");
      f.get(src).get(i).i32(32).op("i32.mul").i32(32).op("i32.add").op("i32.add");
      f.call(absorb32, m);
      f.else();
      f.get(key).i32(2).op("i32.or").set(key);
      f.end();
      f.get(state)
        .i32(2 * E)
        .op("i32.add")
        .get(key)
        .call(setSmall, m);
      f.get(state).call(permuteState, m);
      f.get(dst).get(i).i32(16).op("i32.mul").op("i32.add").call(squeeze, m);
    });
  }
  return m.encode();
}
