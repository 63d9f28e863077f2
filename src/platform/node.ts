/**
 * The platform in Node (platform.ts): files beside the modules, worker_threads,
 * os, resvg, prettier, and Graphviz in a worker thread.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import os from 'node:os';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { RenderOptions, RenderResult } from '@viz-js/viz';
import { messages } from '../diagnostics.js';
import type { Platform } from './platform.js';

const require = createRequire(import.meta.url);
const fontFile = (style: string) => require.resolve(`@expo-google-fonts/arimo/${style}/Arimo_${style}.ttf`);

export const platform: Platform = {
  readAsset: (url) => new Uint8Array(readFileSync(url)),
  mnistDigits: (digit) => (JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${digit}.json`), 'utf8')) as { data: number[] }).data,
  resolveBeside: (from, file) => resolve(dirname(from), file),
  fileSize: (path) => statSync(path).size,
  // Node 20's V8 (11.3) has relaxed SIMD behind this flag, which applies to modules compiled after it is set.
  allowRelaxedSimd: () => v8.setFlagsFromString('--experimental-wasm-relaxed-simd'),
  env: (name) => process.env[name],
  parallelism: () => os.availableParallelism(),
  totalMemory: () => os.totalmem(),
  startThread(code, workerData, onError) {
    const worker = new Worker(`const { workerData } = require('node:worker_threads');\n${code}`, { eval: true, workerData });
    worker.unref();
    worker.on('error', onError);
  },
  graphviz: (dot, options, timeoutMs) => graphviz().render(dot, options, timeoutMs),
  async rasterize(svg, scale, family) {
    // Loaded here, not at startup: resvg is a native binding that commands without PNG output never need.
    const { renderAsync } = await import('@resvg/resvg-js');
    const image = await renderAsync(svg, {
      fitTo: { mode: 'zoom', value: scale },
      font: {
        loadSystemFonts: false,
        fontFiles: ['400Regular', '400Regular_Italic', '700Bold', '700Bold_Italic'].map(fontFile),
        defaultFontFamily: family,
        serifFamily: family,
        sansSerifFamily: family,
        monospaceFamily: family,
        cursiveFamily: family,
        fantasyFamily: family,
      },
      logLevel: 'off',
    });
    return new Uint8Array(image.asPng());
  },
  fontFile,
  // Loaded here, not at startup: 8 MiB and 60 ms that only code generation needs.
  formatCode: async (code, options) => (await import('prettier')).format(code, options),
};

// ---------------------------------------------------------------- the Graphviz worker

/**
 * The worker's code: one Graphviz instance answering `{ id, dot, options }` with
 * `{ id, result }`. A throw from render (a WebAssembly trap, which leaves the instance
 * unusable) goes unhandled and ends the worker, which the main thread sees as a crash.
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const viz = require(workerData.viz).instance();
parentPort.on('message', async ({ id, dot, options }) => {
  parentPort.postMessage({ id, result: (await viz).render(dot, options) });
});
`;
const VIZ = createRequire(import.meta.url).resolve('@viz-js/viz');

interface Request {
  id: number;
  dot: string;
  options: RenderOptions;
}
interface Answer {
  id: number;
  result: RenderResult;
}
interface Job {
  request: Request;
  timeoutMs: number;
  resolve: (result: RenderResult) => void;
  reject: (error: Error) => void;
}

/**
 * One worker, started on first use, given one request at a time (so a timeout measures one
 * layout). If the worker dies (a WebAssembly trap, an exit) or a request times out, the
 * request in hand is rejected and the waiting ones move to a fresh worker. The worker does
 * not keep the process alive while idle.
 */
class GraphvizWorker {
  private readonly worker = new Worker(WORKER_CODE, { eval: true, workerData: { viz: VIZ } });
  private readonly queue: Job[] = [];
  private timer: NodeJS.Timeout | undefined;
  dead = false;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (answer: Answer) => this.answer(answer));
    this.worker.on('error', (error) => this.die(messages.graphvizCrashed(error.message).message));
    this.worker.on('exit', (code) => this.die(messages.graphvizExited(code).message));
  }

  render(dot: string, options: RenderOptions, timeoutMs: number): Promise<RenderResult> {
    return new Promise((resolve, reject) => this.enqueue({ request: { id: nextId++, dot, options }, timeoutMs, resolve, reject }));
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    if (this.queue.length === 1) this.send();
  }

  private send(): void {
    const job = this.queue[0];
    if (job === undefined) return this.worker.unref();
    this.worker.ref(); // keep the process alive until the answer arrives
    this.timer = setTimeout(() => this.die(messages.graphvizTimeout(job.timeoutMs / 1000).message), job.timeoutMs);
    this.worker.postMessage(job.request);
  }

  private answer({ id, result }: Answer): void {
    const job = this.queue[0];
    if (job === undefined || job.request.id !== id) return;
    clearTimeout(this.timer);
    this.queue.shift();
    job.resolve(result);
    this.send();
  }

  /** Rejects the request in hand, stops this worker for good and moves the waiting requests to a fresh one. */
  private die(message: string): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.timer);
    void this.worker.terminate();
    const [inHand, ...waiting] = this.queue.splice(0);
    inHand?.reject(new Error(message));
    if (waiting.length > 0) {
      const next = graphviz();
      for (const job of waiting) next.enqueue(job);
    }
  }
}

let current: GraphvizWorker | undefined;
let nextId = 0;

function graphviz(): GraphvizWorker {
  if (current === undefined || current.dead) current = new GraphvizWorker();
  return current;
}
