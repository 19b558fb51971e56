import { expect } from "chai";
import { isNetworkError } from "../../../node/src/network/errors.js";
import {
  FrameDecoder,
  MAX_CIDS_PER_MESSAGE,
  type Message,
  MessageType,
  decodeBody,
  encodeBlockFrame,
  encodeCidList,
  encodeMessage,
} from "../../../node/src/network/block-exchange/wire.js";
import { cidOf, randomBlocks } from "./helpers.js";

function decodeAll(decoder: FrameDecoder, bytes: Uint8Array, chunk = bytes.length): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < bytes.length; i += chunk) {
    out.push(...decoder.push(bytes.subarray(i, i + chunk)));
  }
  return out;
}

function expectViolation(fn: () => unknown, pattern: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(isNetworkError(error, "ERR_PROTOCOL_VIOLATION"), String(error)).to.equal(true);
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail("expected ERR_PROTOCOL_VIOLATION");
}

const leaf = (n: number) => new Uint8Array(32).fill(n);

/** A message as plain data, for deep comparison. */
function plain(m: Message): unknown {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  if ("cids" in m) return { type: m.type, cids: m.cids.map(String) };
  if (m.type === MessageType.BLOCK) return { type: m.type, cid: String(m.cid), data: hex(m.data) };
  if (m.type === MessageType.WANT_LEAVES) return { ...m, tree: String(m.tree) };
  return { ...m, tree: String(m.tree), leaves: m.leaves.map(hex) };
}

/** A frame: varint length prefix (values < 2^14 here) + body. */
function frame(body: number[]): Uint8Array {
  const n = body.length;
  const prefix = n < 0x80 ? [n] : [(n & 0x7f) | 0x80, n >> 7];
  return Uint8Array.from([...prefix, ...body]);
}

describe("block exchange wire format", function () {
  const blocks = randomBlocks(3, 1000);
  const cids = blocks.map((b) => b.cid);

  it("round-trips every message type, whole and split into 1-byte chunks", function () {
    const messages: Message[] = [
      { type: MessageType.WANT_HAVE, cids },
      { type: MessageType.HAVE, cids: cids.slice(0, 1) },
      { type: MessageType.DONT_HAVE, cids: cids.slice(1) },
      { type: MessageType.WANT_BLOCK, cids },
      { type: MessageType.BLOCK, cid: blocks[0]!.cid, data: blocks[0]!.bytes },
      { type: MessageType.BLOCK, cid: cidOf(new Uint8Array()), data: new Uint8Array() },
      { type: MessageType.CANCEL, cids: cids.slice(2) },
      { type: MessageType.WANT_LEAVES, tree: cids[0]!, start: 300, count: 16384 },
      { type: MessageType.LEAVES, tree: cids[0]!, start: 5, leaves: [leaf(1), leaf(2)] },
    ];
    const stream = Buffer.concat(messages.map(encodeMessage));
    for (const chunk of [stream.length, 1, 7]) {
      const decoded = decodeAll(new FrameDecoder(), stream, chunk);
      expect(decoded).to.have.length(messages.length);
      expect(decoded.map(plain)).to.deep.equal(messages.map(plain));
    }
  });

  it("encodes a BLOCK frame in two pieces with the same bytes as the whole-frame encoder", function () {
    const { cid, bytes } = blocks[1]!;
    const pieces = encodeBlockFrame(cid, bytes);
    expect(
      Buffer.from(pieces.subarray()).equals(
        Buffer.from(encodeMessage({ type: MessageType.BLOCK, cid, data: bytes })),
      ),
    ).to.equal(true);
  });

  it("splits long CID lists into messages of at most MAX_CIDS_PER_MESSAGE", function () {
    const many = Array.from({ length: MAX_CIDS_PER_MESSAGE * 2 + 5 }, (_, i) =>
      cidOf(Uint8Array.of(i & 0xff, i >> 8)),
    );
    const frames = encodeCidList(MessageType.WANT_HAVE, many);
    expect(frames).to.have.length(3);
    const decoded = decodeAll(new FrameDecoder(), Buffer.concat(frames));
    const all = decoded.flatMap((m) => ("cids" in m ? m.cids.map(String) : []));
    expect(all).to.deep.equal(many.map(String));
  });

  it("refuses a frame over the cap from its length prefix alone, before buffering its body", function () {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    // Length prefix 1025 (0x81 0x08) and nothing else: the decoder must refuse right away.
    expectViolation(() => [...decoder.push(Uint8Array.of(0x81, 0x08))], /frame of 1025 bytes/);
    // The default cap: 1 MiB + 1 KiB; a 16 MiB prefix is refused.
    expectViolation(
      () => [...new FrameDecoder().push(Uint8Array.of(0x80, 0x80, 0x80, 0x08))],
      /frame of 16777216 bytes/,
    );
  });

  it("refuses a block larger than the block cap even inside an allowed frame", function () {
    const data = new Uint8Array(300);
    const bytes = encodeMessage({ type: MessageType.BLOCK, cid: cidOf(data), data });
    const decoder = new FrameDecoder({ maxBlockBytes: 200 });
    expectViolation(() => [...decoder.push(bytes)], /block of 300 bytes/);
  });

  it("refuses malformed messages with ERR_PROTOCOL_VIOLATION", function () {
    const cid = [...cids[0]!.bytes];
    expectViolation(() => decodeBody(new Uint8Array()), /empty message/);
    expectViolation(() => decodeBody(Uint8Array.of(0x09, 1)), /unknown message type 0x9/);
    expectViolation(() => decodeBody(Uint8Array.of(0x01, 0)), /CID list of 0 entries/);
    expectViolation(() => decodeBody(Uint8Array.of(0x01, 0x81, 0x08)), /CID list of 1025/);
    expectViolation(() => decodeBody(Uint8Array.of(0x01, 1, cid.length, ...cid, 9)), /trailing/);
    expectViolation(() => decodeBody(Uint8Array.of(0x01, 2, cid.length, ...cid)), /ends inside/);
    expectViolation(() => decodeBody(Uint8Array.of(0x01, 1, 5, 1, 2, 3, 4, 5)), /does not parse/);
    expectViolation(() => decodeBody(Uint8Array.of(0x01, 1, 200, 1)), /CID of 200 bytes/);
    expectViolation(() => decodeBody(Uint8Array.of(0x05)), /ends inside a length/);
    expectViolation(() => [...new FrameDecoder().push(Uint8Array.of(0x85, 0x00))], /minimally/);
    expectViolation(
      () => [...new FrameDecoder().push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x01))],
      /longer than 4 bytes/,
    );
    const want = (start: number[], count: number[]) =>
      Uint8Array.of(0x07, cid.length, ...cid, ...start, ...count);
    expectViolation(() => decodeBody(want([1], [0])), /request for 0 leaves/);
    expectViolation(() => decodeBody(want([1], [0x81, 0x80, 0x01])), /request for 16385 leaves/);
    expectViolation(() => decodeBody(want([0xff, 0xff, 0xff, 0xff, 1], [1])), /longer than 4/);
    expectViolation(() => decodeBody(Uint8Array.of(...want([1], [1]), 0)), /trailing/);
    expectViolation(
      () => decodeBody(Uint8Array.of(0x08, cid.length, ...cid, 0, ...new Array(33).fill(1))),
      /33 bytes of leaves/,
    );
    // A good frame after garbage is never reached: the decoder stops at the first violation.
    const decoder = new FrameDecoder();
    expectViolation(() => [...decoder.push(frame([0x09]))], /unknown message type/);
  });

  it("holds only the bytes of an incomplete frame", function () {
    const decoder = new FrameDecoder();
    const whole = encodeMessage({ type: MessageType.BLOCK, cid: cids[0]!, data: blocks[0]!.bytes });
    expect([...decoder.push(whole.subarray(0, 100))]).to.have.length(0);
    expect(decoder.buffered).to.equal(100);
    expect([...decoder.push(whole.subarray(100))]).to.have.length(1);
    expect(decoder.buffered).to.equal(0);
  });
});
