/**
 * The Poseidon2 kernel: a WebAssembly module, generated here, that runs the permutation, the
 * sponge, cell hashing and Merkle layers entirely on its own linear memory, so JavaScript crosses
 * into it once per call (per permutation, per batch of cells, per tree layer) and never per field
 * operation.
 *
 * Interface: every element that enters or leaves the kernel is 32 little-endian bytes, canonical
 * (< r); the library's public functions check that before ../kernel.ts writes them. Inside, a
 * sponge state is three elements in Montgomery form at LAYOUT.state (and LAYOUT.state2 for the
 * second state of the two-way paths).
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
  /** The permutation state: 3 elements of 36 bytes; state2 is the second one of the 2-way paths. */
  state: 3072,
  state2: 3200,
  /** The elements passed to and from the S-box functions (up to two). */
  scratch: 3328,
  /** Per way, a zeroed 32-byte chunk (+8 readable bytes) for the padded end of a byte string. */
  tail: 3456,
  /** permute()'s input and output: 3 x 32 bytes. */
  io: 4096,
  heap: 65536,
} as const;
const TAIL_BYTES = 48;
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
 * x^5 in place for normalised elements (< 11r) at each pointer; results are < 2r, normalised. A
 * function of its own rather than inlined into the rounds: with fewer live locals V8 allocates
 * registers much better, which more than pays for the call and the loads and stores (the whole
 * permutation went from about 77,000 to 91,000 per CPU second here). With two elements their
 * products are emitted side by side, column by column (FieldEmitter.productsLoose). Three or more
 * side by side (all lanes of a full round at once) made V8 spill most limbs: 1,900 instead of
 * 1,340 machine instructions per S-box and a slower permutation, so full rounds call this once
 * per lane.
 */
function emitSbox(m: ModuleBuilder, ways: 1 | 2): FunctionBuilder {
  const f = m.addFunction(`sbox${ways}`, Array<"i32">(ways).fill("i32"), null);
  const F = new FieldEmitter(f);
  const xs = f.params.map((ptr) => ({ ptr, x: F.element(), x2: F.element(), x4: F.element() }));
  for (const { ptr, x } of xs) F.load(x, ptr, 0);
  F.productsLoose(xs.map(({ x, x2 }) => ({ out: x2, a: x, b: "square" as const })));
  F.productsLoose(xs.map(({ x2, x4 }) => ({ out: x4, a: x2, b: "square" as const })));
  F.productsLoose(xs.map(({ x, x4 }) => ({ out: x, a: x4, b: x })));
  for (const { ptr, x } of xs) F.store(ptr, 0, x);
  return f;
}

/**
 * The permutation on the state at each pointer (three reduced elements in, three out). With two
 * pointers it permutes two independent states with their instructions interleaved: one state's
 * partial rounds are a chain of dependent multiplications that leaves the processor idle part of
 * the time, and the other state fills those gaps (the batch paths use this).
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
function emitPermutation(m: ModuleBuilder, ways: 1 | 2): FunctionBuilder {
  const sboxFn = emitSbox(m, ways);
  const f = m.addFunction(`permuteState${ways}`, Array<"i32">(ways).fill("i32"), null);
  const F = new FieldEmitter(f);
  const states = f.params.map((ptr) => {
    const lanes: [Local[], Local[], Local[]] = [F.element(), F.element(), F.element()];
    return { ptr, lanes, sum: F.element() };
  });
  const rc = F.element();
  const rcPtr = f.local("i32");
  const round = f.local("i32");
  const scratch = f.local("i32");
  f.i32(LAYOUT.scratch).set(scratch);

  /** Lane k of every state = its fifth power (lane < 11r, normalised; result < 2r). */
  const sbox = (k: number) => {
    states.forEach(({ lanes }, w) => F.store(scratch, w * E, lanes[k]!));
    states.forEach((_, w) =>
      f
        .get(scratch)
        .i32(w * E)
        .op("i32.add"),
    );
    f.call(sboxFn, m);
    states.forEach(({ lanes }, w) => F.load(lanes[k]!, scratch, w * E));
  };
  /** Lane k of every state += the round constant at rcPtr + offset, limb by limb. */
  const addRoundConstant = (k: number, offset: number) => {
    F.load(rc, rcPtr, offset);
    for (const { lanes } of states) F.addLimbs(lanes[k]!, lanes[k]!, rc);
  };
  /** circ(2,1,1): every lane plus the sum of all lanes. */
  const externalLinear = () => {
    for (const { lanes, sum } of states) {
      F.addLimbs(sum, ...lanes);
      for (const lane of lanes) F.addLimbs(lane, lane, sum);
    }
  };

  for (const { ptr, lanes } of states) lanes.forEach((lane, k) => F.load(lane, ptr, k * E));
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
    for (let k = 0; k < WIDTH; k++) {
      addRoundConstant(k, k * E);
      for (const { lanes } of states) F.reduceLoose(lanes[k]!);
      sbox(k);
    }
    externalLinear();
    f.get(rcPtr)
      .i32(WIDTH * E)
      .op("i32.add")
      .set(rcPtr);
    f.else();
    for (const { lanes } of states) {
      F.reduceLoose(lanes[1]);
      F.reduceLoose(lanes[2]);
    }
    addRoundConstant(0, 0);
    for (const { lanes } of states) F.normalise(lanes[0]);
    sbox(0);
    // [[2,1,1],[1,2,1],[1,1,3]] with sum = s1 + s2; lane 0 is read last, after the others used it.
    for (const {
      lanes: [s0, s1, s2],
      sum,
    } of states) {
      F.addLimbs(sum, s1, s2);
      F.addLimbs(s2, s0, sum, s2, s2);
      F.addLimbs(s1, s0, sum, s1);
      F.addLimbs(s0, s0, s0, sum);
    }
    f.get(rcPtr).i32(E).op("i32.add").set(rcPtr);
    f.end();
  }
  f.get(round).i32(1).op("i32.add").tee(round);
  f.i32(FULL_ROUNDS + PARTIAL_ROUNDS)
    .op("i32.ne")
    .brIf(0)
    .end();
  // Lanes are < 8r after the last full round: back to reduced values.
  for (const { ptr, lanes } of states)
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

/** state = (0, 0, IV(rate)) at statePtr; any rate other than 1 means 2 (the caller checks). */
function emitInitState(m: ModuleBuilder): FunctionBuilder {
  const f = m.addFunction("initState", ["i32", "i32"], null);
  const [state, rate] = f.params as [Local, Local];
  const F = new FieldEmitter(f);
  const zero = F.element();
  const iv = F.element();
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

/** dst = lane 0 of the state at statePtr as 32 canonical little-endian bytes. */
function emitSqueeze(m: ModuleBuilder): FunctionBuilder {
  const f = m.addFunction("squeeze", ["i32", "i32"], null);
  const [state, dst] = f.params as [Local, Local];
  const F = new FieldEmitter(f);
  const x = F.element();
  F.load(x, state, 0);
  F.fromMontgomery(x, x);
  F.packBytes(dst, 0, x);
  return f;
}

/** The state address of way w (0 or 1). */
const stateOf = (w: number) => (w === 0 ? LAYOUT.state : LAYOUT.state2);

export function generateKernel(): Uint8Array {
  const m = new ModuleBuilder(2); // 128 KiB to start; the host grows it for large batches
  const permuteState = [emitPermutation(m, 1), emitPermutation(m, 2)] as const;
  const absorb31 = emitAbsorb(m, 31);
  const absorb32 = emitAbsorb(m, 32);
  const addOne = emitAddOne(m);
  const setSmall = emitSetSmall(m);
  const initState = emitInitState(m);
  const squeeze = emitSqueeze(m);
  /** Pushes the address of lane `lane` (a local) of the state at `state` (a constant). */
  const laneAddress = (f: FunctionBuilder, state: number, lane: Local) =>
    f.get(lane).i32(E).op("i32.mul").i32(state).op("i32.add");

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
    f.get(state).call(permuteState[0], m);
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
    f.i32(LAYOUT.state).get(rate).call(initState, m);
    f.i32(0).set(lane);
    forLoop(f, i, n, 1, () => {
      laneAddress(f, LAYOUT.state, lane);
      f.get(src).get(i).i32(32).op("i32.mul").op("i32.add");
      f.call(absorb32, m);
      f.get(lane).i32(1).op("i32.add").tee(lane);
      f.get(rate).op("i32.eq").if();
      f.i32(LAYOUT.state).call(permuteState[0], m);
      f.i32(0).set(lane);
      f.end();
    });
    laneAddress(f, LAYOUT.state, lane).call(addOne, m);
    f.i32(LAYOUT.state).call(permuteState[0], m);
    f.i32(LAYOUT.state).get(dst).call(squeeze, m);
  }

  // hashBytes1(src, len, dst) and hashBytes2(srcA, srcB, len, dstA, dstB): the rate-2 sponge over
  // bytesToElements of len bytes, for one byte string or for two of the same length side by side.
  const hashBytes = ([1, 2] as const).map((ways) => {
    const f = m.addFunction(`hashBytes${ways}`, Array<"i32">(2 * ways + 1).fill("i32"), null);
    const srcs = f.params.slice(0, ways);
    const len = f.params[ways]!;
    const dsts = f.params.slice(ways + 1);
    const pos = f.local("i32");
    const lane = f.local("i32");
    const k = f.local("i32");
    const rest = f.local("i32");
    const tail = f.local("i32");
    /** Toggle between lanes 0 and 1; permute after filling lane 1. */
    const nextLane = () => {
      f.get(lane).i32(1).op("i32.add").i32(1).op("i32.and").tee(lane);
      f.op("i32.eqz").if();
      srcs.forEach((_, w) => f.i32(stateOf(w)));
      f.call(permuteState[ways - 1]!, m);
      f.end();
    };
    srcs.forEach((_, w) => f.i32(stateOf(w)).i32(2).call(initState, m));
    f.i32(0).set(lane);
    f.i32(0).set(pos);
    // Whole 31-byte chunks while at least 31 bytes remain.
    f.block().loop();
    f.get(len).get(pos).op("i32.sub").i32(31).op("i32.lt_u").brIf(1);
    srcs.forEach((src, w) => {
      laneAddress(f, stateOf(w), lane);
      f.get(src).get(pos).op("i32.add").call(absorb31, m);
    });
    nextLane();
    f.get(pos).i32(31).op("i32.add").set(pos);
    f.br(0).end().end();
    // The remainder (0..30 bytes) followed by 0x01, zero-padded to 32 bytes.
    f.get(len).get(pos).op("i32.sub").set(rest);
    srcs.forEach((src, w) => {
      f.i32(LAYOUT.tail + w * TAIL_BYTES).set(tail);
      for (let word = 0; word < TAIL_BYTES / 8; word++)
        f.get(tail)
          .i64(0n)
          .store("i64.store", 8 * word);
      forLoop(f, k, rest, 1, () => {
        f.get(tail).get(k).op("i32.add");
        f.get(src).get(pos).op("i32.add").get(k).op("i32.add").load("i32.load8_u");
        f.store("i32.store8");
      });
      f.get(tail).get(rest).op("i32.add").i32(1).store("i32.store8");
      laneAddress(f, stateOf(w), lane);
      f.get(tail).call(absorb32, m);
    });
    nextLane();
    srcs.forEach((_, w) => laneAddress(f, stateOf(w), lane).call(addOne, m));
    srcs.forEach((_, w) => f.i32(stateOf(w)));
    f.call(permuteState[ways - 1]!, m);
    dsts.forEach((dst, w) => f.i32(stateOf(w)).get(dst).call(squeeze, m));
    return f;
  });

  // hashCells(src, cellSize, count, dst): dst[i] = the hash of cell i, for count consecutive
  // cells; two cells at a time, the last one alone when count is odd.
  {
    const f = m.addFunction("hashCells", ["i32", "i32", "i32", "i32"], null, { exported: true });
    const [src, cellSize, count, dst] = f.params as [Local, Local, Local, Local];
    const i = f.local("i32");
    const pairs = f.local("i32");
    const cellAt = (offset: number) =>
      f.get(src).get(i).i32(offset).op("i32.add").get(cellSize).op("i32.mul").op("i32.add");
    const hashAt = (offset: number) =>
      f.get(dst).get(i).i32(offset).op("i32.add").i32(32).op("i32.mul").op("i32.add");
    f.get(count).i32(-2).op("i32.and").set(pairs);
    forLoop(f, i, pairs, 2, () => {
      cellAt(0);
      cellAt(1);
      f.get(cellSize);
      hashAt(0);
      hashAt(1);
      f.call(hashBytes[1]!, m);
    });
    f.get(pairs).get(count).op("i32.ne").if();
    f.get(pairs).set(i);
    cellAt(0);
    f.get(cellSize);
    hashAt(0);
    f.call(hashBytes[0]!, m);
    f.end();
  }

  // loadPair(state, src, i, n, bottom): state = (x, y, key) for the pair at inputs i, i + 1 of a
  // layer of n; key bit 0 = bottom layer, bit 1 = odd last node (then y = 0).
  const loadPair = m.addFunction("loadPair", ["i32", "i32", "i32", "i32", "i32"], null);
  {
    const f = loadPair;
    const [state, src, i, n, bottom] = f.params as [Local, Local, Local, Local, Local];
    const F = new FieldEmitter(f);
    const key = f.local("i32");
    const zero = F.element();
    F.setConstant(zero, Array<bigint>(zero.length).fill(0n));
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
  }

  // merkleLayer(src, n, bottom, dst): the next layer of a keyed Merkle tree over n elements, two
  // compressions at a time. dst may equal src: outputs j and j + 1 are written after inputs
  // 2j .. 2j + 3 were read, and no later step reads below input 2j + 4.
  {
    const f = m.addFunction("merkleLayer", ["i32", "i32", "i32", "i32"], null, { exported: true });
    const [src, n, bottom, dst] = f.params as [Local, Local, Local, Local];
    const i = f.local("i32");
    const outputAt = (offset: number) =>
      f.get(dst).get(i).i32(offset).op("i32.add").i32(16).op("i32.mul").op("i32.add");
    f.i32(0).set(i);
    // Two outputs while inputs i and i + 2 both exist.
    f.block().loop();
    f.get(i).i32(2).op("i32.add").get(n).op("i32.ge_u").brIf(1);
    f.i32(LAYOUT.state).get(src).get(i).get(n).get(bottom).call(loadPair, m);
    f.i32(LAYOUT.state2).get(src).get(i).i32(2).op("i32.add").get(n).get(bottom);
    f.call(loadPair, m);
    f.i32(LAYOUT.state).i32(LAYOUT.state2).call(permuteState[1], m);
    f.i32(LAYOUT.state);
    outputAt(0);
    f.call(squeeze, m);
    f.i32(LAYOUT.state2);
    outputAt(2);
    f.call(squeeze, m);
    f.get(i).i32(4).op("i32.add").set(i);
    f.br(0).end().end();
    // At most one output left.
    f.get(i).get(n).op("i32.lt_u").if();
    f.i32(LAYOUT.state).get(src).get(i).get(n).get(bottom).call(loadPair, m);
    f.i32(LAYOUT.state).call(permuteState[0], m);
    f.i32(LAYOUT.state);
    outputAt(0);
    f.call(squeeze, m);
    f.end();
  }
  return m.encode();
}
