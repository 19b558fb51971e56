// The parts of the WebAssembly JavaScript API that Holdfast uses. Node provides the global, but
// TypeScript declares it only in the DOM and web-worker libraries, which this project does not load.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    /** Grows by `pages` 64 KiB pages; returns the previous size in pages. */
    grow(pages: number): number;
  }
}
