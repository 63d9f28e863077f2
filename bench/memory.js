// Whole-process memory of `dlc run` on ResNet-50 at batch 8 (`npm run bench -- memory`),
// issue 19's memory target: the peak resident size (maxRSS) of the real
// command, as a process, next to the weights plus the planned activation
// arena, which any runtime must hold. Side by side: the same command with a
// weights file, and with `--engine ort` (ONNX Runtime on the exported model,
// the same file and input). Node's own share is measured too: `node -e 0`,
// and `dlc --version` (Node with the CLI's modules loaded).
//
// The input is an 8 MB JSON file of 8 random 224x224x3 images; the weights
// file is `dlc init`'s. Each row is the median of 3 processes. maxRSS comes
// from the process itself (bench/maxrss.js, loaded with --import), which
// writes it to a file when the process exits.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileFile, selectModel } from '../dist/src/compile.js';
import { optimize } from '../dist/src/passes/pipeline.js';
import { planMemory } from '../dist/src/backends/interp/plan.js';
import { weightSlots } from '../dist/src/backends/interp/weights.js';
import { createRng } from '../dist/src/runtime/random.js';
import { fixed, table } from './util.js';

const BATCH = 8;
const MODEL = fileURLToPath(new URL('../examples/resnet50.dl', import.meta.url));
const DLC = fileURLToPath(new URL('../bin/dlc.js', import.meta.url));
const HOOK = fileURLToPath(new URL('./maxrss.js', import.meta.url));
const CACHE = fileURLToPath(new URL('../node_modules/.cache/dlc-bench-memory/', import.meta.url));
const MiB = 2 ** 20;

/** The batch of images as `dlc run` reads it: {"image": [8][224][224][3]}, values to 3 decimals. */
function inputJson() {
  const rng = createRng(8);
  const image = Array.from({ length: BATCH }, () =>
    Array.from({ length: 224 }, () => Array.from({ length: 224 }, () => Array.from({ length: 3 }, () => Math.round(rng.uniform() * 1000) / 1000))),
  );
  return JSON.stringify({ image });
}

/** The median maxRSS, in bytes, of 3 runs of `node [--import maxrss.js] args`. */
function peak(args) {
  const runs = [0, 1, 2].map((i) => {
    const file = `${CACHE}rss-${i}.txt`;
    const r = spawnSync(process.execPath, ['--import', HOOK, ...args], { env: { ...process.env, DLC_BENCH_RSS: file }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/memory: node ${args.join(' ')} failed: ${r.stderr}`);
    return Number(readFileSync(file, 'utf8'));
  });
  return runs.sort((a, b) => a - b)[1];
}

export async function run() {
  mkdirSync(CACHE, { recursive: true });
  const input = `${CACHE}resnet50-batch8.json`;
  const weightsFile = `${CACHE}resnet50.safetensors`;
  writeFileSync(input, inputJson());
  const init = spawnSync(process.execPath, [DLC, 'init', MODEL, '-o', weightsFile], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`bench/memory: dlc init failed: ${init.stderr}`);

  const source = selectModel(compileFile(MODEL));
  const weights = 4 * weightSlots(source).reduce((n, { spec }) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
  const arena = planMemory(optimize(source, { level: 1 }).graph, BATCH).plannedBytes;
  const floor = weights + arena;

  const node = peak(['-e', '0']);
  const rows = [
    ['`node -e 0`', node],
    ['`dlc --version` (the CLI loaded)', peak([DLC, '--version'])],
    ['`dlc run`, fresh weights (`--seed`)', peak([DLC, 'run', MODEL, '--input', input, '--json'])],
    ['`dlc run --weights FILE`', peak([DLC, 'run', MODEL, '--input', input, '--weights', weightsFile, '--json'])],
    ['`dlc run --weights FILE --engine ort`', peak([DLC, 'run', MODEL, '--input', input, '--weights', weightsFile, '--engine', 'ort', '--json'])],
  ].map(([label, bytes]) => [label, fixed(bytes / MiB, 0), `${fixed(bytes / floor, 2)}x`, `${fixed((bytes - node) / floor, 2)}x`]);
  return [
    '## Memory: `dlc run` on ResNet-50 at batch 8',
    '',
    `Peak resident memory (maxRSS) of each command as a process, median of 3. The floor any runtime holds: weights ${fixed(weights / MiB)} MiB + the planned activation arena ${fixed(arena / MiB)} MiB = ${fixed(floor / MiB)} MiB. The input is an 8 MB JSON file of ${BATCH} images; the weights file is \`dlc init\`'s.`,
    '',
    table(['process', 'peak RSS MiB', 'x (weights + arena)', 'x, less `node -e 0`'], rows),
  ].join('\n');
}
