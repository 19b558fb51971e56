pragma circom 2.2.0;

// The Poseidon2 permutation over BN254 with state width 3, as shared/spec/storage-proof.md defines it:
// S-box x^5, 4 full rounds, 56 partial rounds, 4 full rounds; external matrix circ(2,1,1), also
// applied once to the input; internal matrix [[2,1,1],[1,2,1],[1,1,3]].
//
// Cost: 3 non-linear constraints per S-box, 8*3 + 56 = 80 S-boxes, so 240 per permutation. The
// linear layers and round constants cost nothing: they only form the linear combinations that feed
// the next S-boxes.

include "constants.circom";

// Pow5: out = in^5.
// Parameters: none. Inputs: in. Outputs: out.
// Constrains: out = in^5, with 3 multiplications (in^2, in^4, in^4 * in).
// Caller guarantees: nothing.
template Pow5() {
    signal input in;
    signal output out;

    signal in2 <== in * in;
    signal in4 <== in2 * in2;
    out <== in4 * in;
}

// Poseidon2ExternalLinear: the external (full-round) linear layer circ(2,1,1), out[i] = in[i] + sum.
// Parameters: none. Inputs: in[3]. Outputs: out[3].
// Constrains: only linear equations, which circom's simplification folds into the callers.
// Caller guarantees: nothing.
template Poseidon2ExternalLinear() {
    signal input in[3];
    signal output out[3];

    var sum = in[0] + in[1] + in[2];
    for (var i = 0; i < 3; i++) {
        out[i] <== in[i] + sum;
    }
}

// Poseidon2FullRound(round): add the round's constants to every lane, S-box every lane, then the
// external linear layer.
// Parameters: round in 0..7, the index into the full-round constants.
// Inputs: in[3]. Outputs: out[3].
// Constrains: out = M_E * (in + c_round)^5 lane-wise; 9 non-linear constraints.
// Caller guarantees: nothing.
template Poseidon2FullRound(round) {
    signal input in[3];
    signal output out[3];

    var c[8][3] = poseidon2FullRoundConstants();
    component sbox[3];
    component linear = Poseidon2ExternalLinear();
    for (var i = 0; i < 3; i++) {
        sbox[i] = Pow5();
        sbox[i].in <== in[i] + c[round][i];
        linear.in[i] <== sbox[i].out;
    }
    out <== linear.out;
}

// Poseidon2PartialRound(round): add the round's constant to lane 0, S-box lane 0 only, then the
// internal linear layer [[2,1,1],[1,2,1],[1,1,3]] = all-ones + diag(1,1,2).
// Parameters: round in 0..55, the index into the partial-round constants.
// Inputs: in[3]. Outputs: out[3].
// Constrains: out = M_I * ((in[0] + c_round)^5, in[1], in[2]); 3 non-linear constraints.
// Caller guarantees: nothing.
template Poseidon2PartialRound(round) {
    signal input in[3];
    signal output out[3];

    var c[56] = poseidon2PartialRoundConstants();
    component sbox = Pow5();
    sbox.in <== in[0] + c[round];

    var sum = sbox.out + in[1] + in[2];
    out[0] <== sbox.out + sum;
    out[1] <== in[1] + sum;
    out[2] <== 2 * in[2] + sum;
}

// Poseidon2Permutation: the full permutation.
// Parameters: none. Inputs: in[3], any field elements. Outputs: out[3] = Poseidon2(in).
// Constrains: out is the permutation of in; exactly 240 non-linear constraints.
// Caller guarantees: nothing.
template Poseidon2Permutation() {
    signal input in[3];
    signal output out[3];

    // state[k] is the state before round k (k = 0..63); state[64] is the result.
    signal state[65][3];

    component initial = Poseidon2ExternalLinear();
    initial.in <== in;
    state[0] <== initial.out;

    component full[8];
    component partial[56];
    for (var k = 0; k < 64; k++) {
        if (k < 4 || k >= 60) {
            var round = k < 4 ? k : k - 56;
            full[round] = Poseidon2FullRound(round);
            full[round].in <== state[k];
            state[k + 1] <== full[round].out;
        } else {
            partial[k - 4] = Poseidon2PartialRound(k - 4);
            partial[k - 4].in <== state[k];
            state[k + 1] <== partial[k - 4].out;
        }
    }
    out <== state[64];
}
