pragma circom 2.2.0;

// The development instance: the production templates at a size whose Groth16 setup fits a 2^14
// powers of tau, for tests and the local network. Slots of 32 to 2^10 cells (64 KiB to 2 MiB),
// datasets of up to 16 slots, one sample per proof.
// Parameters: (maxDepth, maxLog2NSlots, blockTreeDepth, nFieldElemsPerCell, nSamples).

include "../storage-proof/sample_and_prove.circom";

component main {public [entropy, dataSetRoot, slotIndex]} = SampleAndProve(10, 4, 5, 67, 1);
