/**
 * Arithmetic in GF(2^8) with the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) and
 * generator 2, the field most Reed-Solomon codes over bytes use. Addition is XOR; multiplication
 * goes through log/exp tables, and a full 256 x 256 product table serves the bulk loops.
 */
const POLYNOMIAL = 0x11d;

export const EXP = new Uint8Array(512);
export const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= POLYNOMIAL;
  }
  // Doubling the exp table lets products index it with log a + log b without a modulo.
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

export function mul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function inv(a: number): number {
  if (a === 0) throw new RangeError("0 has no inverse in GF(2^8)");
  return EXP[255 - LOG[a]!]!;
}

/** MUL_TABLE[c * 256 + x] = c * x. */
export const MUL_TABLE = new Uint8Array(256 * 256);
for (let c = 0; c < 256; c++) {
  for (let x = 0; x < 256; x++) MUL_TABLE[c * 256 + x] = mul(c, x);
}

/** out ^= c * input, byte by byte: the one loop all encoding and decoding time is spent in. */
export function mulAddInto(out: Uint8Array, input: Uint8Array, c: number): void {
  const n = out.length;
  if (c === 0) return;
  if (c === 1) {
    for (let i = 0; i < n; i++) out[i]! ^= input[i]!;
    return;
  }
  const base = c * 256;
  const table = MUL_TABLE;
  for (let i = 0; i < n; i++) out[i]! ^= table[base + input[i]!]!;
}
