/**
 * A tiny WebAssembly binary encoder: just the sections and instructions the Poseidon2 kernel uses.
 *
 * We generate the module from TypeScript at load time instead of shipping a .wasm file so that the
 * field arithmetic is written (and reviewed) next to the code that explains it, with the prime's
 * limbs computed from one BigInt rather than pasted in. The format follows the WebAssembly 1.0 core
 * specification (binary format, chapter 5); multi-value and other later features are not needed.
 */

export type ValueType = "i32" | "i64";

const VALUE_TYPE_CODE: Record<ValueType, number> = { i32: 0x7f, i64: 0x7e };

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 of an arbitrary-width integer (i32.const and i64.const immediates). */
function sleb(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n; // arithmetic shift: keeps the sign
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8Name(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A local variable (or parameter) of the function being built. */
export interface Local {
  readonly index: number;
  readonly type: ValueType;
}

/**
 * Builds one function body. Methods append instructions in stack-machine order and return `this`
 * so that short sequences read left to right: `f.get(a).get(b).op("i64.mul").set(t)`.
 */
export class FunctionBuilder {
  readonly params: Local[] = [];
  private readonly locals: Local[] = [];
  private readonly code: number[] = [];

  constructor(
    readonly name: string,
    paramTypes: readonly ValueType[],
    readonly resultType: ValueType | null,
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local(type: ValueType): Local {
    const local = { index: this.params.length + this.locals.length, type };
    this.locals.push(local);
    return local;
  }

  locals64(count: number): Local[] {
    return Array.from({ length: count }, () => this.local("i64"));
  }

  get(local: Local): this {
    return this.emit(0x20, ...uleb(local.index));
  }
  set(local: Local): this {
    return this.emit(0x21, ...uleb(local.index));
  }
  tee(local: Local): this {
    return this.emit(0x22, ...uleb(local.index));
  }
  i32(value: number): this {
    return this.emit(0x41, ...sleb(BigInt(value | 0)));
  }
  i64(value: bigint): this {
    return this.emit(0x42, ...sleb(BigInt.asIntN(64, value)));
  }

  /** Memory access with a constant byte offset added to the address on the stack. */
  load(op: keyof typeof MEMORY_OPS, offset = 0): this {
    const [code, align] = MEMORY_OPS[op];
    return this.emit(code, align, ...uleb(offset));
  }
  store(op: keyof typeof MEMORY_OPS, offset = 0): this {
    return this.load(op, offset); // same encoding: opcode, alignment, offset
  }

  op(name: keyof typeof PLAIN_OPS): this {
    return this.emit(PLAIN_OPS[name]);
  }

  call(fn: FunctionBuilder, module: ModuleBuilder): this {
    return this.emit(0x10, ...uleb(module.indexOf(fn)));
  }

  /** `block` / `loop` / `if` without results; close each with `end()`. */
  block(): this {
    return this.emit(0x02, 0x40);
  }
  loop(): this {
    return this.emit(0x03, 0x40);
  }
  if(): this {
    return this.emit(0x04, 0x40);
  }
  else(): this {
    return this.emit(0x05);
  }
  end(): this {
    return this.emit(0x0b);
  }
  /** Branch to the label `depth` levels out (0 = innermost); for a loop that means "continue". */
  br(depth: number): this {
    return this.emit(0x0c, ...uleb(depth));
  }
  brIf(depth: number): this {
    return this.emit(0x0d, ...uleb(depth));
  }

  private emit(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  /** The function's entry in the code section. */
  encodeBody(): number[] {
    // Locals are declared as runs of equal type.
    const runs: number[][] = [];
    for (const local of this.locals) {
      const last = runs.at(-1);
      if (last && last[1] === VALUE_TYPE_CODE[local.type]) last[0]!++;
      else runs.push([1, VALUE_TYPE_CODE[local.type]]);
    }
    const body = [...vector(runs.map(([n, t]) => [...uleb(n!), t!])), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }

  encodeType(): number[] {
    return [
      0x60,
      ...vector(this.params.map((p) => [VALUE_TYPE_CODE[p.type]])),
      ...vector(this.resultType ? [[VALUE_TYPE_CODE[this.resultType]]] : []),
    ];
  }
}

/** [opcode, log2 of the natural alignment] */
const MEMORY_OPS = {
  "i32.load": [0x28, 2],
  "i64.load": [0x29, 3],
  "i32.load8_u": [0x2d, 0],
  "i64.load8_u": [0x31, 0],
  "i64.load32_u": [0x35, 2],
  "i32.store": [0x36, 2],
  "i64.store": [0x37, 3],
  "i32.store8": [0x3a, 0],
  "i64.store8": [0x3c, 0],
  "i64.store32": [0x3e, 2],
} as const;

const PLAIN_OPS = {
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  "i32.eqz": 0x45,
  "i32.eq": 0x46,
  "i32.ne": 0x47,
  "i32.lt_u": 0x49,
  "i32.gt_u": 0x4b,
  "i32.ge_u": 0x4f,
  "i64.eqz": 0x50,
  "i64.lt_s": 0x53,
  "i32.add": 0x6a,
  "i32.sub": 0x6b,
  "i32.mul": 0x6c,
  "i32.and": 0x71,
  "i32.or": 0x72,
  "i32.shl": 0x74,
  "i32.shr_u": 0x76,
  "i64.add": 0x7c,
  "i64.sub": 0x7d,
  "i64.mul": 0x7e,
  "i64.and": 0x83,
  "i64.or": 0x84,
  "i64.shl": 0x86,
  "i64.shr_s": 0x87,
  "i64.shr_u": 0x88,
  "i32.wrap_i64": 0xa7,
  "i64.extend_i32_u": 0xad,
} as const;

/** A module with one exported memory and a list of functions, some exported by name. */
export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];
  private readonly exported = new Set<FunctionBuilder>();

  constructor(private readonly initialMemoryPages: number) {}

  addFunction(
    name: string,
    params: readonly ValueType[],
    result: ValueType | null,
    options: { exported?: boolean } = {},
  ): FunctionBuilder {
    const fn = new FunctionBuilder(name, params, result);
    this.functions.push(fn);
    if (options.exported) this.exported.add(fn);
    return fn;
  }

  indexOf(fn: FunctionBuilder): number {
    const index = this.functions.indexOf(fn);
    if (index < 0) throw new Error(`wasm encoder: function ${fn.name} is not in this module`);
    return index;
  }

  encode(): Uint8Array {
    const section = (id: number, items: number[][]) => {
      const content = vector(items);
      return [id, ...uleb(content.length), ...content];
    };
    const EXPORT_FUNC = 0x00;
    const EXPORT_MEMORY = 0x02;
    // One type per function keeps the encoder simple; the duplicates cost a few bytes.
    const bytes = [
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
      ...section(
        1,
        this.functions.map((f) => f.encodeType()),
      ),
      ...section(
        3,
        this.functions.map((_, i) => uleb(i)),
      ),
      ...section(5, [[0x00, ...uleb(this.initialMemoryPages)]]),
      ...section(7, [
        [...utf8Name("memory"), EXPORT_MEMORY, 0x00],
        ...[...this.exported].map((f) => [
          ...utf8Name(f.name),
          EXPORT_FUNC,
          ...uleb(this.indexOf(f)),
        ]),
      ]),
      ...section(
        10,
        this.functions.map((f) => f.encodeBody()),
      ),
    ];
    return Uint8Array.from(bytes);
  }
}
