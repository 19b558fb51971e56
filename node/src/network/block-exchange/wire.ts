import { CID } from "multiformats/cid";
import { Uint8ArrayList } from "uint8arraylist";
import { NetworkError } from "../errors.js";

/**
 * Wire format of `/holdfast/blockexchange/1.0.0` (hand-written; small enough that a protobuf
 * schema would add a dependency without adding clarity).
 *
 *   frame     = varint(length of body) body            length <= maxFrameBytes
 *   body      = type:u8 payload
 *   cidList   = varint(count) count * cidEntry         1 <= count <= MAX_CIDS_PER_MESSAGE
 *   cidEntry  = varint(length) cid bytes               1 <= length <= MAX_CID_BYTES
 *
 *   0x01 WANT_HAVE   cidList        which of these blocks do you have?
 *   0x02 HAVE        cidList        I have these
 *   0x03 DONT_HAVE   cidList        I do not have these (answers WANT_HAVE and WANT_BLOCK)
 *   0x04 WANT_BLOCK  cidList        send me these blocks
 *   0x05 BLOCK       cidEntry data  one block; data is the rest of the body
 *   0x06 CANCEL      cidList        forget these WANT_BLOCKs if not yet answered
 *   0x07 WANT_LEAVES cidEntry varint(start) varint(count)
 *                                   send me leaf digests [start, start+count) of this SHA-256 tree
 *   0x08 LEAVES      cidEntry varint(start) digests
 *                                   leaf digests from `start` (32 bytes each, the rest of the body;
 *                                   fewer than asked where the tree ends); DONT_HAVE [tree] if the
 *                                   tree is unknown
 *
 * The leaves let a node that has only a manifest (tree id, block count) learn its blocks' ids: it
 * checks them against the tree id once, then checks every block against its id.
 *
 * Varints are unsigned LEB128 of at most 4 bytes (values < 2^28: leaf indexes up to 16 TiB trees). Everything a peer sends is
 * checked here: an unknown type, a truncated or overlong field, a frame over the cap, trailing
 * bytes, an unparsable CID all raise ERR_PROTOCOL_VIOLATION. The frame length is checked before
 * its body is buffered, so a peer cannot make us hold more than one frame cap of its data.
 */
export const MessageType = {
  WANT_HAVE: 0x01,
  HAVE: 0x02,
  DONT_HAVE: 0x03,
  WANT_BLOCK: 0x04,
  BLOCK: 0x05,
  CANCEL: 0x06,
  WANT_LEAVES: 0x07,
  LEAVES: 0x08,
} as const;

export type CidListType = 0x01 | 0x02 | 0x03 | 0x04 | 0x06;

export type Message =
  | { type: CidListType; cids: CID[] }
  | { type: typeof MessageType.BLOCK; cid: CID; data: Uint8Array }
  | { type: typeof MessageType.WANT_LEAVES; tree: CID; start: number; count: number }
  | { type: typeof MessageType.LEAVES; tree: CID; start: number; leaves: Uint8Array[] };

/** The largest block this protocol carries: 16 times the node's 64 KiB block size. */
export const MAX_BLOCK_BYTES = 1024 * 1024;
/** Room for type, CID and length fields around the largest block. */
export const MAX_FRAME_BYTES = MAX_BLOCK_BYTES + 1024;
export const MAX_CIDS_PER_MESSAGE = 1024;
/** A CIDv1 with a SHA-256 multihash takes 36-38 bytes; anything past this is not a real CID. */
export const MAX_CID_BYTES = 128;
export const LEAF_BYTES = 32;
/** 512 KiB of digests per LEAVES message. */
export const MAX_LEAVES_PER_MESSAGE = 16384;

const MAX_VARINT_BYTES = 4;

function violation(message: string): NetworkError {
  return new NetworkError("ERR_PROTOCOL_VIOLATION", message);
}

function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

function writeVarint(target: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  target[offset++] = value;
  return offset;
}

function encodeLeaves(
  message: Extract<Message, { type: typeof MessageType.WANT_LEAVES | typeof MessageType.LEAVES }>,
): Uint8Array {
  const cid = message.tree.bytes;
  const second = message.type === MessageType.WANT_LEAVES ? message.count : 0;
  const tail = message.type === MessageType.LEAVES ? message.leaves.length * LEAF_BYTES : 0;
  const bodyLength =
    1 +
    varintLength(cid.length) +
    cid.length +
    varintLength(message.start) +
    (message.type === MessageType.WANT_LEAVES ? varintLength(second) : 0) +
    tail;
  const frame = new Uint8Array(varintLength(bodyLength) + bodyLength);
  let o = writeVarint(frame, 0, bodyLength);
  frame[o++] = message.type;
  o = writeVarint(frame, o, cid.length);
  frame.set(cid, o);
  o = writeVarint(frame, o + cid.length, message.start);
  if (message.type === MessageType.WANT_LEAVES) {
    writeVarint(frame, o, second);
  } else {
    for (const leaf of message.leaves) {
      if (leaf.length !== LEAF_BYTES) throw new RangeError("a leaf digest is 32 bytes");
      frame.set(leaf, o);
      o += LEAF_BYTES;
    }
  }
  return frame;
}

/** Encodes a message as one complete frame (length prefix included). */
export function encodeMessage(message: Message): Uint8Array {
  if (message.type === MessageType.WANT_LEAVES || message.type === MessageType.LEAVES) {
    return encodeLeaves(message);
  }
  let bodyLength: number;
  if (message.type === MessageType.BLOCK) {
    const cid = message.cid.bytes;
    bodyLength = 1 + varintLength(cid.length) + cid.length + message.data.length;
    const frame = new Uint8Array(varintLength(bodyLength) + bodyLength);
    let o = writeVarint(frame, 0, bodyLength);
    frame[o++] = message.type;
    o = writeVarint(frame, o, cid.length);
    frame.set(cid, o);
    frame.set(message.data, o + cid.length);
    return frame;
  }
  if (message.cids.length === 0 || message.cids.length > MAX_CIDS_PER_MESSAGE) {
    throw new RangeError(`a CID list holds 1..${MAX_CIDS_PER_MESSAGE} CIDs`);
  }
  bodyLength = 1 + varintLength(message.cids.length);
  for (const cid of message.cids) bodyLength += varintLength(cid.bytes.length) + cid.bytes.length;
  const frame = new Uint8Array(varintLength(bodyLength) + bodyLength);
  let o = writeVarint(frame, 0, bodyLength);
  frame[o++] = message.type;
  o = writeVarint(frame, o, message.cids.length);
  for (const cid of message.cids) {
    o = writeVarint(frame, o, cid.bytes.length);
    frame.set(cid.bytes, o);
    o += cid.bytes.length;
  }
  return frame;
}

/**
 * A BLOCK frame as two pieces, header and the block itself, so that sending it does not copy the
 * block (the stream takes a list of buffers).
 */
export function encodeBlockFrame(cid: CID, data: Uint8Array): Uint8ArrayList {
  const bytes = cid.bytes;
  const bodyLength = 1 + varintLength(bytes.length) + bytes.length + data.length;
  const header = new Uint8Array(
    varintLength(bodyLength) + 1 + varintLength(bytes.length) + bytes.length,
  );
  let o = writeVarint(header, 0, bodyLength);
  header[o++] = MessageType.BLOCK;
  o = writeVarint(header, o, bytes.length);
  header.set(bytes, o);
  return new Uint8ArrayList(header, data);
}

/** Splits a CID list into messages of at most MAX_CIDS_PER_MESSAGE entries. */
export function encodeCidList(type: CidListType, cids: readonly CID[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < cids.length; i += MAX_CIDS_PER_MESSAGE) {
    frames.push(encodeMessage({ type, cids: cids.slice(i, i + MAX_CIDS_PER_MESSAGE) }));
  }
  return frames;
}

/** Reads a varint at `offset`; returns [value, next offset], or undefined if more bytes are needed. */
function readVarint(
  bytes: Uint8ArrayList | Uint8Array,
  offset: number,
  end: number,
): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= end) return undefined;
    const byte = bytes instanceof Uint8Array ? bytes[offset + i]! : bytes.get(offset + i);
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) throw violation("a varint is not minimally encoded");
      return [value, offset + i + 1];
    }
  }
  throw violation(`a varint is longer than ${MAX_VARINT_BYTES} bytes`);
}

function readField(body: Uint8Array, offset: number): [number, number] {
  const read = readVarint(body, offset, body.length);
  if (read === undefined) throw violation("a message ends inside a length field");
  return read;
}

function readCid(body: Uint8Array, offset: number): [CID, number] {
  const [length, start] = readField(body, offset);
  if (length === 0 || length > MAX_CID_BYTES) throw violation(`a CID of ${length} bytes`);
  if (start + length > body.length) throw violation("a message ends inside a CID");
  try {
    return [CID.decode(body.subarray(start, start + length)), start + length];
  } catch (error) {
    throw new NetworkError("ERR_PROTOCOL_VIOLATION", "a CID that does not parse", {
      cause: error,
    });
  }
}

/** Decodes one frame body (without its length prefix). */
export function decodeBody(body: Uint8Array, maxBlockBytes = MAX_BLOCK_BYTES): Message {
  if (body.length === 0) throw violation("an empty message");
  const type = body[0]!;
  if (type === MessageType.BLOCK) {
    const [cid, dataStart] = readCid(body, 1);
    const data = body.subarray(dataStart);
    if (data.length > maxBlockBytes) {
      throw violation(`a block of ${data.length} bytes (at most ${maxBlockBytes})`);
    }
    return { type, cid, data };
  }
  if (type === MessageType.WANT_LEAVES || type === MessageType.LEAVES) {
    const [tree, afterCid] = readCid(body, 1);
    const [start, afterStart] = readField(body, afterCid);
    if (type === MessageType.WANT_LEAVES) {
      const [count, end] = readField(body, afterStart);
      if (count === 0 || count > MAX_LEAVES_PER_MESSAGE) {
        throw violation(`a request for ${count} leaves (1..${MAX_LEAVES_PER_MESSAGE})`);
      }
      if (end !== body.length) throw violation("trailing bytes after a leaves request");
      return { type, tree, start, count };
    }
    const bytes = body.subarray(afterStart);
    const n = bytes.length / LEAF_BYTES;
    if (!Number.isInteger(n) || n === 0 || n > MAX_LEAVES_PER_MESSAGE) {
      throw violation(
        `${bytes.length} bytes of leaves (a multiple of 32, 1..${MAX_LEAVES_PER_MESSAGE} leaves)`,
      );
    }
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < n; i++) leaves.push(bytes.slice(i * LEAF_BYTES, (i + 1) * LEAF_BYTES));
    return { type, tree, start, leaves };
  }
  if (
    type !== MessageType.WANT_HAVE &&
    type !== MessageType.HAVE &&
    type !== MessageType.DONT_HAVE &&
    type !== MessageType.WANT_BLOCK &&
    type !== MessageType.CANCEL
  ) {
    throw violation(`unknown message type 0x${type.toString(16)}`);
  }
  const [count, listStart] = readField(body, 1);
  let offset = listStart;
  if (count === 0 || count > MAX_CIDS_PER_MESSAGE) {
    throw violation(`a CID list of ${count} entries (1..${MAX_CIDS_PER_MESSAGE})`);
  }
  const cids: CID[] = [];
  for (let i = 0; i < count; i++) {
    let cid: CID;
    [cid, offset] = readCid(body, offset);
    cids.push(cid);
  }
  if (offset !== body.length) throw violation("trailing bytes after a CID list");
  return { type, cids };
}

/**
 * Turns the chunks a stream delivers into messages. Holds at most one frame's bytes: a length
 * prefix over `maxFrameBytes` is refused before any of its body is kept.
 */
export class FrameDecoder {
  readonly #buffer = new Uint8ArrayList();
  readonly #maxFrameBytes: number;
  readonly #maxBlockBytes: number;

  constructor(options: { maxFrameBytes?: number; maxBlockBytes?: number } = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.#maxBlockBytes = options.maxBlockBytes ?? MAX_BLOCK_BYTES;
  }

  /** Bytes received but not yet part of a complete frame. */
  get buffered(): number {
    return this.#buffer.byteLength;
  }

  *push(chunk: Uint8Array | Uint8ArrayList): Generator<Message> {
    this.#buffer.append(chunk);
    for (;;) {
      const prefix = readVarint(this.#buffer, 0, this.#buffer.byteLength);
      if (prefix === undefined) return;
      const [length, start] = prefix;
      if (length > this.#maxFrameBytes) {
        throw violation(`a frame of ${length} bytes (at most ${this.#maxFrameBytes})`);
      }
      if (this.#buffer.byteLength < start + length) return;
      const body = this.#buffer.subarray(start, start + length);
      this.#buffer.consume(start + length);
      yield decodeBody(body, this.#maxBlockBytes);
    }
  }
}
