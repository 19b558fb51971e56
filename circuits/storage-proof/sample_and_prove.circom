pragma circom 2.2.0;

// The storage-proof statement of shared/spec/storage-proof.md ("The proof"): the slot root sits at
// slotIndex in the dataset tree with root dataSetRoot, and the nSamples cells the challenge's entropy
// picks from that slot hash to leaves that reconstruct the slot root. Public and private inputs carry
// the names and order of Codex's SampleAndProve (codex-storage/codex-storage-proofs-circuits,
// circuit/codex/sample_cells.circom), so an input file for Codex's circuit of the same parameters is
// an input file for this one.

include "../bits/log2.circom";
include "../merkle/merkle_root.circom";
include "cell.circom";

// SampleAndProve(maxDepth, maxLog2NSlots, blockTreeDepth, nFieldElemsPerCell, nSamples)
// Parameters:
//   maxDepth in blockTreeDepth+1..253: slots of up to 2^maxDepth cells; the length of each cell path;
//   maxLog2NSlots in 1..253: datasets of up to 2^maxLog2NSlots slots; the length of slotProof;
//   blockTreeDepth >= 1: log2 of the cells per network block (5 for 64 KiB blocks of 2 KiB cells);
//   nFieldElemsPerCell >= 1: field elements per cell (67 for 2 KiB);
//   nSamples >= 1: cells proven per proof.
// Inputs (public, in this order): entropy, dataSetRoot, slotIndex.
// Inputs (private):
//   slotRoot; nCellsPerSlot; nSlotsPerDataSet;
//   slotProof[maxLog2NSlots]: the slot root's siblings in the dataset tree, zeros beyond its depth;
//   cellData[nSamples][nFieldElemsPerCell]: the sampled cells, in sample order k = 1..nSamples;
//   merklePaths[nSamples][maxDepth]: each cell's siblings, block-tree levels first, zeros beyond.
// Outputs: none.
// Constrains:
//   - 1 <= nSlotsPerDataSet <= 2^maxLog2NSlots, 0 <= slotIndex < nSlotsPerDataSet, and the dataset
//     tree of nSlotsPerDataSet leaves with slotRoot at slotIndex and siblings slotProof has root
//     dataSetRoot (a single slot: root = C(slotRoot, 0, 3));
//   - nCellsPerSlot = 2^k with blockTreeDepth <= k <= maxDepth;
//   - for each sample k = 1..nSamples: the cell index is h_k mod nCellsPerSlot with
//     h_k = sponge_rate2(entropy, slotRoot, k) as an integer below r (canonical bits), and
//     cellData[k-1] sits at that index under slotRoot with path merklePaths[k-1] (CellInclusion).
//   About 11,600 non-linear constraints per sample of a 67-element cell at maxDepth 10, and 250 per
//   level of the dataset tree.
// Caller guarantees: nothing; the verifier must supply the public inputs below r (the contract does).
template SampleAndProve(maxDepth, maxLog2NSlots, blockTreeDepth, nFieldElemsPerCell, nSamples) {
    assert(blockTreeDepth >= 1 && maxDepth > blockTreeDepth && maxDepth <= 253);
    assert(maxLog2NSlots >= 1 && maxLog2NSlots <= 253);
    assert(nFieldElemsPerCell >= 1 && nSamples >= 1);

    signal input entropy;
    signal input dataSetRoot;
    signal input slotIndex;

    signal input slotRoot;
    signal input nCellsPerSlot;
    signal input nSlotsPerDataSet;
    signal input slotProof[maxLog2NSlots];
    signal input cellData[nSamples][nFieldElemsPerCell];
    signal input merklePaths[nSamples][maxDepth];

    // The dataset tree. MerkleRootFromIndex range-checks slotIndex < nSlotsPerDataSet <= 2^maxLog2NSlots
    // through its bit decompositions of slotIndex and nSlotsPerDataSet - 1.
    component dataSet = MerkleRootFromIndex(maxLog2NSlots);
    dataSet.leaf <== slotRoot;
    dataSet.index <== slotIndex;
    dataSet.leafCount <== nSlotsPerDataSet;
    dataSet.siblings <== slotProof;
    dataSet.root === dataSetRoot;

    // nCellsPerSlot = 2^k, k <= maxDepth; mask = the bits of 2^k - 1, which is also the last cell's
    // index and, from bit blockTreeDepth up, the last block's index.
    component cells = Log2OfPowerOfTwo(maxDepth);
    cells.in <== nCellsPerSlot;
    // At least one whole block: k >= blockTreeDepth (the mask never rises, so its bit
    // blockTreeDepth - 1 is set exactly then).
    cells.mask[blockTreeDepth - 1] === 1;

    component index[nSamples];
    component inclusion[nSamples];
    for (var s = 0; s < nSamples; s++) {
        index[s] = SampledCellIndex(maxDepth, blockTreeDepth);
        index[s].entropy <== entropy;
        index[s].slotRoot <== slotRoot;
        index[s].counter <== s + 1;
        index[s].mask <== cells.mask;

        inclusion[s] = CellInclusion(nFieldElemsPerCell, blockTreeDepth, maxDepth);
        inclusion[s].slotRoot <== slotRoot;
        inclusion[s].data <== cellData[s];
        inclusion[s].indexBits <== index[s].indexBits;
        for (var i = blockTreeDepth; i < maxDepth; i++) {
            inclusion[s].blockLastBits[i - blockTreeDepth] <== cells.mask[i];
        }
        inclusion[s].path <== merklePaths[s];
    }
}
