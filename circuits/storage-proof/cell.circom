pragma circom 2.2.0;

// One sampled cell of a slot (shared/spec/storage-proof.md, "Sampling" and "Three stacked trees"):
// which cell a challenge picks, and the proof that the cell's data sits at that index under the slot
// root. A slot of nCells = 2^k cells (k >= blockTreeDepth) is a block tree of 2^blockTreeDepth cells
// per block, stacked under a slot tree over the block roots; a cell's path holds the blockTreeDepth
// block-tree levels first, then the slot-tree levels, and each of the two trees compresses its own
// bottom level with key bit 0 set.

include "../bits/canonical.circom";
include "../merkle/merkle_root.circom";
include "../poseidon2/sponge.circom";

// SampledCellIndex(maxDepth, blockTreeDepth): the index of the cell that sample `counter` picks.
// Parameters: maxDepth in 1..253, the index width (slots of up to 2^maxDepth cells);
//   blockTreeDepth in 0..maxDepth, the low bits the caller guarantees to be unmasked (see below).
// Inputs: entropy, slotRoot, counter (the sample number k, 1-based); mask[maxDepth], the bits of
//   nCells - 1 for the slot's cell count nCells = 2^log2(nCells).
// Outputs: indexBits[maxDepth], the bits of h mod nCells, least significant first, where
//   h = sponge_rate2(entropy, slotRoot, counter) taken as an integer in 0..r-1.
// Constrains: h by the sponge (2 permutations, 480); its canonical 254-bit decomposition (507);
//   indexBits[i] = bit i of h masked by mask[i], one constraint per bit from blockTreeDepth up;
//   about 1,000 non-linear constraints in all.
// Caller guarantees: every mask[i] is a bit, the mask is 2^k - 1 (ones below k, zeros above), and
//   mask[i] = 1 for i < blockTreeDepth (those bits are passed through unmasked).
template SampledCellIndex(maxDepth, blockTreeDepth) {
    assert(maxDepth >= 1 && maxDepth <= 253);
    assert(blockTreeDepth >= 0 && blockTreeDepth <= maxDepth);
    signal input entropy;
    signal input slotRoot;
    signal input counter;
    signal input mask[maxDepth];
    signal output indexBits[maxDepth];

    component hash = Poseidon2Sponge(3);
    hash.in <== [entropy, slotRoot, counter];

    // Canonical, so that a prover cannot use the bits of h + r (whose low bits are h's plus one).
    component bits = BitDecomposeCanonical();
    bits.in <== hash.out;

    for (var i = 0; i < maxDepth; i++) {
        if (i < blockTreeDepth) {
            indexBits[i] <== bits.bits[i];
        } else {
            indexBits[i] <== bits.bits[i] * mask[i];
        }
    }
}

// CellInclusion(nFieldElemsPerCell, blockTreeDepth, maxDepth): the cell's data hashes to the leaf at
// the given index of the slot's stacked tree whose root is slotRoot.
// Parameters: nFieldElemsPerCell >= 1 (67 for a 2 KiB cell); blockTreeDepth >= 1 (5: 32 cells per
//   64 KiB block); maxDepth > blockTreeDepth, the largest path (slots of up to 2^maxDepth cells; a
//   one-block slot needs blockTreeDepth + 1 levels, see below).
// Inputs:
//   slotRoot;
//   data[nFieldElemsPerCell], the cell as field elements (spec, "Bytes to field elements");
//   indexBits[maxDepth], the cell index, least significant bit first;
//   blockLastBits[maxDepth - blockTreeDepth], the bits of nBlocks - 1 (the slot tree's last leaf);
//   path[maxDepth], siblings from the cell upwards: blockTreeDepth block-tree levels, then the
//     slot-tree levels, zeros beyond (ignored, as are siblings at odd nodes).
// Outputs: none.
// Constrains: leaf = sponge_rate2(data) (8,160 for 67 elements); the block root from leaf, the low
//   blockTreeDepth index bits and the first blockTreeDepth siblings in a full tree of
//   2^blockTreeDepth leaves (1,223 for depth 5); the slot root from the block root, the remaining
//   index bits and siblings in a tree of nBlocks leaves, which for nBlocks = 1 is the one compression
//   C(blockRoot, 0, 3) (at most 248 per level); and that this root equals slotRoot.
// Caller guarantees: indexBits and blockLastBits are bits, and the block part of the index is below
//   nBlocks (MerkleRootFromPath checks it, but the caller's mask already ensures it).
template CellInclusion(nFieldElemsPerCell, blockTreeDepth, maxDepth) {
    assert(nFieldElemsPerCell >= 1);
    assert(blockTreeDepth >= 1 && maxDepth > blockTreeDepth);
    var slotTreeDepth = maxDepth - blockTreeDepth;

    signal input slotRoot;
    signal input data[nFieldElemsPerCell];
    signal input indexBits[maxDepth];
    signal input blockLastBits[slotTreeDepth];
    signal input path[maxDepth];

    component leaf = Poseidon2Sponge(nFieldElemsPerCell);
    leaf.in <== data;

    // A block is always full (2^blockTreeDepth cells), so its last index is the constant all-ones.
    component block = MerkleRootFromPath(blockTreeDepth);
    block.leaf <== leaf.out;
    for (var i = 0; i < blockTreeDepth; i++) {
        block.indexBits[i] <== indexBits[i];
        block.lastBits[i] <== 1;
        block.siblings[i] <== path[i];
    }

    component slot = MerkleRootFromPath(slotTreeDepth);
    slot.leaf <== block.root;
    for (var i = 0; i < slotTreeDepth; i++) {
        slot.indexBits[i] <== indexBits[blockTreeDepth + i];
        slot.lastBits[i] <== blockLastBits[i];
        slot.siblings[i] <== path[blockTreeDepth + i];
    }
    slot.root === slotRoot;
}
