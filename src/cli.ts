/**
 * The `dlc` command line. Each command is a thin shell over the public API;
 * every failure the user can cause ends as a located message and exit code 1.
 */
import { Command, CommanderError } from 'commander';
import { compileFile, selectModel } from './compile.js';
import { CompileError, ERRNO_TEXT, formatDiagnostic, UserError } from './diagnostics.js';
import { printGraph } from './ir/print.js';
import { optimize, passNames, PassStats } from './passes/pipeline.js';
import { formatSummary, summarize, summaryJson } from './summary.js';
import { humanBytes } from './units.js';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { renderDiagram } from './backends/dot/index.js';
import { emitTfjs } from './backends/tfjs/index.js';
import { kernelBackend, KernelChoice, setKernelBackend, setThreads } from './backends/interp/wasm/index.js';
import { writeFileAtomic } from './files.js';
import { evalCommand, tfjsTraining, trainCommand } from './train/index.js';
import { initWeights, inputsFromJson, InputError, Interpreter, loadWeights, saveWeights, tensorToJson } from './backends/interp/index.js';
import { WeightsFileError } from './weights/safetensors.js';
import type { Graph } from './ir/types.js';
import type { Tensor } from './backends/interp/tensor.js';

const color = process.stderr.isTTY && !process.env.NO_COLOR;

function program(): Command {
  const cli = new Command('dlc')
    .description('A compiler for .dl model files: check, summarize, compile, run, train and draw neural networks.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError();

  cli
    .command('check')
    .description('check every model in FILE; exit 0 if well formed, 1 with diagnostics')
    .argument('<file>', '.dl source file')
    .action((file: string) => {
      const compiled = compileFile(file);
      console.log(`${file}: ok (${compiled.graphs.map((g) => g.name).join(', ')})`);
    });

  cli
    .command('summary')
    .description('print each layer of a model with its output shape, parameters and FLOPs')
    .argument('<file>', '.dl source file')
    .option('--model <name>', 'the model to summarize (default: the only or last one)')
    .option('--json', 'print JSON instead of a table')
    .action((file: string, opts: { model?: string; json?: boolean }) => {
      const summary = summarize(selectModel(compileFile(file), opts.model));
      console.log(opts.json ? JSON.stringify(summaryJson(summary), null, 2) : formatSummary(summary));
    });

  cli
    .command('compile')
    .description('compile a model: --target tfjs writes a TensorFlow.js TypeScript module; --emit ir prints the graph IR')
    .argument('<file>', '.dl source file')
    .option('--model <name>', 'the model to compile (default: the only or last one)')
    .option('--target <target>', 'tfjs: a typed TensorFlow.js module (needs -o)')
    .option('-o, --output <file>', 'where to write the module, e.g. out/Model.ts')
    .option('--emit <what>', 'ir: print the graph IR instead (the default without --target)')
    .option('--opt <level>', 'optimization level: 0 (none) or 1 (all passes)', parseLevel, 1)
    .option('--dump-after <pass>', `print the IR after one pass (${passNames().join(', ')})`)
    .option('--stats', 'print node counts and what each pass changed')
    .action(async (file: string, opts: { model?: string; target?: string; output?: string; emit?: string; opt: number; dumpAfter?: string; stats?: boolean }) => {
      if (opts.target !== undefined && opts.target !== 'tfjs') throw new UsageError(`unknown --target '${opts.target}' (targets: tfjs)`);
      if (opts.emit !== undefined && opts.emit !== 'ir') throw new UsageError(`unknown --emit '${opts.emit}' (expected: ir)`);
      if (opts.target && opts.emit) throw new UsageError('give either --target tfjs or --emit ir, not both');
      if (opts.target && !opts.output) throw new UsageError('--target tfjs needs -o FILE.ts');
      if (opts.dumpAfter && !passNames().includes(opts.dumpAfter)) throw new UsageError(`unknown pass '${opts.dumpAfter}' (passes: ${passNames().join(', ')})`);
      const compiled = compileFile(file);
      const source = selectModel(compiled, opts.model);
      // A model with a train section gets train()/evaluate() in its module, built on the training graph (dropout kept).
      const training = opts.target === 'tfjs' ? tfjsTraining(compiled, source) : undefined;
      const dumps: string[] = [];
      const { graph, stats } = optimize(source, {
        level: opts.dumpAfter ? 1 : opts.opt,
        training: training !== undefined,
        after: (pass, g) => pass === opts.dumpAfter && dumps.push(printGraph(g)),
      });
      if (opts.target === 'tfjs') {
        await writeFileAtomic(opts.output!, await emitTfjs(graph, { sourcePath: file, training }));
        console.log(`${opts.output}: TensorFlow.js module of ${graph.name}`);
      } else console.log(opts.dumpAfter ? dumps[0] : printGraph(graph));
      if (opts.stats) printPassStats(stats);
    });

  cli
    .command('init')
    .description('write freshly initialised weights (Keras default initialisers) for a model')
    .argument('<file>', '.dl source file')
    .requiredOption('-o, --output <weights>', 'weights file to write (safetensors)')
    .option('--model <name>', 'the model (default: the only or last one)')
    .option('--seed <n>', 'random seed', parseSeed, 0)
    .option('--normal <sigma>', "initialise kernels from N(0, sigma^2) as in the lecture's gradient descent", parsePositive)
    .action(async (file: string, opts: { output: string; model?: string; seed: number; normal?: number }) => {
      const graph = selectModel(compileFile(file), opts.model);
      const weights = initWeights(graph, { seed: opts.seed, normalSigma: opts.normal });
      await saveWeights(opts.output, graph, weights, { seed: `${opts.seed}` });
      const count = [...weights.values()].reduce((n, t) => n + t.data.length, 0);
      console.log(`${opts.output}: ${weights.size} tensors, ${count.toLocaleString('en-US')} parameters (${humanBytes(count * 4)})`);
    });

  cli
    .command('run')
    .description('run a model in the built-in interpreter on JSON inputs')
    .argument('<file>', '.dl source file')
    .requiredOption('--input <json>', 'inputs: a JSON file keyed by input name, batch dimension first')
    .option('--model <name>', 'the model (default: the only or last one)')
    .option('--weights <file>', 'weights file (default: fresh weights from --seed)')
    .option('--seed <n>', 'random seed for fresh weights', parseSeed, 0)
    .option('--json', 'print outputs as JSON')
    .option('--stats', 'print time per layer and peak activation memory')
    .option('--opt <level>', 'optimization level: 0 or 1', parseLevel, 1)
    .option('--kernels <kind>', 'matrix kernels: auto (WebAssembly SIMD when it pays), wasm or js (the TypeScript reference)', 'auto')
    .option('--threads <n>', 'threads for large matrix products (default: all cores)', parseCount)
    .action(async (file: string, opts: { input: string; model?: string; weights?: string; seed: number; json?: boolean; stats?: boolean; opt: number; kernels: string; threads?: number }) => {
      useKernels(opts);
      const source = selectModel(compileFile(file), opts.model);
      const inputs = inputsFromJson(source, readJson(opts.input));
      // Weights belong to the source model; the optimized graph keeps its layer names.
      const weights = opts.weights ? await loadWeights(opts.weights, source) : initWeights(source, { seed: opts.seed });
      const { graph } = optimize(source, { level: opts.opt });
      const { outputs, stats } = new Interpreter(graph, weights).run(inputs, { stats: opts.stats });
      const json = Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, tensorToJson(t)]));
      if (opts.json) console.log(JSON.stringify(json));
      else for (const [name, t] of Object.entries(outputs)) console.log(`${name} [${t.shape.join(', ')}]:\n${formatTensor(t)}`);
      if (stats) printStats(graph, stats);
    });

  cli
    .command('train')
    .description("train a model with its `train` section in the interpreter; writes weights, metrics JSON and a curves SVG")
    .argument('<file>', '.dl source file')
    .requiredOption('-o, --output <weights>', 'weights file to write (safetensors)')
    .option('--model <name>', 'the model (default: the only or last one with a train section)')
    .option('--epochs <n>', 'override the number of epochs', parseCount)
    .option('--lr <rate>', "override the optimizer's learning rate", parsePositive)
    .option('--seed <n>', 'random seed (weights, shuffling, dropout)', parseSeed)
    .option('--metrics <file>', 'metrics JSON (default: next to the weights, .metrics.json)')
    .option('--plot <file>', 'loss and accuracy curves SVG (default: next to the weights, .curves.svg)')
    .option('--quiet', 'print nothing but errors')
    .option('--kernels <kind>', 'matrix kernels: auto, wasm or js', 'auto')
    .option('--threads <n>', 'threads for large matrix products (default: all cores)', parseCount)
    .action(async (file: string, opts: { output: string; model?: string; epochs?: number; lr?: number; seed?: number; metrics?: string; plot?: string; quiet?: boolean; kernels: string; threads?: number }) => {
      useKernels(opts);
      await trainCommand(file, opts);
    });

  cli
    .command('eval')
    .description('report loss and accuracy of trained weights on the test split of the train section')
    .argument('<file>', '.dl source file')
    .requiredOption('--weights <file>', 'weights file (safetensors)')
    .option('--model <name>', 'the model (default: the only or last one with a train section)')
    .action(async (file: string, opts: { weights: string; model?: string }) => {
      await evalCommand(file, opts);
    });

  cli
    .command('diagram')
    .description('draw a model for slides: DOT, SVG or PNG (by the output extension)')
    .argument('<file>', '.dl source file')
    .requiredOption('-o, --output <file>', 'output file: .svg, .png or .dot')
    .option('--model <name>', 'the model (default: the only or last one)')
    .option('--direction <dir>', 'LR (left to right) or TB (top to bottom)', 'LR')
    .option('--detail <level>', 'layers, blocks (one cluster per block call, repeats collapsed) or neurons (small dense nets)', 'layers')
    .option('--theme <theme>', 'light, dark or print', 'light')
    .option('--unroll <k>', 'draw the recurrent layer unrolled over K steps', parseCount)
    .option('--no-shapes', 'hide tensor shapes on edges')
    .option('--no-params', 'hide parameter counts')
    .option('--opt <level>', 'optimization level: 1 shows fused nodes, 0 the model as written', parseLevel, 1)
    .option('--scale <factor>', 'PNG resolution relative to the SVG', parsePositive, 2)
    .action(async (file: string, opts: { output: string; model?: string; direction: string; detail: string; theme: string; unroll?: number; shapes: boolean; params: boolean; opt: number; scale: number }) => {
      const format = extname(opts.output).slice(1).toLowerCase();
      if (format !== 'svg' && format !== 'png' && format !== 'dot') throw new UsageError(`-o must end in .svg, .png or .dot, got '${opts.output}'`);
      const choose = <T extends string>(flag: string, value: string, choices: readonly T[]): T => {
        if (!choices.includes(value as T)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got '${value}'`);
        return value as T;
      };
      const source = selectModel(compileFile(file), opts.model);
      const { graph } = optimize(source, { level: opts.opt });
      const data = await renderDiagram(graph, {
        format,
        direction: choose('direction', opts.direction.toUpperCase(), ['LR', 'TB'] as const),
        detail: choose('detail', opts.detail, ['layers', 'blocks', 'neurons'] as const),
        theme: choose('theme', opts.theme, ['light', 'dark', 'print'] as const),
        shapes: opts.shapes,
        params: opts.params,
        unroll: opts.unroll,
        scale: opts.scale,
      });
      await writeFileAtomic(opts.output, data);
      console.log(`${opts.output}: ${format.toUpperCase()} of ${graph.name}`);
    });

  return cli;
}

/** Applies --kernels and --threads (the environment's DLC_KERNELS / DLC_THREADS otherwise). */
function useKernels(opts: { kernels: string; threads?: number }): void {
  if (!['auto', 'wasm', 'js'].includes(opts.kernels)) throw new UsageError(`--kernels must be auto, wasm or js, got '${opts.kernels}'`);
  if (opts.kernels !== 'auto' || !process.env.DLC_KERNELS) setKernelBackend(opts.kernels as KernelChoice);
  if (opts.threads !== undefined) setThreads(opts.threads);
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`expected a whole number >= 1, got '${text}'`);
  return n;
}

function printPassStats(stats: PassStats[]): void {
  console.error('pass        nodes  changes');
  for (const s of stats) {
    const counts = new Map<string, number>();
    for (const c of s.changes) {
      const rule = c.split(':')[0];
      counts.set(rule, (counts.get(rule) ?? 0) + 1);
    }
    const what = [...counts].map(([rule, n]) => `${rule} x${n}`).join(', ') || '-';
    console.error(`${s.pass.padEnd(10)} ${`${s.nodesBefore} -> ${s.nodesAfter}`.padStart(9)}  ${what}`);
  }
}

function parseLevel(text: string): number {
  if (text !== '0' && text !== '1') throw new UsageError(`--opt must be 0 or 1, got '${text}'`);
  return Number(text);
}

function printStats(graph: Graph, stats: NonNullable<ReturnType<Interpreter['run']>['stats']>): void {
  const width = Math.max(...stats.layers.map((l) => l.name.length + l.op.length + 3));
  console.error(`time per layer (${graph.name}):`);
  for (const l of stats.layers) console.error(`  ${`${l.name} (${l.op})`.padEnd(width)}  ${l.ms.toFixed(3).padStart(9)} ms`);
  console.error(`  ${'total'.padEnd(width)}  ${stats.totalMs.toFixed(3).padStart(9)} ms`);
  console.error(`peak activation memory: ${humanBytes(stats.peakActivationBytes)}`);
  if (stats.plan)
    console.error(`planned activation memory: ${humanBytes(stats.plan.plannedBytes)} in one arena (one buffer per activation: ${humanBytes(stats.plan.naiveBytes)})`);
  const k = kernelBackend();
  console.error(`matrix kernels: ${k.kernel}${k.kernel === 'wasm' ? ` (SIMD, up to ${k.threads} thread${k.threads === 1 ? '' : 's'})` : ''}${k.note ? ` (${k.note})` : ''}`);
}

/**
 * Each example of a batch as aligned rows when it is a vector or a matrix once
 * size-1 dimensions are dropped (the lecture's tables); as JSON otherwise.
 */
function formatTensor(t: Tensor): string {
  const perExample = t.shape.slice(1).filter((d) => d !== 1);
  const size = perExample.reduce((a, b) => a * b, 1);
  if (perExample.length > 2) return JSON.stringify(tensorToJson(t));
  const cols = perExample.at(-1) ?? 1;
  const cells = Array.from(t.data, (x) => `${+x.toPrecision(6)}`);
  const width = Math.max(...cells.map((c) => c.length));
  const examples: string[] = [];
  for (let b = 0; b < t.shape[0]; b++) {
    const rows: string[] = [];
    for (let r = 0; r < size / cols; r++) rows.push('  ' + cells.slice(b * size + r * cols, b * size + (r + 1) * cols).map((c) => c.padStart(width)).join(' '));
    examples.push(rows.join('\n'));
  }
  return examples.join('\n  --\n');
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seed must be a whole number >= 0, got '${text}'`);
  return n;
}

function parsePositive(text: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`expected a positive number, got '${text}'`);
  return n;
}

/** A mistake in the command line itself. */
export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (e instanceof CompileError) {
      for (const d of e.diagnostics) console.error(formatDiagnostic(d, color) + '\n');
      const n = e.diagnostics.length;
      console.error(`${n} error${n === 1 ? '' : 's'}`);
      return 1;
    }
    if (e instanceof UsageError || e instanceof UserError || e instanceof WeightsFileError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    const io = e as NodeJS.ErrnoException;
    if (io.code && io.path) {
      // A temporary file's name means nothing to the user: name the file they gave.
      const path = io.path.replace(/\/\.([^/]+)\.[0-9a-f]{12}\.tmp$/, '/$1');
      console.error(`error: cannot access '${path}': ${ERRNO_TEXT[io.code] ?? io.code}`);
      return 1;
    }
    // A bug in dlc, not in the input: say so plainly; the stack only on request.
    console.error(`dlc: internal error: ${(e as Error).message ?? e}`);
    if (process.env.DLC_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}
