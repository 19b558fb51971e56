pragma circom 2.2.0;

// The root of a keyed Poseidon2 Merkle tree (shared/spec/storage-proof.md) from one leaf and its
// inclusion proof, for any leaf count from 1 to 2^depth.
//
// The tree over n leaves has L = max(1, ceil(log2 n)) levels of compression; level i compresses the
// pairs of layer i (layer 0 = the leaves) into layer i + 1. The key of a compression has bit 0 set on
// level 0 (the pair's children are leaves) and bit 1 set when the node is the last of a layer with
// an odd number of nodes; such a node is compressed with 0 in place of a sibling. With
// last = n - 1, the node on the path at level i is index >> i, the layer's last node is last >> i,
// so the node is odd exactly when index >> i = last >> i and bit i of index is 0. The levels from L
// up to depth - 1 do not exist in this tree: their results are discarded, not hashed into the root.

include "../bits/bits.circom";
include "../bits/compare.circom";
include "../poseidon2/compress.circom";

// MerkleRootFromPath(depth): the root reconstructed from a leaf, its index, the index of the last
// leaf and the siblings along the path.
// Parameters: depth >= 1, the largest number of levels (trees of up to 2^depth leaves).
// Inputs:
//   leaf;
//   indexBits[depth], the leaf's index, least significant bit first;
//   lastBits[depth], the index of the tree's last leaf (leaf count - 1), least significant bit first;
//   siblings[depth], the sibling at each level from the leaf upwards. Entries at odd nodes and at
//     levels >= L are ignored (Codex-style proofs carry 0 there).
// Outputs: root, the root of the tree of last + 1 leaves in which leaf sits at index, given those
//   siblings.
// Constrains: index <= last; root as stated, with one compression per level (240 non-linear
//   constraints) plus at most 8 per level for the comparison of index and last, the keys, the
//   left/right order, the odd siblings and the skipping of missing levels (fewer on the bottom and
//   top levels and where inputs are constants; 1,483 in all for depth 6).
// Caller guarantees: every indexBits[i] and lastBits[i] is 0 or 1 (not checked here: callers derive
//   them from constrained decompositions or from constants).
template MerkleRootFromPath(depth) {
    assert(depth >= 1);
    signal input leaf;
    signal input indexBits[depth];
    signal input lastBits[depth];
    signal input siblings[depth];
    signal output root;

    // agreeFrom[i] = 1: the path's node at level i is the last node of its layer.
    component position = CompareBits(depth);
    position.a <== indexBits;
    position.b <== lastBits;
    position.greaterThan === 0;

    // absentFrom[i] = 1: last >> i = 0, so level i is missing unless i = 0 (a single leaf is still
    // compressed once).
    signal absentFrom[depth + 1];
    absentFrom[depth] <== 1;
    for (var i = depth - 1; i >= 1; i--) {
        absentFrom[i] <== absentFrom[i + 1] * (1 - lastBits[i]);
    }

    signal node[depth + 1];
    signal odd[depth];
    signal swap[depth];
    signal oddSibling[depth];
    component compress[depth];
    node[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        odd[i] <== position.agreeFrom[i] * (1 - indexBits[i]);
        // An odd node is always a left child (its index bit is 0) and its right input is 0.
        swap[i] <== indexBits[i] * (siblings[i] - node[i]);
        oddSibling[i] <== odd[i] * siblings[i];

        compress[i] = Poseidon2Compress();
        compress[i].left <== node[i] + swap[i];
        compress[i].right <== siblings[i] - swap[i] - oddSibling[i];
        compress[i].key <== (i == 0 ? 1 : 0) + 2 * odd[i];

        if (i == 0) {
            node[1] <== compress[0].out;
        } else {
            // Keep the node from the level below where this level does not exist.
            node[i + 1] <== compress[i].out + absentFrom[i] * (node[i] - compress[i].out);
        }
    }
    root <== node[depth];
}

// MerkleRootFromIndex(depth): MerkleRootFromPath with the leaf index and the leaf count as numbers.
// Parameters: depth in 1..253, as for MerkleRootFromPath.
// Inputs: leaf; index; leafCount; siblings[depth] (as for MerkleRootFromPath).
// Outputs: root, as for MerkleRootFromPath with last = leafCount - 1.
// Constrains: 0 <= index < leafCount <= 2^depth (the decompositions of index and leafCount - 1 into
//   depth bits fail otherwise); root as stated. 2 * depth non-linear constraints on top of
//   MerkleRootFromPath.
// Caller guarantees: nothing.
template MerkleRootFromIndex(depth) {
    signal input leaf;
    signal input index;
    signal input leafCount;
    signal input siblings[depth];
    signal output root;

    component indexBits = BitDecompose(depth);
    indexBits.in <== index;
    component lastBits = BitDecompose(depth);
    lastBits.in <== leafCount - 1;

    component path = MerkleRootFromPath(depth);
    path.leaf <== leaf;
    path.indexBits <== indexBits.bits;
    path.lastBits <== lastBits.bits;
    path.siblings <== siblings;
    root <== path.root;
}
