import { createHash } from "node:crypto";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { HoldfastError } from "../errors.js";
import { BLOCK_SIZE, CODEC, SHA2_256 } from "./constants.js";

export { CID };

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

/** CIDv1 of a SHA-256 digest under the given codec. */
export function cidFromDigest(codec: number, digest: Uint8Array): CID {
  return CID.createV1(codec, Digest.create(SHA2_256, digest));
}

/** The content id of a block: CIDv1, codex-block codec, SHA-256 of its bytes. */
export function blockCid(block: Uint8Array): CID {
  return cidFromDigest(CODEC.block, sha256(block));
}

/** The all-zero block pads datasets and slots; its id and bytes are needed everywhere. */
export const ZERO_BLOCK: Uint8Array = new Uint8Array(BLOCK_SIZE);
export const ZERO_BLOCK_DIGEST: Uint8Array = sha256(ZERO_BLOCK);

/**
 * Parses a CID from user input (base32 or base58btc). Anything else, including CIDs that are not
 * version 1 with SHA-256, is rejected with ERR_INVALID_CID.
 */
export function parseCid(text: string): CID {
  let cid: CID;
  try {
    cid = CID.parse(text);
  } catch (error) {
    throw new HoldfastError("ERR_INVALID_CID", `"${truncate(text)}" is not a valid CID`, {
      cause: error,
    });
  }
  if (cid.version !== 1 || cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    throw new HoldfastError(
      "ERR_INVALID_CID",
      `"${truncate(text)}" is not a CIDv1 with a SHA-256 multihash`,
    );
  }
  return cid;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
