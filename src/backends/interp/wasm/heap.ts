/**
 * The interpreter's float memory. When the WebAssembly kernel is loaded it is
 * that kernel's own (shared) memory, so a kernel that leaves its operands
 * there hands gemm.wat byte offsets instead of copies; otherwise plain
 * ArrayBuffers. Layout of the WebAssembly memory, in bytes:
 *
 *   [0, 64)            never handed out: 0 means "none" to the kernels
 *   [64, pinnedEnd)    weights pinned for the rest of the process (pin): a
 *                      command that loads one model (dlc run) puts them here
 *                      before anything else, so that products read them in
 *                      place instead of copying them in at every call
 *   [pinnedEnd, arenaEnd)
 *                      the activation arena (plan.ts), shared by every
 *                      Interpreter: a run owns all of it while it runs, and
 *                      runs never nest (they are synchronous)
 *   [arenaEnd, packedEnd)
 *                      one owner's packed weights (wasm/index.ts
 *                      PackedWeights: an Interpreter made with `prepack`),
 *                      kept across runs until another owner packs or the
 *                      arena grows into them (packRegion)
 *   [packedEnd, top)   a stack of scratch blocks (attention's heads, recurrent
 *                      states, a training step's activations and gradients:
 *                      grad/util.ts), each given back by its taker (mark,
 *                      release; withScratch)
 *   [top, ...)         gemm.ts's per-call operands, above everything
 *
 * The memory grows and never shrinks. Growing a shared memory does not
 * detach the views already made on it, so arena and scratch views stay valid;
 * `offsetOf` recognises a view on any of the memory's buffers.
 *
 * Not here: what goes in the arena (plan.ts), the kernels' use of scratch.
 */

const ALIGN = 64;
const PAGE = 65536;
/** 2 GiB keeps every byte offset a positive i32. */
export const MAX_PAGES = 32768;

export const align = (bytes: number) => Math.ceil(bytes / ALIGN) * ALIGN;
/** Bytes at the bottom of the memory that nothing is given: a pointer of 0 stays free to mean "none". */
const NULL_BYTES = ALIGN;
/** The most bytes pinned: half the memory, so that an arena and a product's operands still fit above (GPT-2 medium's weights are 1.4 GB). */
export const MAX_PINNED_BYTES = 2 ** 30;

export class Heap {
  /**
   * The end of the pinned weights: the arena's base. Everything starts at
   * NULL_BYTES, never at byte 0, which gemm.wat's kernels read as "none" (no
   * gates to keep, no output).
   */
  private pinnedEnd = NULL_BYTES;
  private arenaEnd = NULL_BYTES;
  /** The end of the packed region above the arena: the scratch stack's base. */
  private packedEnd = NULL_BYTES;
  /** Whose weights the packed region holds (see packRegion). */
  private packedOwner: object | null = null;
  /** The scratch stack's top, in bytes. */
  private top = NULL_BYTES;
  /** Every buffer object this memory has shown: views on any of them live in it. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  /** Without a WebAssembly memory: one growable JS buffer standing in for the stack. */
  private jsStack: ArrayBuffer | null = null;

  constructor(readonly memory: WebAssembly.Memory | null) {}

  /** The byte offset of `view` in the WebAssembly memory, or -1 if it lives elsewhere. */
  offsetOf(view: Float32Array): number {
    return this.memory && this.buffers.has(view.buffer) ? view.byteOffset : -1;
  }

  /**
   * `floats` floats that stay in the memory for the rest of the process,
   * never given back: for the weights of a command that loads one model. Null
   * (the caller keeps its own array) without a WebAssembly memory, past
   * MAX_PINNED_BYTES, or once an arena or scratch has been taken: the pinned
   * region lies below them and cannot grow under them.
   */
  pin(floats: number): Float32Array | null {
    if (!this.memory || this.arenaEnd !== this.pinnedEnd || this.top !== this.pinnedEnd) return null;
    const end = this.pinnedEnd + align(floats * 4);
    if (end > MAX_PINNED_BYTES || !this.reserve(end)) return null;
    const view = new Float32Array(this.buffer(), this.pinnedEnd, floats);
    this.pinnedEnd = this.arenaEnd = this.packedEnd = this.top = end;
    return view;
  }

  /**
   * The arena for one run: `bytes` bytes of `buffer` from byte `base` on (above
   * the pinned weights); null when there is no WebAssembly memory, it cannot
   * grow that far, or scratch is still taken (the caller then allocates its own).
   * An arena that grows takes the packed region's bytes: it is given up.
   */
  arena(bytes: number): { buffer: ArrayBufferLike; base: number } | null {
    if (!this.memory) return null;
    const end = this.pinnedEnd + align(bytes);
    if (end > this.arenaEnd) {
      if (this.scratchTaken() || !this.reserve(end)) return null;
      this.packedOwner = null;
      this.arenaEnd = this.packedEnd = this.top = end;
    }
    return { buffer: this.buffer(), base: this.pinnedEnd };
  }

  /** Gives `owner`'s packed region back to the stack (no longer needed); nothing if it is not `owner`'s or scratch lies above it. */
  dropPacked(owner: object): void {
    if (this.packedOwner !== owner || this.scratchTaken()) return;
    this.packedOwner = null;
    this.packedEnd = this.top = this.arenaEnd;
  }

  /** Whether scratch is taken (the stack is not empty): the packed region cannot be laid out under it then. */
  scratchTaken(): boolean {
    return this.top !== this.packedEnd;
  }

  /** Whether the packed region still holds what `owner` packed into it last. */
  holdsPacked(owner: object): boolean {
    return this.packedOwner === owner;
  }

  /**
   * `floats` floats above the arena for `owner`'s packed weights, kept across
   * runs until another owner takes the region or the arena grows into it
   * (holdsPacked then says false). Whatever the region held before is given
   * up. Null while scratch is taken (the region lies under the stack) or
   * past 2 GiB, leaving the region empty.
   */
  packRegion(owner: object, floats: number): Float32Array | null {
    if (!this.memory || this.scratchTaken()) return null;
    this.packedOwner = null;
    this.packedEnd = this.top = this.arenaEnd;
    const end = this.arenaEnd + align(floats * 4);
    if (!this.reserve(end)) return null;
    this.packedOwner = owner;
    this.packedEnd = this.top = end;
    return new Float32Array(this.buffer(), this.arenaEnd, floats);
  }

  /** Where the stack stands: pass to `release` to give back everything taken after. */
  mark(): number {
    return this.top;
  }

  /** A mark from before the packed region was laid out gives back only the stack above it. */
  release(mark: number): void {
    this.top = Math.max(mark, this.packedEnd);
  }

  /** `floats` floats of scratch on the stack (contents undefined), until `release` below them. */
  take(floats: number): Float32Array {
    const at = this.top;
    const end = at + align(floats * 4);
    if (this.memory) {
      // Past 2 GiB: an ordinary buffer, which gemm.ts copies like any other.
      if (!this.reserve(end)) return new Float32Array(floats);
      this.top = end;
      return new Float32Array(this.buffer(), at, floats);
    }
    // A JS stack: a new, larger buffer when full; views on the old one stay valid.
    if (!this.jsStack || this.jsStack.byteLength < end) this.jsStack = new ArrayBuffer(Math.max(end, 2 * (this.jsStack?.byteLength ?? 0)));
    this.top = end;
    return new Float32Array(this.jsStack, at, floats);
  }

  /** The first free byte above the stack: gemm.ts lays its operands out from here. */
  free(): number {
    return this.top;
  }

  /** Make bytes [0, end) of the WebAssembly memory exist; false if that passes 2 GiB. */
  reserve(end: number): boolean {
    const memory = this.memory!;
    const have = memory.buffer.byteLength;
    if (end <= have) return true;
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) return false;
    memory.grow(pages);
    return true;
  }

  /** The memory's current buffer, noted as ours. */
  buffer(): ArrayBufferLike {
    const b = this.memory!.buffer;
    this.buffers.add(b);
    return b;
  }
}

/** Run `fn` with scratch from `heap`, giving it all back afterwards (also on a throw). */
export function withScratch<T>(heap: Heap, fn: (take: (floats: number) => Float32Array) => T): T {
  const mark = heap.mark();
  try {
    return fn((floats) => heap.take(floats));
  } finally {
    heap.release(mark);
  }
}
