/**
 * Finds opcodes in EVM bytecode that Taiko's Shanghai rules lack. Bytecode is walked instruction by
 * instruction so that PUSH data (constants that happen to contain 0x5c...) is never mistaken for an
 * opcode. The metadata trailer solc appends is CBOR data, not code: its length sits in the last two
 * bytes, and it is cut off before the walk. Bytes after a halting or jumping instruction are dead until
 * the next JUMPDEST: the optimizer appends data there (a 32-byte constant it CODECOPYs instead of
 * pushing, for one), and read as code such data can look like anything. Only live code is reported,
 * which is all code that can ever run: an instruction runs only by falling through from the one before
 * or by a jump, and a jump may only land on a JUMPDEST.
 */
export const CANCUN_ONLY_OPCODES: ReadonlyMap<number, string> = new Map([
  [0x49, "BLOBHASH"],
  [0x4a, "BLOBBASEFEE"],
  [0x5c, "TLOAD"],
  [0x5d, "TSTORE"],
  [0x5e, "MCOPY"],
]);

/** STOP, JUMP, RETURN, REVERT, INVALID, SELFDESTRUCT: the next byte is not reached by falling through. */
const NO_FALL_THROUGH = new Set([0x00, 0x56, 0xf3, 0xfd, 0xfe, 0xff]);
const JUMPDEST = 0x5b;

export interface ForbiddenOpcode {
  offset: number;
  name: string;
}

export function findForbiddenOpcodes(bytecodeHex: string): ForbiddenOpcode[] {
  const code = stripMetadata(hexToBytes(bytecodeHex));
  const found: ForbiddenOpcode[] = [];
  let live = true;
  // The walk decodes every byte the way the EVM's JUMPDEST analysis does (PUSH data is never code),
  // so the JUMPDESTs it sees are exactly the valid jump targets.
  for (let pc = 0; pc < code.length; pc++) {
    const op = code[pc]!;
    if (op === JUMPDEST) live = true;
    const name = CANCUN_ONLY_OPCODES.get(op);
    if (live && name !== undefined) found.push({ offset: pc, name });
    if (op >= 0x60 && op <= 0x7f) pc += op - 0x5f; // PUSH1..PUSH32 carry 1..32 data bytes
    if (NO_FALL_THROUGH.has(op)) live = false;
  }
  return found;
}

function hexToBytes(hex: string): Uint8Array {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean))
    throw new Error("bytecode is not hex");
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

function stripMetadata(code: Uint8Array): Uint8Array {
  if (code.length < 2) return code;
  const length = (code[code.length - 2]! << 8) | code[code.length - 1]!;
  // A solc trailer is a CBOR map (major type 5: 0xa0..0xbf) of `length` bytes before the length itself.
  const start = code.length - 2 - length;
  if (length > 0 && start >= 0 && (code[start]! & 0xe0) === 0xa0) return code.subarray(0, start);
  return code;
}
