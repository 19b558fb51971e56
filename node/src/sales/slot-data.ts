/**
 * The slot data the host sells, over the node's networking: slots are fetched into the slot store
 * by the retrieval (rebuilding lost blocks by erasure decoding) and read back for proofs. A slot's
 * tree is built once from its blocks and kept: proofs sample a few cells every period. When the
 * last sale of a slot ends, its data is deleted.
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
  /** Per slot, the tail of its fetches and releases: they run one after another. */
  readonly #turns = new Map<string, Promise<void>>();

  /** `hasher`: the node's block-root hasher, so a large slot's tree is not hashed on the event loop. */
  constructor(p2p: NodeNetworking, hasher?: BlockRootHasher) {
    this.#p2p = p2p;
    this.#hasher = hasher;
  }

  async fetch(manifestCid: string, slotIndex: number, signal?: AbortSignal): Promise<void> {
    await this.#inTurn(manifestCid, slotIndex, async () => {
      await this.#p2p.retrieval.fetchSlot(manifestCid, slotIndex, signal ? { signal } : {});
    });
  }

  async release(manifestCid: string, slotIndex: number, unused: () => boolean): Promise<void> {
    await this.#inTurn(manifestCid, slotIndex, async () => {
      if (!unused()) return;
      this.#trees.delete(`${manifestCid}#${slotIndex}`);
      await this.#p2p.deleteSlot(manifestCid, slotIndex);
    });
  }

  /**
   * Runs `work` after every earlier fetch and release of the same slot, so a release cannot delete
   * what a fetch that started first is about to hand to a new sale.
   */
  #inTurn(manifestCid: string, slotIndex: number, work: () => Promise<void>): Promise<void> {
    const key = `${manifestCid}#${slotIndex}`;
    const result = (this.#turns.get(key) ?? Promise.resolve()).then(work);
    const tail = result.catch(() => {});
    this.#turns.set(key, tail);
    void tail.then(() => {
      if (this.#turns.get(key) === tail) this.#turns.delete(key);
    });
    return result;
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
}
