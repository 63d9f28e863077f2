/**
 * The platform in a browser (platform.ts), for the playground's Web Worker:
 * build artifacts bundled into the script, one interpreter thread, Graphviz and
 * Prettier's standalone builds in this worker. A long layout cannot be interrupted
 * here: the page cancels by terminating the whole worker (playground/src/main.ts).
 *
 * Threads: in a cross-origin isolated page (served with COOP and COEP, as
 * `npm run playground -- --serve` does), the wasm matmul's helper threads are
 * Web Workers started from this worker, one per core, on the kernel's shared
 * memory. Elsewhere a page cannot share memory with a worker: one thread.
 * (Chromium still gives the kernel its shared memory there, so the WebAssembly
 * kernels run on one thread; a browser that refuses shared memory without
 * isolation gets the TypeScript kernels, and kernelBackend().note says so.)
 */
import { instance, type RenderResult, type Viz } from '@viz-js/viz';
import * as prettier from 'prettier/standalone';
import estree from 'prettier/plugins/estree';
import typescript from 'prettier/plugins/typescript';
import gemmWasm from '../backends/interp/wasm/gemm.wasm';
import gemmFmaWasm from '../backends/interp/wasm/gemm-fma.wasm';
import supportDeclarations from '../backends/tfjs/support-declarations.json' with { type: 'json' };
import { internal, messages, UserError } from '../diagnostics.js';
import type { Platform } from './platform.js';
import { inflateSync } from 'fflate';

/** The mnist digits by class, once the worker has fetched them (setMnistDigits). */
let mnist: Float64Array[] | undefined;

/** Reads scripts/build-playground.js's mnist asset (its format is stated there) into the digits mnistDigits serves. */
export function setMnistDigits(compressed: Uint8Array): void {
  const bytes = inflateSync(compressed);
  const newline = bytes.indexOf(10);
  const { values, counts } = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline))) as { values: number[]; counts: number[] };
  let at = newline + 1;
  mnist = counts.map((n) => {
    const digits = new Float64Array(n * 784);
    for (let i = 0; i < digits.length; i++) digits[i] = values[bytes[at++]];
    return digits;
  });
}

/** The artifacts readAsset serves, by file name (the bundler inlines them). */
const ASSETS = new Map<string, () => Uint8Array>([
  ['gemm.wasm', () => gemmWasm],
  ['gemm-fma.wasm', () => gemmFmaWasm],
  ['support-declarations.json', () => new TextEncoder().encode(JSON.stringify(supportDeclarations))],
]);

/** A 32-bit WebAssembly memory's ceiling: the interpreter cannot use more, whatever the machine has. */
const WASM32_BYTES = 4 * 2 ** 30;

let viz: Promise<Viz> | undefined;
/** Blob URLs of the thread scripts startThread has run, by their code. */
const threadScripts = new Map<string, string>();

/**
 * Graphviz's latest answers, by their input: the playground lays out the same
 * DOT again whenever an edit leaves the diagram as it was (a comment, a
 * space, a name elsewhere), and a layout is most of an edit's time. Graphviz
 * is deterministic, so an answer from here is the one it would give.
 */
const LAYOUTS_KEPT = 8;
const layouts = new Map<string, RenderResult>();

export const platform: Platform = {
  readAsset(url) {
    const asset = ASSETS.get(url.pathname.split('/').at(-1) ?? '');
    if (!asset) throw internal(`no bundled asset ${url.pathname}: add it to ASSETS in src/platform/browser.ts`);
    return asset();
  },
  allowRelaxedSimd: () => {}, // Chrome has had it on since version 114
  env: () => undefined,
  parallelism: () => (globalThis.crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1),
  totalMemory: () => WASM32_BYTES,
  startThread(code, workerData, onError) {
    if (!globalThis.crossOriginIsolated) throw new UserError(messages.noPlatformFeature('more than one interpreter thread outside a cross-origin isolated page'));
    // A classic worker from the code's text (one URL per text, kept: threads start when it is needed); its first message is its workerData.
    let url = threadScripts.get(code);
    if (!url) {
      const script = `self.onmessage = (event) => {\n  self.onmessage = null;\n  const workerData = event.data;\n${code}\n};\n`;
      threadScripts.set(code, (url = URL.createObjectURL(new Blob([script], { type: 'text/javascript' }))));
    }
    const worker = new Worker(url, { name: 'dlc interpreter thread' });
    worker.onerror = onError;
    worker.postMessage(workerData);
  },
  async graphviz(dot, options) {
    const key = `${JSON.stringify(options)}\n${dot}`;
    const kept = layouts.get(key);
    if (kept) return kept;
    const result = (await (viz ??= instance())).render(dot, options);
    // Failures are not kept: they may be a timeout rather than the input's fault.
    if (result.status === 'success') {
      layouts.set(key, result);
      if (layouts.size > LAYOUTS_KEPT) layouts.delete(layouts.keys().next().value!);
    }
    return result;
  },
  rasterize() {
    // The page draws PNGs itself, from the SVG, on a canvas.
    throw new UserError(messages.noPlatformFeature('PNG rendering in the compiler'));
  },
  fontFile: (style) => style,
  formatCode: (code, options) => prettier.format(code, { ...options, plugins: [estree, typescript] }),
  mnistDigits(digit) {
    if (!mnist) throw internal('mnistDigits called before the worker loaded the mnist digits (it loads them when a train section uses mnist)');
    return mnist[digit];
  },
  resolveBeside: (_from, file) => file,
  fileSize(path) {
    throw new UserError(messages.noFilesInBrowser(`cannot read '${path}'`));
  },
};
