/**
 * Worker threads for the WebAssembly kernels, driven synchronously: the
 * matmul (a Job: C cut into row blocks and column panels), and range kernels
 * (a RangeJob: pooling, activations, depthwise convolutions, relu's backward, B's packing, col2im by image and
 * a small kernel's gradient by slices of images, bias gradients by blocks of rows, recurrent layers by
 * blocks of batch rows, Winograd's kernel transform by panels and its tiles by blocks, attention's heads
 * by (example, head) pairs, a one-row product by groups of columns, whose items are independent, cut into slices of them).
 *
 * `matmulInto` is synchronous, so the main thread cannot await workers. It
 * publishes a job in a shared Int32Array (`control`), wakes the workers with
 * Atomics.notify, takes chunks itself like any worker, then blocks in
 * Atomics.wait (allowed on Node's main thread) until every chunk is done.
 * Chunks are claimed one at a time with compare-and-swap, so a worker that
 * is still starting up, or descheduled, simply gets fewer of them: the first
 * jobs run on the main thread alone while the workers boot, and a busy
 * machine degrades to single-threaded speed instead of waiting.
 *
 * Workers run the same gemm.wasm module on the same shared memory (no copies):
 * Node's worker_threads, or in a cross-origin isolated page Web Workers, which
 * the playground's compiler worker starts (platform.startThread). Blocking in
 * Atomics.wait is allowed there too, as it is not on a page's main thread.
 * They never keep the process alive, and idle in
 * Atomics.wait between jobs. Their code is the functions below marked
 * "runs in workers too", serialised with Function.prototype.toString, so the
 * protocol is written once.
 *
 * A job's chunks are cut into one contiguous segment per thread, and each
 * thread takes the chunks of its own segment first, then helps with the
 * others' (`claim`). So thread i works on about the same band of the items
 * (a convolution's pixels, a tensor's values) in one job as in the next, and
 * finds what it wrote in its own core's cache: on this project's machine a
 * 14x14x384 depthwise convolution took 0.077 ms on two threads when each
 * took whichever chunk came next, which read half of its input from the
 * other core, and 0.045 ms with segments (0.035 ms on one thread).
 *
 * Each segment's word packs (seq << 12) | its next chunk; seq tells jobs
 * apart, so a worker that wakes late cannot claim a chunk of the next job
 * with the arguments of the previous one. The job word holds seq too, and
 * wakes the workers. A job's arguments are written only while its segments
 * are spent, and read only after a successful claim.
 */
import type { GemmExports } from './gemm.js';
import { internal } from '../../../diagnostics.js';
import { platform } from '../../../platform/index.js';

/** How a job's C is cut: rowChunks blocks of rows times column groups of panelsPerChunk panels. */
export interface ChunkPlan {
  rowsPerChunk: number;
  rowChunks: number;
  panelsPerChunk: number;
  panels: number;
  chunks: number;
}

/** One call of gemm.wat's `gemm`, cut into chunks; byte offsets into the shared memory. */
export interface Job extends ChunkPlan {
  a: number;
  transA: number;
  pb: number;
  c: number;
  bias: number;
  M: number;
  K: number;
  N: number;
  flags: number;
  scratch: number;
  scratchStride: number;
  mc: number;
}

// Slots of the control array, and the control words' layout.
const JOB = 0;
const DONE = 1;
const FAILED = 2;
const ACTIVE = 3;
const ONLINE = 4;
/** The job's kind: 0 a gemm (ARGS), 1 a range kernel (RANGE). */
const KIND = 5;
/** The job's arguments, in the order of ARG_NAMES. */
const ARGS = 8;
/**
 * Ints in a cache line (64 bytes). A word that a thread writes for every
 * chunk has a line of its own: two threads writing words of one line move it
 * from core to core at each write, though they share no word.
 */
const LINE = 16;
/** Chunks run by each thread, main thread first: thread i's count at STATS + i * LINE. */
const STATS = 32;
const MAX_THREADS = 64;
const ARG_NAMES = [
  'a', 'transA', 'pb', 'c', 'bias', 'M', 'K', 'N', 'flags', 'scratch', 'scratchStride', 'mc',
  'rowsPerChunk', 'rowChunks', 'panelsPerChunk', 'panels', 'chunks',
] as const;
/**
 * A range job: [kernel, items, items per chunk, count argument, count scale,
 * argument count, per-thread argument (-1: none), its stride per thread], then
 * up to MAX_RANGE_ARGS arguments, then as many strides.
 */
const RANGE = STATS + MAX_THREADS * LINE;
const RANGE_HEAD = 8;
const MAX_RANGE_ARGS = 16;
/**
 * A job's chunks are cut into one contiguous segment per thread, which that
 * thread takes first, then helps the others with theirs. Thread i's segment
 * is a line from SEGMENTS + i * LINE: its word, (seq << 12) | its next chunk,
 * then where it ends. Claims on one segment and on another so touch
 * different lines (with both words in one line, each claim of the main
 * thread and of a worker took the line from the other's core).
 */
const SEGMENTS = Math.ceil((RANGE + RANGE_HEAD + 2 * MAX_RANGE_ARGS) / LINE) * LINE;
const SEGMENT_END = 1;
export const CONTROL_INTS = SEGMENTS + MAX_THREADS * LINE;
/**
 * How long a thread that waits for the control word to change checks it in
 * a loop before it sleeps in Atomics.wait. Waking a sleeping thread took
 * 0.1-0.2 ms here, more than a small layer's whole work (MobileNetV2's
 * 14x14x384 depthwise convolution: 0.11 ms on one thread, 0.21-0.32 ms on
 * two); a model's layers follow each other closer than this, so workers
 * spinning between them are awake for the next. (OpenMP's runtimes spin for
 * 200 ms by default.)
 */
const SPIN_MS = 0.5;
/** The gemm.wat exports a range job may call, by index: each computes items independently, on argument pointers and a count. */
export const RANGE_KERNELS = [
  'max_pool', 'max_pool_grad', 'relu_grad', 'pack_b', 'col2im', 'activate', 'depthwise_conv_slice', 'conv_grad_slices', 'column_sums', 'recurrent_rows',
  'winograd_kernel', 'winograd_tiles', 'winograd4_kernel', 'winograd4_tiles', 'winograd_grad_slices', 'winograd_grad_out', 'attention_heads', 'row_product',
  'layer_norm', 'softmax_rows', 'add', 'scale', 'global_pool',
] as const;
export type RangeKernel = (typeof RANGE_KERNELS)[number];
const CHUNK_BITS = 12;
/** The largest number of chunks in one job. */
export const MAX_CHUNKS = (1 << CHUNK_BITS) - 2;
/** The low bits of a job word that no job reaches: nothing left to claim. */
const CLOSED = (1 << CHUNK_BITS) - 1;
const SEQ_MASK = (1 << (31 - CHUNK_BITS)) - 1;

/**
 * What the functions that run in workers too need of the layout, passed to
 * them as an argument: they are sent to workers as text
 * (Function.prototype.toString), so they must name nothing outside
 * themselves but globals. A minifier (the playground's bundle) renames outer
 * names, and the text would then name what the worker does not have.
 */
export const LAYOUT = { SPIN_MS, JOB, DONE, FAILED, ACTIVE, KIND, ARGS, STATS, RANGE, SEGMENTS, SEGMENT_END, LINE, RANGE_HEAD, MAX_RANGE_ARGS, CHUNK_BITS, CLOSED, CHUNKS: ARGS + ARG_NAMES.indexOf('chunks'), RANGE_KERNELS,
  /** Each gemm job argument's slot. */
  GEMM: Object.fromEntries(ARG_NAMES.map((name, i) => [name, ARGS + i])) as Record<(typeof ARG_NAMES)[number], number>,
} as const;
type Layout = typeof LAYOUT;

/** What a thread calls: the gemm, and the range kernels in RANGE_KERNELS's order. */
interface Kernels {
  gemm: GemmExports['gemm'];
  range: ((...args: number[]) => void)[];
  /** A range kernel's arguments, by their count: arrays reused from chunk to chunk. */
  args: number[][];
}

/**
 * A kernel run over `items` independent items (images, floats, panels) in
 * slices: the call for items [start, start + count) passes
 * args[k] + start * strides[k] (byte offsets move with the slice; strides of 0
 * keep a value), plus count * countScale for argument `countArg` (a count, or
 * with stride 1 the slice's end). With `perThread`, argument `arg` also moves
 * by `stride` times the index of the thread that runs the slice (0 for the
 * calling thread, below the job's thread count): a scratch area of its own.
 */
export interface RangeJob {
  kernel: RangeKernel;
  args: number[];
  strides: number[];
  countArg: number;
  countScale: number;
  items: number;
  perThread?: { arg: number; stride: number };
}

/**
 * Open job `seq` of `chunks` chunks on `threads` threads (its arguments
 * already written): thread i's segment is chunks [i * chunks / threads,
 * (i + 1) * chunks / threads). Each segment word is first tagged with the new
 * seq and left empty, so that a thread still taking chunks of the last job
 * cannot claim in it while its end is rewritten, then opened. Main thread only.
 */
export function publish(ctl: Int32Array, seq: number, threads: number, chunks: number): void {
  const tag = seq << CHUNK_BITS;
  for (let i = 0; i < threads; i++) Atomics.store(ctl, SEGMENTS + i * LINE, tag | CLOSED);
  for (let i = 0; i < threads; i++) Atomics.store(ctl, SEGMENTS + i * LINE + SEGMENT_END, Math.floor(((i + 1) * chunks) / threads));
  Atomics.store(ctl, ACTIVE, threads);
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, FAILED, 0);
  for (let i = 0; i < threads; i++) Atomics.store(ctl, SEGMENTS + i * LINE, tag | Math.floor((i * chunks) / threads));
  Atomics.store(ctl, JOB, tag);
}

/**
 * Claim a chunk of job `seq` for thread `index`: the next of its own
 * segment, else the next of the segments after it; -1 when none is left (or
 * the job is over). A thread so takes the same band of the items in one job
 * as in the next, where it can, and reads what it wrote from its own core's
 * cache. Runs in workers too.
 */
export function claim(ctl: Int32Array, seq: number, index: number, L: Layout): number {
  const segments = Atomics.load(ctl, L.ACTIVE);
  for (let k = 0; k < segments; k++) {
    const slot = L.SEGMENTS + ((index + k) % segments) * L.LINE;
    for (;;) {
      const word = Atomics.load(ctl, slot);
      const next = word & L.CLOSED;
      if (word >>> L.CHUNK_BITS !== seq) return -1;
      if (next >= Atomics.load(ctl, slot + L.SEGMENT_END)) break;
      if (Atomics.compareExchange(ctl, slot, word, word + 1) === word) return next;
    }
  }
  return -1;
}

/**
 * Wait until ctl[slot] is no longer `value`: checked in a loop for SPIN_MS,
 * then asleep in Atomics.wait. Runs in workers too.
 */
function waitChange(ctl: Int32Array, slot: number, value: number, L: Layout): void {
  const until = performance.now() + L.SPIN_MS;
  for (let k = 1; Atomics.load(ctl, slot) === value; k++) {
    if ((k & 255) === 0 && performance.now() > until) {
      Atomics.wait(ctl, slot, value);
      return;
    }
  }
}

/**
 * Compute one claimed chunk on thread `index` (a failure is noted in FAILED).
 * A worker then counts it in DONE, which the main thread waits on; the main
 * thread counts its own chunks where it is, since an add to DONE's line
 * takes it from the core of the worker that counted the last. Runs in
 * workers too.
 */
function runChunk(ctl: Int32Array, kernels: Kernels, index: number, chunk: number, L: Layout): void {
  try {
    // Slots read by index and an argument array reused: this runs for every chunk, and in a
    // worker first in V8's interpreter, where a destructured subarray and a job object built
    // name by name cost microseconds a chunk, and garbage the worker stopped to collect.
    if (ctl[L.KIND] === 1) {
      // A range kernel on its slice of the items: pointers moved by the slice's start, the count its length.
      const head = L.RANGE;
      const perChunk = ctl[head + 2];
      const start = chunk * perChunk;
      const args = kernels.args[ctl[head + 5]];
      for (let k = 0, at = head + L.RANGE_HEAD; k < args.length; k++, at++) args[k] = ctl[at] + start * ctl[at + L.MAX_RANGE_ARGS];
      args[ctl[head + 3]] += Math.min(perChunk, ctl[head + 1] - start) * ctl[head + 4];
      if (ctl[head + 6] >= 0) args[ctl[head + 6]] += index * ctl[head + 7];
      kernels.range[ctl[head]].apply(undefined, args);
    } else {
      const G = L.GEMM;
      // Chunks in row order, so that a thread's segment is a band of C's rows (of a convolution's pixels).
      const columnChunks = ctl[G.chunks] / ctl[G.rowChunks];
      const r0 = Math.floor(chunk / columnChunks) * ctl[G.rowsPerChunk];
      const p0 = (chunk % columnChunks) * ctl[G.panelsPerChunk];
      const r1 = Math.min(ctl[G.M], r0 + ctl[G.rowsPerChunk]);
      const p1 = Math.min(ctl[G.panels], p0 + ctl[G.panelsPerChunk]);
      const scratch = ctl[G.scratch] + index * ctl[G.scratchStride];
      kernels.gemm(ctl[G.a], ctl[G.transA], ctl[G.pb], ctl[G.c], ctl[G.bias], ctl[G.M], ctl[G.K], ctl[G.N], ctl[G.flags], r0, r1, p0, p1, scratch, ctl[G.mc]);
    }
    Atomics.add(ctl, L.STATS + index * L.LINE, 1);
  } catch {
    Atomics.store(ctl, L.FAILED, 1);
  }
}

/** A thread's code; the platform binds `workerData` (platform.ts startThread). */
const WORKER = `
const L = ${JSON.stringify(LAYOUT)};
const ONLINE = ${ONLINE}, ACTIVE = ${ACTIVE};
const claim = (${claim.toString()});
const waitChange = (${waitChange.toString()});
const runChunk = (${runChunk.toString()});
const { module, memory, control, index } = workerData;
const ctl = new Int32Array(control);
const exported = new WebAssembly.Instance(module, { env: { memory } }).exports;
const kernels = { gemm: exported.gemm, range: L.RANGE_KERNELS.map((name) => exported[name]), args: Array.from({ length: L.MAX_RANGE_ARGS + 1 }, (_, n) => new Array(n).fill(0)) };
Atomics.add(ctl, ONLINE, 1);
let lastSeq = -1;
for (;;) {
  const word = Atomics.load(ctl, L.JOB);
  const seq = word >>> L.CHUNK_BITS;
  if (seq === lastSeq) {
    waitChange(ctl, L.JOB, word, L);
    continue;
  }
  lastSeq = seq;
  if (index >= Atomics.load(ctl, ACTIVE)) continue;
  for (let chunk; (chunk = claim(ctl, seq, index, L)) >= 0; ) {
    runChunk(ctl, kernels, index, chunk, L);
    Atomics.add(ctl, L.DONE, 1);
    Atomics.notify(ctl, L.DONE);
  }
}
`;

export class Pool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * CONTROL_INTS));
  /** Worker threads started (threads 1..workers). */
  private workers = 0;
  /** Workers that died or never started. */
  private failed = 0;
  private seq = 0;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
  ) {
    this.ctl[JOB] = CLOSED;
  }

  /** Run `job` on up to `threads` threads (this one included); returns when all of C is written. */
  run(x: GemmExports, job: Job, threads: number): void {
    ARG_NAMES.forEach((name, i) => (this.ctl[ARGS + i] = job[name]));
    this.ctl[KIND] = 0;
    if (!this.dispatch(x, threads, job.chunks)) throw internal(`matmul: the WebAssembly kernel failed on [${job.M},${job.K}]x[${job.K},${job.N}]`);
  }

  /** Run a range kernel over `job.items` on up to `threads` threads, about four slices per thread. */
  runRange(x: GemmExports, job: RangeJob, threads: number): void {
    const ctl = this.ctl;
    if (job.args.length > MAX_RANGE_ARGS || job.strides.length !== job.args.length) throw internal(`range job ${job.kernel}: ${job.args.length} arguments`);
    const perChunk = Math.max(1, Math.ceil(job.items / (4 * threads)), Math.ceil(job.items / MAX_CHUNKS));
    const { arg = -1, stride = 0 } = job.perThread ?? {};
    ctl.set([RANGE_KERNELS.indexOf(job.kernel), job.items, perChunk, job.countArg, job.countScale, job.args.length, arg, stride], RANGE);
    ctl.set(job.args, RANGE + RANGE_HEAD);
    ctl.set(job.strides, RANGE + RANGE_HEAD + MAX_RANGE_ARGS);
    ctl[KIND] = 1;
    ctl[LAYOUT.CHUNKS] = Math.ceil(job.items / perChunk);
    if (!this.dispatch(x, threads, ctl[LAYOUT.CHUNKS])) throw internal(`${job.kernel}: the WebAssembly kernel failed on ${job.items} items`);
  }

  /** Publish the job written in the control array, take chunks here too, and wait for all `chunks`; false if one failed. */
  private dispatch(x: GemmExports, threads: number, chunks: number): boolean {
    const ctl = this.ctl;
    const n = Math.min(threads, MAX_THREADS);
    this.spawn(n);
    this.seq = (this.seq + 1) & SEQ_MASK;
    publish(ctl, this.seq, n, chunks);
    Atomics.notify(ctl, JOB);

    const kernels = (this.kernels ??= {
      gemm: x.gemm,
      range: RANGE_KERNELS.map((name) => x[name] as (...args: number[]) => void),
      args: Array.from({ length: MAX_RANGE_ARGS + 1 }, (_, n) => new Array<number>(n).fill(0)),
    });
    let mine = 0;
    for (let chunk; (chunk = claim(ctl, this.seq, 0, LAYOUT)) >= 0; mine++) runChunk(ctl, kernels, 0, chunk, LAYOUT);
    // The workers' chunks: DONE counts only theirs.
    for (let done; (done = Atomics.load(ctl, DONE)) < chunks - mine; ) waitChange(ctl, DONE, done, LAYOUT);
    Atomics.store(ctl, JOB, (this.seq << CHUNK_BITS) | CLOSED);
    return ctl[FAILED] === 0;
  }

  /** This thread's kernels, from the first job's exports. */
  private kernels?: Kernels;

  /** Start workers 1..n-1 that do not exist yet; they join jobs as soon as they are up. */
  private spawn(n: number): void {
    for (let index = this.workers + 1; index < n; index++) {
      // A worker that fails to start only means fewer helpers: the main thread takes its chunks.
      platform.startThread(WORKER, { module: this.module, memory: this.memory, control: this.ctl.buffer, index }, () => this.failed++);
      this.workers++;
    }
  }

  /** Workers that have instantiated the kernel and wait for jobs. */
  online(): number {
    return Atomics.load(this.ctl, ONLINE);
  }

  /** Chunks computed so far by each thread, the main thread first. */
  chunksByThread(): number[] {
    return Array.from({ length: this.workers + 1 }, (_, i) => Atomics.load(this.ctl, STATS + i * LINE));
  }

  /** Start the workers for `threads` threads now, resolving once each is up (or has failed). */
  async warmUp(threads: number): Promise<void> {
    const n = Math.min(threads, MAX_THREADS);
    this.spawn(n);
    while (this.online() + this.failed < n - 1) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
