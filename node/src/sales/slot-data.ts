/**
 * The slot data the host sells, over the node's networking: slots are fetched into the slot store
 * by the retrieval (rebuilding lost blocks by erasure decoding) and read back for proofs. A slot's
 * tree is built once from its blocks and kept: proofs sample a few cells every period.
 */
import { manifestCid as cidOfManifest, decodeManifest } from "../manifest/manifest.js";
import type { Manifest } from "../manifest/manifest.js";
import type { NodeNetworking } from "../node.js";
import { HoldfastError } from "../errors.js";
import { type ProvableSlot, SlotTree, provableSlot } from "../proof/slot-tree.js";
import type { BlockRootHasher } from "../slots/hasher.js";
import type { SlotData } from "./ports.js";

export class NetworkSlotData implements SlotData {
  readonly #p2p: NodeNetworking;
  readonly #hasher: BlockRootHasher | undefined;
  readonly #trees = new Map<string, Promise<SlotTree>>();

  /** `hasher`: the node's block-root hasher, so a large slot's tree is not hashed on the event loop. */
  constructor(p2p: NodeNetworking, hasher?: BlockRootHasher) {
    this.#p2p = p2p;
    this.#hasher = hasher;
  }

  async fetch(manifestCid: string, slotIndex: number, signal?: AbortSignal): Promise<void> {
    await this.#p2p.retrieval.fetchSlot(manifestCid, slotIndex, signal ? { signal } : {});
  }

  async stored(
    manifestCid: string,
    slotIndex: number,
    signal?: AbortSignal,
  ): Promise<{ manifest: Manifest; slot: ProvableSlot } | undefined> {
    const stored = this.#p2p.storedSlot(manifestCid, slotIndex);
    if (!stored) return undefined;
    const bytes = Buffer.from(stored.record.manifestBytes, "base64");
    if (cidOfManifest(bytes).toString() !== manifestCid) {
      throw new HoldfastError(
        "ERR_CORRUPT_BLOCK",
        `the stored manifest of slot ${slotIndex} is not ${manifestCid}`,
      );
    }
    const key = `${manifestCid}#${slotIndex}`;
    let tree = this.#trees.get(key);
    if (!tree) {
      tree = SlotTree.build(stored.blocks, {
        ...(signal ? { signal } : {}),
        ...(this.#hasher ? { hasher: this.#hasher } : {}),
      });
      this.#trees.set(key, tree);
      tree.catch(() => this.#trees.delete(key));
    }
    return { manifest: decodeManifest(bytes), slot: provableSlot(await tree, stored.blocks) };
  }

  /** Forgets the cached tree of a slot the host no longer sells. */
  forget(manifestCid: string, slotIndex: number): void {
    this.#trees.delete(`${manifestCid}#${slotIndex}`);
  }
}
