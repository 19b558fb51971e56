/**
 * snarkjs (through ffjavascript) keeps one multi-threaded BN254 engine in `globalThis.curve_bn128`
 * and never stops its worker threads, which keeps a process (or a mocha run) alive after the work
 * is done. Call this when a batch of snarkjs calls is over; the next call builds a fresh engine.
 */
export async function releaseSnarkjsWorkers(): Promise<void> {
  const holder = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  const curve = holder.curve_bn128;
  if (curve) await curve.terminate();
}
