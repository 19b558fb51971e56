pragma circom 2.2.0;

// Comparing two numbers given as bit vectors (least significant bit first).

// CompareBits(n): how two n-bit numbers a and b compare, and from which bit up they agree.
// Parameters: n >= 1.
// Inputs: a[n], b[n], the two numbers' bits.
// Outputs: agreeFrom[n + 1], agreeFrom[i] = 1 if a and b have the same bits at positions >= i, else 0
//   (agreeFrom[n] = 1; agreeFrom[0] = 1 exactly when a = b; a >> i = b >> i exactly when agreeFrom[i]);
//   lessThan = 1 if a < b, else 0; greaterThan = 1 if a > b, else 0.
// Constrains: all outputs as stated; 3n non-linear constraints.
// Caller guarantees: every a[i] and b[i] is 0 or 1 (not checked here; with other values the outputs
//   mean nothing).
template CompareBits(n) {
    assert(n >= 1);
    signal input a[n];
    signal input b[n];
    signal output agreeFrom[n + 1];
    signal output lessThan;
    signal output greaterThan;

    // The highest bit where a and b differ decides; lessAt[i] = 1 when that bit is i with a[i] = 0.
    signal both[n];
    signal lessAt[n];
    var less = 0;
    var greater = 0;
    agreeFrom[n] <== 1;
    for (var i = n - 1; i >= 0; i--) {
        both[i] <== a[i] * b[i];
        // For bits, [a[i] = b[i]] = 1 - a - b + 2ab and [a[i] < b[i]] = b - ab.
        agreeFrom[i] <== agreeFrom[i + 1] * (1 - a[i] - b[i] + 2 * both[i]);
        lessAt[i] <== agreeFrom[i + 1] * (b[i] - both[i]);
        less += lessAt[i];
        // The four cases at bit i partition agreeFrom[i + 1], so "greater at i" needs no product.
        greater += agreeFrom[i + 1] - agreeFrom[i] - lessAt[i];
    }
    lessThan <== less;
    greaterThan <== greater;
}
