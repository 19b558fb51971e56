pragma circom 2.2.0;

// The canonical 254-bit decomposition of a field element. Since r < 2^254, a field element v below
// 2^254 - r has two 254-bit decompositions that sum to v modulo r: the bits of v and the bits of
// v + r. Only the first is the element's integer value; the other would, for example, change
// "v mod 2^k" for a prover who picks it. These templates rule the second one out.

include "bits.circom";

// AssertBelowModulus(): the number whose 254 bits are given is below r, as an integer.
// Parameters: none.
// Inputs: bits[254], least significant first.
// Outputs: none.
// Constrains: sum(bits[i] * 2^i) <= r - 1 as integers, by comparing with the bits of r - 1 from the
//   top: the bits must equal r - 1's down to some position where r - 1 has a 1 and bits has a 0, or
//   all the way down. 253 non-linear constraints.
// Caller guarantees: every bits[i] is 0 or 1 (not checked here).
template AssertBelowModulus() {
    signal input bits[254];

    // In circom's arithmetic -1 is r - 1; shifts and masks act on its integer value.
    var maxValue = -1;

    // agreeFrom[i] = 1 when bits[j] equals bit j of r - 1 for every j >= i.
    signal agreeFrom[254];
    var belowOrEqual = 0;
    for (var i = 253; i >= 0; i--) {
        var maxBit = (maxValue >> i) & 1;
        var same = maxBit == 1 ? bits[i] : 1 - bits[i];
        if (i == 253) {
            agreeFrom[i] <== same;
        } else {
            agreeFrom[i] <== agreeFrom[i + 1] * same;
        }
        // Where r - 1 has a 1, "agree above i but not at i" means bits[i] = 0 < 1: below from here.
        if (maxBit == 1) {
            belowOrEqual += (i == 253 ? 1 : agreeFrom[i + 1]) - agreeFrom[i];
        }
    }
    belowOrEqual += agreeFrom[0];
    belowOrEqual === 1;
}

// BitDecomposeCanonical(): the canonical (below r) 254-bit decomposition of a field element.
// Parameters: none.
// Inputs: in, any field element.
// Outputs: bits[254], least significant first, the bits of in's integer value in 0..r-1.
// Constrains: every bits[i] is 0 or 1, sum(bits[i] * 2^i) = in (mod r), and that sum is below r as
//   an integer, so the bits are unique; 254 + 253 = 507 non-linear constraints.
// Caller guarantees: nothing.
template BitDecomposeCanonical() {
    signal input in;
    signal output bits[254];

    var sum = 0;
    for (var i = 0; i < 254; i++) {
        bits[i] <-- (in >> i) & 1;
        sum += bits[i] * 2 ** i;
    }
    component binary = AssertBinary(254);
    binary.in <== bits;
    sum === in;

    component belowModulus = AssertBelowModulus();
    belowModulus.bits <== bits;
}
