/**
 * Which verifiable dataset a storage request names: the given one when it is verifiable already
 * with the asked K + M, a verifiable one this node made earlier from the same original with the
 * same K + M, or one to make now (DataService.protect). Planning reads only manifests, so the
 * terms and price can be checked before the erasure coding runs.
 */
import type { DataService } from "../dataset/service.js";
import { ecLayout } from "../erasure/layout.js";
import { HoldfastError } from "../errors.js";
import type { Manifest } from "../manifest/manifest.js";

export interface DatasetPlan {
  /** The verifiable manifest's id, undefined until protect() made it. */
  verifiableCid: string | undefined;
  /** The verifiable manifest, when it exists already. */
  manifest: Manifest | undefined;
  /** Bytes a host stores for one slot: the slot's blocks (data or parity) times the block size. */
  slotSize: bigint;
  ecK: number;
  ecM: number;
}

export async function planDataset(
  service: DataService,
  cid: string,
  ecK: number,
  ecM: number,
): Promise<DatasetPlan> {
  const manifest = await service.manifest(cid);
  const asked = `nodes=${ecK + ecM} tolerance=${ecM}`;
  if (manifest.protected) {
    const { protected: p } = manifest;
    if (p.ecK !== ecK || p.ecM !== ecM) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `dataset ${cid} is erasure coded with K=${p.ecK} M=${p.ecM}, which is nodes=${p.ecK + p.ecM} tolerance=${p.ecM}, not ${asked}; give those or the original dataset's id`,
      );
    }
    const slotSize = BigInt((manifest.blocksCount / (ecK + ecM)) * manifest.blockSize);
    if (manifest.verifiable) return { verifiableCid: cid, manifest, slotSize, ecK, ecM };
    // A protected manifest is stored with its verifiable sibling (same tree): use that one.
    const sibling = (await service.list()).find(
      (r) => r.kind === "verifiable" && r.treeCid === manifest.treeCid,
    );
    if (!sibling) {
      throw new HoldfastError(
        "ERR_INVALID_ARGUMENT",
        `dataset ${cid} is erasure coded but this node has no verifiable manifest of it; give the original dataset's id`,
      );
    }
    return {
      verifiableCid: sibling.manifestCid,
      manifest: await service.manifest(sibling.manifestCid),
      slotSize,
      ecK,
      ecM,
    };
  }
  const layout = ecLayout(manifest.blocksCount, ecK, ecM);
  const slotSize = BigInt(layout.steps * manifest.blockSize);
  for (const record of await service.list()) {
    if (record.kind !== "verifiable") continue;
    const candidate = await service.manifest(record.manifestCid);
    const p = candidate.protected!;
    if (p.originalTreeCid === manifest.treeCid && p.ecK === ecK && p.ecM === ecM) {
      return { verifiableCid: record.manifestCid, manifest: candidate, slotSize, ecK, ecM };
    }
  }
  return { verifiableCid: undefined, manifest: undefined, slotSize, ecK, ecM };
}
