pragma circom 2.2.0;

// Bits: checking that signals are bits, and decomposing a field element into a fixed number of them.
// Bit vectors are least significant bit first everywhere in circuits/.

// AssertBinary(n): every input is 0 or 1.
// Parameters: n >= 1. Inputs: in[n]. Outputs: none.
// Constrains: in[i] * (in[i] - 1) = 0 for every i; n non-linear constraints.
// Caller guarantees: nothing.
template AssertBinary(n) {
    signal input in[n];

    for (var i = 0; i < n; i++) {
        in[i] * (in[i] - 1) === 0;
    }
}

// BitDecompose(n): the n-bit binary decomposition of a field element that is below 2^n.
// Parameters: n in 1..253. Because 2^n < r, an n-bit decomposition is unique when it exists, so
//   the bits are the canonical ones; a value >= 2^n has none and makes the witness fail.
// Inputs: in. Outputs: bits[n], least significant first.
// Constrains: every bits[i] is 0 or 1 and sum(bits[i] * 2^i) = in; n non-linear constraints.
// Caller guarantees: nothing (this is also the range check in < 2^n).
template BitDecompose(n) {
    assert(n >= 1 && n <= 253);
    signal input in;
    signal output bits[n];

    var sum = 0;
    for (var i = 0; i < n; i++) {
        bits[i] <-- (in >> i) & 1;
        sum += bits[i] * 2 ** i;
    }
    component binary = AssertBinary(n);
    binary.in <== bits;
    sum === in;
}
