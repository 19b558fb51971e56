import { createHash } from "node:crypto";
import type { CID } from "multiformats/cid";
import { NetworkError } from "../errors.js";

const SHA2_256 = 0x12;

/** Only SHA2-256 multihashes can be checked by this node; any other CID is refused up front. */
export function assertVerifiableCid(cid: CID): void {
  if (cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    throw new NetworkError(
      "ERR_UNSUPPORTED_CID",
      `${cid.toString()} does not use a SHA2-256 multihash; its blocks cannot be verified`,
    );
  }
}

/** Whether `bytes` hash to the digest in `cid` (which must have passed assertVerifiableCid). */
export function blockMatchesCid(cid: CID, bytes: Uint8Array): boolean {
  const digest = createHash("sha256").update(bytes).digest();
  const expected = cid.multihash.digest;
  return digest.length === expected.length && digest.equals(expected);
}
