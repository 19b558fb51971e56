/**
 * The slow reference Poseidon2 (test/helpers/poseidon2-reference.ts) behind the node's hashing
 * interface, to check the slot code's roots independently of the fast library.
 */
import type { Poseidon2Trees } from "../../node/src/slots/hasher.js";
import { cellHash, merkleLayers } from "./poseidon2-reference.js";

export const referenceTrees: Poseidon2Trees = {
  cellHashes(block) {
    const hashes: bigint[] = [];
    for (let at = 0; at < block.length; at += 2048)
      hashes.push(cellHash(block.subarray(at, at + 2048)));
    return hashes;
  },
  merkleLayers: (leaves) => merkleLayers(leaves),
};

/** For worker threads (slots/worker-block-roots.ts): block roots with the reference. */
export function blockRootsInThread(blocks: Uint8Array[]): bigint[] {
  return blocks.map((block) => merkleLayers(referenceTrees.cellHashes(block)).at(-1)![0]!);
}
