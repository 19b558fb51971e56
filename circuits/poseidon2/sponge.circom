pragma circom 2.2.0;

// The rate-2 Poseidon2 sponge of shared/spec/storage-proof.md over a fixed number of elements: state
// (0, 0, IV) with IV = 2^64 + 256*3 + 2 in the capacity lane, input padded with "10*" (a 1, then a 0
// if needed to fill the last pair; the 1 is always appended), each pair added into lanes 0 and 1
// and followed by a permutation, output lane 0.

include "permutation.circom";

// Poseidon2Sponge(n): out = sponge_rate2(in[0..n)).
// Parameters: n >= 1, the number of elements hashed (fixed at compile time; 67 for a 2 KiB cell).
// Inputs: in[n], any field elements. Outputs: out.
// Constrains: out is the rate-2 sponge of in; floor(n/2) + 1 permutations, 240 non-linear
//   constraints each (the padding and the absorption are linear).
// Caller guarantees: nothing.
template Poseidon2Sponge(n) {
    assert(n >= 1);
    signal input in[n];
    signal output out;

    var IV = 2 ** 64 + 256 * 3 + 2;
    var blocks = n \ 2 + 1;

    // The padded input: in, then 1, then 0 when n is even (n + 1 is odd: the last pair needs a 0).
    var padded[2 * blocks];
    for (var i = 0; i < 2 * blocks; i++) {
        padded[i] = i < n ? in[i] : (i == n ? 1 : 0);
    }

    component permutation[blocks];
    for (var b = 0; b < blocks; b++) {
        permutation[b] = Poseidon2Permutation();
        if (b == 0) {
            permutation[b].in <== [padded[0], padded[1], IV];
        } else {
            permutation[b].in <== [
                permutation[b - 1].out[0] + padded[2 * b],
                permutation[b - 1].out[1] + padded[2 * b + 1],
                permutation[b - 1].out[2]
            ];
        }
    }
    out <== permutation[blocks - 1].out[0];
}
