pragma circom 2.2.0;

// The base-2 logarithm of a number that must be a power of two (a slot's cell count).

include "bits.circom";

// Log2OfPowerOfTwo(n): for in = 2^k with 0 <= k <= n, outputs k and the bits of 2^k - 1.
// Parameters: n in 1..253, the largest exponent allowed.
// Inputs: in.
// Outputs: log2 = k; mask[n], the bits of in - 1: mask[i] = 1 for i < k and 0 for i >= k, which is
//   also the index of the last leaf of a tree with in leaves and the bit mask for "mod in".
// Constrains: in - 1 = sum(mask[i] * 2^i) with every mask[i] a bit (so 1 <= in <= 2^n), the mask
//   never rises (mask[i + 1] = 1 only if mask[i] = 1, so in - 1 = 2^k - 1), log2 = sum(mask[i]);
//   2n - 1 non-linear constraints. Any in that is not such a power of two makes the witness fail.
// Caller guarantees: nothing.
template Log2OfPowerOfTwo(n) {
    signal input in;
    signal output log2;
    signal output mask[n];

    component bits = BitDecompose(n);
    bits.in <== in - 1;
    mask <== bits.bits;

    var sum = mask[0];
    for (var i = 1; i < n; i++) {
        mask[i] * (1 - mask[i - 1]) === 0;
        sum += mask[i];
    }
    log2 <== sum;
}
