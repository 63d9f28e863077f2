/**
 * One fuzz input through the whole pipeline, in-process, the way the CLI runs
 * it: check, optimize, summary, IR print, diagram (DOT always, SVG for a
 * share), init and an interpreter run on random inputs (small models only),
 * TensorFlow.js emit (prettier included) for every model of the file.
 *
 * The outcome is `ok`, `rejected` (a user error, as the CLI would print it:
 * CompileError, UserError, WeightsFileError) or a failure of one class:
 * - internal: any other exception (what the CLI prints as `internal error`);
 * - unlocated: a diagnostic from checking source text that has no span;
 * - message: a diagnostic or user error whose text shows a value that leaked
 *   unformatted (`undefined`, `null`, `NaN`, `[object Object]`) and is not in the source;
 * - output: generated TypeScript, DOT or SVG that breaks rules.ts;
 * - mismatch: the optimized graph's outputs differ from the unoptimized
 *   graph's in the interpreter (on weights moved off their initial 0s and 1s,
 *   so that a folded batchnorm or bias changes something).
 * Hangs and crashes are classified by the pool (run.ts), which owns the clock.
 */
import { compileSource, type CompiledFile } from '../compile.js';
import { CompileError, formatDiagnostic, UserError } from '../diagnostics.js';
import { printGraph } from '../ir/print.js';
import type { Dim, Graph } from '../ir/types.js';
import { optimize } from '../passes/pipeline.js';
import { formatSummary, summarize, summaryJson } from '../summary.js';
import { DEFAULT_DIAGRAM_OPTIONS, graphToDot, type DiagramOptions } from '../backends/dot/index.js';
import { dotToSvg } from '../backends/dot/render.js';
import { emitTfjs } from '../backends/tfjs/index.js';
import { initWeights, Interpreter } from '../backends/interp/index.js';
import type { Tensor } from '../backends/interp/tensor.js';
import { WeightsFileError } from '../runtime/safetensors.js';
import { tfjsTraining } from '../train/index.js';
import { createRng } from '../runtime/random.js';
import { checkDot, checkTypeScript, checkXml } from './rules.js';

export type FailureClass = 'internal' | 'unlocated' | 'message' | 'output' | 'mismatch' | 'hang' | 'crash';

export type Outcome =
  | { status: 'ok' }
  | { status: 'rejected'; stage: string }
  | { status: 'failure'; class: FailureClass; stage: string; detail: string; signature: string };

/** Limits for the interpreter run: what a fuzz input may cost (the 5 s budget is for the whole pipeline). */
const SMALL = { params: 200_000, flops: 20_000_000, activations: 1_000_000 };
/**
 * Graphs with more nodes (optimized: ResNet-50 92, BERT-base 105, DenseNet-121 312)
 * skip SVG and TypeScript emit: prettier needs about 7 s
 * for ResNet-50's module on a loaded 2-core machine, past the per-input budget.
 * test/backends/tfjs/emit.test.ts emits and type-checks every example, large ones included.
 */
const LARGE_NODES = 60;
/** The length a run gives every dimension variable (`[T]`) and the batch. */
const SYMBOLIC_LENGTH = 4;
const concrete = (d: Dim) => (typeof d === 'number' ? d : SYMBOLIC_LENGTH);

/** The first word of `message` that shows a value printed unformatted, unless the source itself has it. */
export function garbled(message: string, source: string): string | undefined {
  return message.match(/\bundefined\b|\bnull\b|\bNaN\b|\[object \w+\]/g)?.find((word) => !source.includes(word));
}

/** A user error, as src/cli.ts tells them from dlc's own. */
const isUserError = (e: unknown) => e instanceof CompileError || e instanceof UserError || e instanceof WeightsFileError;

/** `Name: message` with numbers blanked, and the first dlc frame: failures with the same signature are one finding. */
export function signatureOf(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const head = `${err.name}: ${err.message.split('\n')[0].slice(0, 160)}`.replace(/\d+(\.\d+)?/g, 'N');
  const frame = (err.stack ?? '').split('\n').find((l) => /\/(src|dist\/src)\//.test(l) && !/\/fuzz\/|node_modules|diagnostics\.[jt]s/.test(l));
  const where = frame?.match(/([\w.-]+\/[\w.-]+\.[jt]s):\d+/)?.[1] ?? '';
  return where ? `${head} at ${where}` : head;
}

export interface PipelineOptions {
  /** Render SVG too (Graphviz in WebAssembly: slow, so only a share of inputs). */
  svg: boolean;
  /** Emit TensorFlow.js (prettier formats about 35 KB per model: the slowest stage, so a share of inputs). */
  tfjs: boolean;
  seed: number;
  /** Told each stage as it starts, so that a hang or a crash can name where it happened. */
  onStage?: (stage: string) => void;
}

export async function runPipeline(text: string, options: PipelineOptions): Promise<Outcome> {
  let stage = 'check';
  const at = (s: string) => {
    stage = s;
    options.onStage?.(s);
  };
  at('check');
  try {
    let compiled: CompiledFile;
    try {
      compiled = compileSource({ path: 'fuzz.dl', text });
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      const unlocated = e.diagnostics.find((d) => !d.span);
      if (unlocated) return { status: 'failure', class: 'unlocated', stage, detail: unlocated.message, signature: `unlocated ${unlocated.code}` };
      at('format');
      for (const d of e.diagnostics.slice(0, 50)) {
        const shown = formatDiagnostic(d); // the code frame, as the CLI prints it
        const word = garbled(`${d.message} ${d.hint ?? ''}`, text);
        if (word) return { status: 'failure', class: 'message', stage: 'check', detail: shown, signature: `${word} in ${d.code}` };
      }
      return { status: 'rejected', stage: 'check' };
    }
    for (const graph of compiled.graphs) {
      const failure = await throughBackends(compiled, graph, options, at);
      if (failure) return failure;
    }
    return { status: 'ok' };
  } catch (e) {
    if (isUserError(e)) {
      const messages = e instanceof CompileError ? e.diagnostics.map((d) => `${d.message} ${d.hint ?? ''}`) : [(e as Error).message];
      const word = messages.map((m) => garbled(m, text)).find(Boolean);
      if (word) return { status: 'failure', class: 'message', stage, detail: messages.join('\n'), signature: `${stage}: ${word} in ${(e as Error).name}: ${messages[0].replace(/\d+/g, 'N').slice(0, 60)}` };
      return { status: 'rejected', stage };
    }
    return { status: 'failure', class: 'internal', stage, detail: (e as Error)?.stack ?? String(e), signature: `${stage}: ${signatureOf(e)}` };
  }
}

/** Everything after checking, for one model; a rules failure, or undefined. Exceptions propagate. */
async function throughBackends(compiled: CompiledFile, source: Graph, options: PipelineOptions, at: (stage: string) => void): Promise<Outcome | undefined> {
  const rng = createRng(options.seed);
  const output = (stage: string, detail: string | undefined): Outcome | undefined =>
    detail === undefined ? undefined : { status: 'failure', class: 'output', stage, detail, signature: `${stage}: ${detail.replace(/"[^"]*"|\d+/g, '_').slice(0, 60)}` };

  at('train config');
  const training = tfjsTraining(compiled, source);
  at('optimize');
  const { graph, stats } = optimize(source, { level: 1, training: training !== undefined });
  at('summary');
  const summary = summarize(graph);
  formatSummary(summary);
  JSON.stringify(summaryJson(summary));
  at('print');
  printGraph(graph);

  at('diagram');
  const views: Partial<DiagramOptions>[] = [{}, { detail: 'blocks', direction: 'TB', theme: 'dark' }, { detail: 'neurons' }, { unroll: 3 }];
  const view = { ...DEFAULT_DIAGRAM_OPTIONS, ...views[Math.floor(rng.uniform() * views.length)] };
  let dot: string | undefined;
  try {
    dot = graphToDot(graph, view);
  } catch (e) {
    // A view that cannot draw this model says so with one message; the layers view always draws.
    if (!(e instanceof CompileError)) throw e;
    dot = graphToDot(graph, DEFAULT_DIAGRAM_OPTIONS);
  }
  const dotProblem = output('dot', checkDot(dot));
  if (dotProblem) return dotProblem;
  const large = graph.nodes.length > LARGE_NODES;
  if (options.svg && !large) {
    at('svg');
    const svgProblem = output('svg', checkXml(await dotToSvg(dot, view.unroll !== undefined || view.detail === 'neurons' ? 'neato' : 'dot')));
    if (svgProblem) return svgProblem;
  }

  const activations = graph.nodes.reduce((n, node) => n + node.type.shape.slice(1).reduce<number>((a, d) => a * concrete(d), 1), 0);
  // FLOPs are NaN when they depend on a dimension variable; the activation count at its run length bounds the work then.
  if (summary.totalParams <= SMALL.params && !(summary.flops > SMALL.flops) && activations <= SMALL.activations) {
    at('init');
    const weights = offTheirInitialValues(initWeights(source, { seed: options.seed }), options.seed);
    at('run');
    const inputs = randomInputs(graph, 2, options.seed);
    const optimized = new Interpreter(graph, weights).run(inputs).outputs;
    at('run unoptimized');
    const reference = new Interpreter(source, weights).run(inputs).outputs;
    const difference = firstDifference(optimized, reference);
    if (difference) {
      const rules = [...new Set(stats.flatMap((s) => s.changes.map((c) => c.slice(0, c.indexOf(':')))))].sort().join(', ');
      return { status: 'failure', class: 'mismatch', stage: 'run', detail: `${difference}; rules applied: ${rules}`, signature: `run: optimized differs from unoptimized after ${rules}` };
    }
  }

  if (!options.tfjs || large) return undefined;
  at('tfjs');
  const code = await emitTfjs(graph, { sourcePath: 'fuzz.dl', training });
  return output('tfjs', checkTypeScript(code, source.span.source.text));
}

/**
 * `weights` with every tensor initialised to a constant (biases, batchnorm's
 * gamma, beta and moving statistics) moved by up to 0.5 either way, so that
 * rewrites that fold them are tested on values where they matter; variances
 * stay within [0.5, 1.5].
 */
function offTheirInitialValues(weights: Map<string, Tensor>, seed: number): Map<string, Tensor> {
  const rng = createRng(seed + 1);
  for (const t of weights.values()) {
    const first = t.data[0];
    if (t.data.length === 0 || !t.data.every((v) => v === first)) continue;
    for (let i = 0; i < t.data.length; i++) t.data[i] += rng.uniform() - 0.5;
  }
  return weights;
}

/**
 * Where two runs' outputs disagree beyond float32 rounding (1e-3 relative, or
 * absolute near 0), or undefined. Non-finite values must match exactly.
 */
export function firstDifference(actual: Record<string, Tensor>, expected: Record<string, Tensor>): string | undefined {
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    if (!a || a.shape.join() !== e.shape.join()) return `output ${JSON.stringify(name)}: shape [${a?.shape.join(', ')}] where the unoptimized graph gives [${e.shape.join(', ')}]`;
    for (let i = 0; i < e.data.length; i++) {
      const [x, y] = [a.data[i], e.data[i]];
      const close = Number.isFinite(y) ? Math.abs(x - y) <= 1e-3 * Math.max(1, Math.abs(y)) : Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
      if (!close) return `output ${JSON.stringify(name)}[${i}]: ${x} where the unoptimized graph gives ${y}`;
    }
  }
  return undefined;
}

/** Batch `batch` of random inputs: token ids below the smallest vocabulary that reads them, normal floats otherwise. */
function randomInputs(graph: Graph, batch: number, seed: number): Record<string, Tensor> {
  const rng = createRng(seed);
  return Object.fromEntries(
    graph.inputs.map((input) => {
      const shape = [batch, ...input.type.shape.slice(1).map(concrete)];
      const n = shape.reduce((a, b) => a * b, 1);
      const readers = graph.nodes.filter((n) => n.op === 'embedding' && n.inputs.includes(input));
      const vocab = Math.min(50, ...readers.map((n) => (n.attrs as { vocab?: number }).vocab ?? 50));
      const data = Float32Array.from({ length: n }, () => (input.type.dtype === 'int32' ? Math.floor(rng.uniform() * vocab) : rng.normal()));
      return [input.name, { shape, data }];
    }),
  );
}
