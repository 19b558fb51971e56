import { expect } from "chai";
import { BLOCK_SIZE } from "../../../node/src/blocks/constants.js";
import { blockCid } from "../../../node/src/blocks/cid.js";
import { isHoldfastError } from "../../../node/src/errors.js";
import {
  type Manifest,
  decodeManifest,
  encodeManifest,
  manifestCid,
} from "../../../node/src/manifest/manifest.js";
import { FIELD_MODULUS, fieldToHex } from "../../../node/src/slots/field.js";

const treeCid = blockCid(new Uint8Array(1)).toString();
const basic: Manifest = {
  treeCid,
  blocksCount: 3,
  blockSize: BLOCK_SIZE,
  datasetSize: 2 * BLOCK_SIZE + 1,
  filename: "a.txt",
};
const verifiable: Manifest = {
  ...basic,
  blocksCount: 6,
  protected: { ecK: 2, ecM: 1, originalTreeCid: treeCid, originalBlocksCount: 3 },
  verifiable: {
    cellSize: 2048,
    slotBlocks: 2,
    slotRoots: [1n, 2n, 3n].map(fieldToHex),
    datasetRoot: fieldToHex(4n),
  },
};

function invalid(manifest: unknown): string {
  try {
    decodeManifest(new TextEncoder().encode(JSON.stringify(manifest)));
  } catch (error) {
    expect(isHoldfastError(error, "ERR_INVALID_MANIFEST"), String(error)).to.equal(true);
    return (error as Error).message;
  }
  return expect.fail(`accepted ${JSON.stringify(manifest)}`);
}

const raw = (m: Manifest) =>
  JSON.parse(new TextDecoder().decode(encodeManifest(m))) as Record<string, unknown>;

describe("manifests", function () {
  it("round-trip through their canonical encoding, with a stable id", function () {
    for (const manifest of [basic, verifiable]) {
      const bytes = encodeManifest(manifest);
      expect(decodeManifest(bytes)).to.deep.equal(manifest);
      const reordered = { ...manifest, filename: manifest.filename, treeCid: manifest.treeCid };
      expect(manifestCid(encodeManifest(reordered)).toString()).to.equal(
        manifestCid(bytes).toString(),
      );
    }
  });

  it("refuses what is not a manifest", function () {
    expect(invalid("just a string")).to.include("format");
    try {
      decodeManifest(Uint8Array.of(0xff, 0xfe));
      expect.fail("decoded garbage");
    } catch (error) {
      expect(isHoldfastError(error, "ERR_INVALID_MANIFEST")).to.equal(true);
    }
  });

  it("refuses inconsistent sizes, block sizes and ids", function () {
    expect(invalid({ ...raw(basic), datasetSize: 5 * BLOCK_SIZE })).to.include("does not fill");
    expect(invalid({ ...raw(basic), blockSize: 1024 })).to.include("block size");
    expect(invalid({ ...raw(basic), treeCid: "nope" })).to.include("treeCid");
    expect(invalid({ ...raw(basic), blocksCount: -1 })).to.include("blocksCount");
    expect(invalid({ ...raw(basic), filename: 7 })).to.include("filename");
  });

  it("refuses protected and verifiable sections that do not match their layout", function () {
    const v = raw(verifiable);
    expect(invalid({ ...v, blocksCount: 7 })).to.include("make 6 blocks");
    expect(invalid({ ...v, protected: { ...(v.protected as object), ecK: 0 } })).to.include("ecK");
    expect(
      invalid({ ...v, verifiable: { ...(v.verifiable as object), slotRoots: [fieldToHex(1n)] } }),
    ).to.include("3 slot roots");
    expect(
      invalid({ ...v, verifiable: { ...(v.verifiable as object), slotBlocks: 4 } }),
    ).to.include("slot size");
    const tooBig = `0x${Buffer.from(FIELD_MODULUS.toString(16).padStart(64, "0"), "hex").reverse().toString("hex")}`;
    expect(
      invalid({ ...v, verifiable: { ...(v.verifiable as object), datasetRoot: tooBig } }),
    ).to.include("below r");
    const { protected: _dropped, ...unprotected } = v;
    expect(invalid({ ...unprotected, blocksCount: 3 })).to.include("must be protected");
  });
});
