pragma circom 2.2.0;

// The production instance, with Codex's deployed parameters: slots of up to 2^32 cells of 2 KiB,
// datasets of up to 256 slots, 64 KiB network blocks (5 block-tree levels), 5 samples per proof.
// Parameters: (maxDepth, maxLog2NSlots, blockTreeDepth, nFieldElemsPerCell, nSamples).

include "../storage-proof/sample_and_prove.circom";

component main {public [entropy, dataSetRoot, slotIndex]} = SampleAndProve(32, 8, 5, 67, 5);
