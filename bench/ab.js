// `node bench/ab.js BASE [--threads N] [--runs N] [--gap MS] [--fast-math] [--prepack] [WORKLOAD...]`:
// this tree's interpreter against another build's, both loaded in one
// process, one run of each in turn, as the median of the per-pair time ratios
// (this / BASE: below 1 this tree is faster). `--fast-math` turns fast math
// (setFastMath) on for this tree's side only, and `--prepack` makes its
// forward passes' Interpreter with `prepack` (weights packed once, as
// `npm run bench` runs it): against a checkout of the same commit, each
// measures what it buys.
//
// On a machine shared with other virtual machines one benchmark run can move
// by a third from the next; load that comes and goes hits both sides of a
// pair alike, so the ratio holds where the times do not. BASE is a built
// checkout of the commit to compare with, for example:
//   git worktree add ../base HEAD~1 && ln -s "$PWD/node_modules" ../base/node_modules
//   (cd ../base && npm run build)
// Each build has its own WebAssembly memory and worker threads. `--gap` ms
// (default 1) pass between runs, so that one build's workers stop spinning
// (threads.ts SPIN_MS) before the other's run starts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Forward passes of example files (and the bench's encoder block) at a batch size, and the MNIST training step (`train`). */
const WORKLOADS = {
  mnist: { file: 'mnist_convnet.dl', batch: 64 },
  mobilenet: { file: 'mobilenet_v2.dl', batch: 1 },
  resnet: { file: 'resnet50.dl', batch: 1 },
  bert: { file: 'bert_base.dl', batch: 1 },
  gpt2: { file: 'gpt2.dl', batch: 1 },
  lstm: { file: 'lstm_sentiment.dl', batch: 32 },
  encoder: { file: '../bench/encoder_block.dl', batch: 8 },
  train: { file: 'mnist_train.dl', batch: 64, training: true },
};

function parseArgs(argv) {
  const opts = { threads: 2, runs: 20, gap: 1, fastMath: false, prepack: false, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--threads' || flag === '--runs' || flag === '--gap') opts[flag.slice(2)] = Number(argv[++i]);
    else if (flag === '--fast-math') opts.fastMath = true;
    else if (flag === '--prepack') opts.prepack = true;
    else if (!opts.base) opts.base = path.resolve(flag);
    else opts.names.push(flag);
  }
  if (!opts.base) throw new Error('usage: node bench/ab.js BASE [--threads N] [--runs N] [--gap MS] [--fast-math] [--prepack] [WORKLOAD...]');
  if (opts.names.length === 0) opts.names = Object.keys(WORKLOADS);
  for (const name of opts.names) if (!WORKLOADS[name]) throw new Error(`unknown workload '${name}': one of ${Object.keys(WORKLOADS).join(', ')}`);
  return opts;
}

/** One build's step for `w`: a forward pass, or a training step with SGD, on fixed inputs. */
async function prepare(root, w, threads, { fastMath = false, prepack = false } = {}) {
  const load = (p) => import(pathToFileURL(path.join(root, 'dist/src', p)).href);
  const { Interpreter, initWeights } = await load('backends/interp/index.js');
  const kernels = await load('backends/interp/wasm/index.js');
  const { compileSource, selectModel } = await load('compile.js');
  const { optimize } = await load('passes/pipeline.js');
  const { specialize } = await load('ir/infer.js');
  kernels.setThreads(threads);
  if (fastMath) kernels.setFastMath(true);
  await kernels.warmUpThreads(threads);
  const text = readFileSync(path.join(HERE, 'examples', w.file), 'utf8');
  let source = selectModel(compileSource({ path: w.file, text }));
  const lengths = new Map([['T', 128]]);
  if (source.inputs.some((i) => i.type.shape.some((d) => typeof d !== 'number'))) source = specialize(source, lengths);
  const weights = initWeights(source, { seed: 3 });
  // Values every model accepts: token ids below 100 (segments 0 or 1), pixels in [0, 1).
  const inputs = Object.fromEntries(source.inputs.map((input) => {
    const shape = [w.batch, ...input.type.shape.slice(1)];
    const n = shape.reduce((a, b) => a * b, 1);
    const integer = input.type.dtype === 'int32';
    return [input.name, { shape, data: Float32Array.from({ length: n }, (_, k) => (integer ? k % (input.name.includes('segment') ? 2 : 100) : ((k * 7919) % 1000) / 1000)) }];
  }));
  if (!w.training) {
    const interpreter = new Interpreter(optimize(source).graph, weights, { prepack });
    return () => interpreter.run(inputs);
  }
  const { lossAndGradients } = await load('backends/interp/autodiff.js');
  const { createOptimizer } = await load('train/optimizers.js');
  const graph = optimize(source, { training: true }).graph;
  const classes = graph.outputs[0].node.type.shape.at(-1);
  const labels = Float32Array.from({ length: w.batch * classes }, (_, i) => (i % classes === Math.floor(i / classes) % classes ? 1 : 0));
  const sgd = createOptimizer({ kind: 'sgd', lr: 0.05, momentum: 0.9 });
  let previous, seed = 0;
  return () => {
    const step = lossAndGradients(graph, weights, inputs, { shape: [w.batch, classes], data: labels }, 'categorical_crossentropy', { seed: seed++, into: previous });
    sgd.step(weights, step.grads);
    previous = step;
  };
}

const pause = (ms) => ms > 0 && Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const opts = parseArgs(process.argv.slice(2));
console.log(`this tree (${HERE}${opts.fastMath ? ', fast math' : ''}${opts.prepack ? ', prepack' : ''}) / base (${opts.base}), ${opts.threads} thread(s), ${opts.runs} pairs, ${opts.gap} ms between runs`);
console.log('| workload | base median ms | this median ms | ratio, median of pairs |');
console.log('| --- | ---: | ---: | ---: |');
for (const name of opts.names) {
  const w = WORKLOADS[name];
  const [base, ours] = [await prepare(opts.base, w, opts.threads), await prepare(HERE, w, opts.threads, opts)];
  const timed = (fn) => {
    const t0 = performance.now();
    fn();
    const ms = performance.now() - t0;
    pause(opts.gap);
    return ms;
  };
  for (let i = 0; i < 3; i++) timed(base), timed(ours);
  const a = [], b = [], ratios = [];
  for (let i = 0; i < opts.runs; i++) {
    const x = timed(base), y = timed(ours);
    a.push(x), b.push(y), ratios.push(y / x);
  }
  console.log(`| ${name} (${w.file}, batch ${w.batch}${w.training ? ', training step' : ''}) | ${median(a).toFixed(2)} | ${median(b).toFixed(2)} | ${median(ratios).toFixed(3)} |`);
}
process.exit(0);
