/**
 * The platform in a browser (platform.ts), for the playground's Web Worker:
 * build artifacts bundled into the script, one interpreter thread, Graphviz and
 * Prettier's standalone builds in this worker. A long layout cannot be interrupted
 * here: the page cancels by terminating the whole worker (playground/src/main.ts).
 *
 * One thread: the wasm matmul's helper threads use Node's worker_threads with
 * Atomics.wait on the caller; in a browser that would need nested module workers
 * in a cross-origin isolated page, which is not built yet.
 */
import { instance, type Viz } from '@viz-js/viz';
import * as prettier from 'prettier/standalone';
import estree from 'prettier/plugins/estree';
import typescript from 'prettier/plugins/typescript';
import gemmWasm from '../backends/interp/wasm/gemm.wasm';
import supportDeclarations from '../backends/tfjs/support-declarations.json' with { type: 'json' };
import { internal, messages, UserError } from '../diagnostics.js';
import type { Platform } from './platform.js';

/** The artifacts readAsset serves, by file name (the bundler inlines them). */
const ASSETS = new Map<string, () => Uint8Array>([
  ['gemm.wasm', () => gemmWasm],
  ['support-declarations.json', () => new TextEncoder().encode(JSON.stringify(supportDeclarations))],
]);

/** A 32-bit WebAssembly memory's ceiling: the interpreter cannot use more, whatever the machine has. */
const WASM32_BYTES = 4 * 2 ** 30;

let viz: Promise<Viz> | undefined;

export const platform: Platform = {
  readAsset(url) {
    const asset = ASSETS.get(url.pathname.split('/').at(-1) ?? '');
    if (!asset) throw internal(`no bundled asset ${url.pathname}: add it to ASSETS in src/platform/browser.ts`);
    return asset();
  },
  env: () => undefined,
  parallelism: () => 1,
  totalMemory: () => WASM32_BYTES,
  startThread() {
    throw new UserError(messages.noPlatformFeature('more than one interpreter thread'));
  },
  async graphviz(dot, options) {
    return (await (viz ??= instance())).render(dot, options);
  },
  rasterize() {
    // The page draws PNGs itself, from the SVG, on a canvas.
    throw new UserError(messages.noPlatformFeature('PNG rendering in the compiler'));
  },
  fontFile: (style) => style,
  formatCode: (code, options) => prettier.format(code, { ...options, plugins: [estree, typescript] }),
};
