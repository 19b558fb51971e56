pragma circom 2.2.0;

// Keyed two-to-one compression, the node function of every Merkle tree in shared/spec/storage-proof.md:
// C(x, y, key) = Poseidon2(x, y, key)[0].

include "permutation.circom";

// Poseidon2Compress: out = Poseidon2(left, right, key)[0].
// Parameters: none.
// Inputs: left, right (the two children, left first); key (0..3: bit 0 = bottom layer, bit 1 = odd node).
// Outputs: out.
// Constrains: out is element 0 of the permutation of (left, right, key); 240 non-linear constraints.
// Caller guarantees: key is in 0..3 (any other value gives a well-defined but meaningless hash).
template Poseidon2Compress() {
    signal input left;
    signal input right;
    signal input key;
    signal output out;

    component permutation = Poseidon2Permutation();
    permutation.in <== [left, right, key];
    out <== permutation.out[0];
}
