/**
 * The playground's compiler: a Web Worker running dlc's own src/ (bundled with
 * the browser platform, src/platform/browser.ts), so typing never waits for it.
 * It answers each CompileRequest with what the panels show; a request that
 * arrives while one is in hand replaces any that wait (only the newest matters).
 */
import { compileSource, selectModel, type CompiledFile } from '../../src/compile.js';
import { analyse, codeActions, completion, DocumentCache, hover, type Analysis } from '../../src/service/index.js';
import { formatSource } from '../../src/format/index.js';
import { lex } from '../../src/format/tokens.js';
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from 'vscode-languageserver-types';
import { CompileError, lineCol, type Diagnostic } from '../../src/diagnostics.js';
import { renderDiagram, type DiagramOptions } from '../../src/backends/dot/index.js';
import { emitTfjs } from '../../src/backends/tfjs/index.js';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { formatSummary, summarize } from '../../src/summary.js';
import { FIT_NAMES } from '../../src/backends/dot/fit.js';
import { THEME_NAMES } from '../../src/backends/dot/theme.js';
import { initWeights, inputsFromJson, Interpreter, kernelBackend, tensorToJson } from '../../src/backends/interp/index.js';
import { chunksByThread, warmUpThreads } from '../../src/backends/interp/wasm/index.js';
import { createRng } from '../../src/runtime/random.js';
import type {
  CompileReply,
  CompileRequest,
  CompletionOption,
  PageDiagnostic,
  PredictReply,
  PredictRequest,
  RunReply,
  RunRequest,
  ServiceReply,
  ServiceRequest,
  TrainReply,
  TrainRequest,
  WorkerHello,
  WorkerReply,
  WorkerRequest,
} from './protocol.js';
import { loadTraining, trainedMetadata, trainingPlan } from '../../src/train/plan.js';
import { trainSteps, type TrainStep } from '../../src/train/train.js';
import { curvesSvg } from '../../src/train/plot.js';
import { reports } from '../../src/diagnostics.js';
import { tensor } from '../../src/backends/interp/tensor.js';
import { weightsFileBytes, type Weights } from '../../src/backends/interp/weights.js';
import type { Graph } from '../../src/ir/types.js';
import { setMnistDigits } from '../../src/platform/browser.js';

/** scripts/build-playground.js's MNIST_ASSET: the digits beside the page. */
const MNIST_ASSET = 'mnist-digits.bin';

/** The path diagnostics and the generated module's comments name. */
const SOURCE_PATH = 'playground.dl';

const scope = self as unknown as { onmessage: (e: MessageEvent<WorkerRequest>) => void; postMessage: (reply: WorkerReply | WorkerHello) => void };

// In a cross-origin isolated page the matmul has a thread per core: start them now, not in the first run.
void warmUpThreads();

scope.postMessage({ hello: { themes: [...THEME_NAMES], fits: [...FIT_NAMES], views: ['auto', 'layers', 'blocks', 'outline', 'neurons', 'params'] } });

let waiting: CompileRequest | undefined;
let busy = false;

scope.onmessage = (event) => {
  if (event.data.kind === 'run') return scope.postMessage(run(event.data));
  if (event.data.kind === 'train') return void train(event.data);
  if (event.data.kind === 'predict') return scope.postMessage(predict(event.data));
  if (event.data.kind !== 'compile') return scope.postMessage(service(event.data));
  waiting = event.data;
  if (!busy) void drain();
};

async function drain(): Promise<void> {
  busy = true;
  while (waiting) {
    const request = waiting;
    waiting = undefined;
    scope.postMessage(await answer(request));
  }
  busy = false;
}

/**
 * The language service's analysis of the editor's text (src/service), kept
 * for the next edit: its ParseMemo re-parses only the pieces an edit changed,
 * and hover, completion and the compile of the same text share one analysis.
 */
const documentCache = new DocumentCache();
let latest: { text: string; analysis: Analysis } | undefined;

function analysisOf(text: string): Analysis {
  if (latest?.text !== text) latest = { text, analysis: analyse(text, SOURCE_PATH, documentCache) };
  return latest.analysis;
}

const pageDiagnostic = (d: Diagnostic, a?: Analysis): PageDiagnostic => {
  const from = d.span?.start ?? 0;
  const at = d.span ? lineCol(d.span) : undefined;
  const page: PageDiagnostic = { from, to: Math.max(d.span?.end ?? 0, from), line: at?.line, column: at?.column, code: d.code, message: d.message, hint: d.hint };
  if (a && d.span) {
    const fixes = codeActions(a, a.lines.range(d.span.start, d.span.end)).flatMap((action) =>
      (action.diagnostics ?? []).some((x) => x.message === d.message)
        ? Object.values(action.edit?.changes ?? {}).flat().map((e) => ({ title: action.title, from: a.lines.offset(e.range.start), to: a.lines.offset(e.range.end), insert: e.newText }))
        : [],
    );
    if (fixes.length > 0) page.fixes = fixes;
  }
  return page;
};

const messageOf = (e: unknown): string => (e instanceof CompileError ? e.diagnostics.map((d) => d.message).join('\n') : e instanceof Error ? e.message : String(e));

async function answer(request: CompileRequest): Promise<CompileReply> {
  const started = performance.now();
  const reply: CompileReply = { kind: 'compile', id: request.id, diagnostics: [], models: [], ms: { compile: 0, diagram: 0 } };
  let graph;
  try {
    const a = analysisOf(request.source);
    reply.ms.check = performance.now() - started;
    const { program, index, graphs, diagnostics } = a.checked;
    // compileSource's contract: any diagnostic is an error and stops the compile.
    if (diagnostics.length > 0) {
      reply.diagnostics = diagnostics.map((d) => pageDiagnostic(d, a));
      reply.ms.compile = performance.now() - started;
      return reply;
    }
    const file: CompiledFile = { program: program!, index: index!, graphs };
    reply.models = file.graphs.map((g) => g.name);
    graph = selectModel(file, request.model !== undefined && reply.models.includes(request.model) ? request.model : undefined);
    reply.model = graph.name;
    const summary = summarize(graph);
    reply.summary = formatSummary(summary);
    reply.totalParams = summary.totalParams;
    const optimized = request.ir || request.tfjs ? optimize(graph).graph : graph;
    if (request.ir) {
      reply.irBefore = printGraph(graph);
      reply.irAfter = printGraph(optimized);
    }
    if (request.tfjs) {
      try {
        reply.tfjs = await emitTfjs(optimized, { sourcePath: SOURCE_PATH });
      } catch (e) {
        reply.tfjsError = messageOf(e);
      }
    }
  } catch (e) {
    if (e instanceof CompileError) reply.diagnostics = e.diagnostics.map((d) => pageDiagnostic(d));
    else reply.diagnostics = [{ from: 0, to: 0, code: 'internal', message: messageOf(e) }];
    reply.ms.compile = performance.now() - started;
    return reply;
  }
  reply.ms.compile = performance.now() - started;
  const drawing = performance.now();
  // A diagram is a function of the program's tokens (no positions or comments reach it), the model and the options.
  const key = [JSON.stringify([graph.name, request.diagram]), ...lex(request.source).tokens.map((t) => t.text)].join('\u0000');
  if (lastDrawing?.key === key) Object.assign(reply, lastDrawing.drawn);
  else {
    try {
      const { detail, ...rest } = request.diagram;
      const options = { ...rest, detail: detail === 'auto' ? 'layers' : detail, collapse: detail === 'auto', shapes: 'nodes', params: true } as DiagramOptions;
      reply.svg = (await renderDiagram(graph, { ...options, format: 'svg' }, (note) => (reply.note = note))) as string;
    } catch (e) {
      reply.diagramError = messageOf(e);
    }
    lastDrawing = { key, drawn: { svg: reply.svg, note: reply.note, diagramError: reply.diagramError } };
  }
  reply.ms.diagram = performance.now() - drawing;
  return reply;
}

/** The latest diagram and what it was drawn from: an edit that changes only comments or spacing redraws nothing. */
let lastDrawing: { key: string; drawn: Pick<CompileReply, 'svg' | 'note' | 'diagramError'> } | undefined;

/** Variables' size in random inputs. */
const RANDOM_DIM = 8;

function run(request: RunRequest): RunReply {
  const started = performance.now();
  const reply: RunReply = { kind: 'run', id: request.id, ms: 0, kernels: '', chunksByThread: [] };
  try {
    const file = compileSource({ path: SOURCE_PATH, text: request.source });
    const source = selectModel(file, request.model !== undefined && file.graphs.some((g) => g.name === request.model) ? request.model : undefined);
    if (request.inputs === undefined) {
      const rng = createRng(request.seed);
      const random = (shape: number[], int: boolean): unknown =>
        shape.length === 0 ? (int ? 1 : Math.round(rng.uniform() * 1e4) / 1e4) : Array.from({ length: shape[0] }, () => random(shape.slice(1), int));
      const json = Object.fromEntries(
        source.inputs.map((input) => [input.name, random([1, ...input.type.shape.slice(1).map((d) => (typeof d === 'number' ? d : RANDOM_DIM))], input.type.dtype.startsWith('int'))]),
      );
      reply.inputs = JSON.stringify(json);
    } else {
      let json: unknown;
      try {
        json = JSON.parse(request.inputs);
      } catch (e) {
        throw new Error(`the inputs are not JSON: ${e instanceof Error ? e.message : e}`);
      }
      const inputs = inputsFromJson(source, json);
      const weights = initWeights(source, { seed: request.seed });
      const { outputs } = new Interpreter(optimize(source, { level: 1 }).graph, weights).run(inputs);
      reply.outputs = Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { shape: t.shape, value: tensorToJson(t) }]));
    }
  } catch (e) {
    reply.error = messageOf(e);
  }
  reply.ms = performance.now() - started;
  const backend = kernelBackend();
  reply.kernels = backend.kernel === 'wasm' ? `WebAssembly SIMD, ${backend.threads === 1 ? '1 thread' : `${backend.threads} threads`}` : `TypeScript kernels (${backend.note ?? backend.choice})`;
  reply.chunksByThread = chunksByThread();
  return reply;
}

/** CodeMirror's completion types for LSP's kinds (the icons it draws). */
const COMPLETION_TYPES: Partial<Record<CompletionItemKind, string>> = {
  [CompletionItemKind.Function]: 'function',
  [CompletionItemKind.Module]: 'class',
  [CompletionItemKind.Field]: 'variable',
  [CompletionItemKind.Variable]: 'variable',
  [CompletionItemKind.Constant]: 'constant',
  [CompletionItemKind.Property]: 'property',
  [CompletionItemKind.EnumMember]: 'enum',
  [CompletionItemKind.Value]: 'keyword',
  [CompletionItemKind.Keyword]: 'keyword',
  [CompletionItemKind.Snippet]: 'text',
};

/** LSP's sortText groups ('0…' first) as CodeMirror's boost (higher first). */
const boostOf = (item: CompletionItem) => (item.sortText && /^\d/.test(item.sortText) ? 9 - Number(item.sortText[0]) : 0);

function completionOption(item: CompletionItem): CompletionOption {
  const docs = item.documentation;
  return {
    label: item.filterText ?? item.label,
    ...(item.filterText !== undefined && { display: item.label }),
    type: (item.kind !== undefined && COMPLETION_TYPES[item.kind]) || 'text',
    detail: item.detail,
    info: typeof docs === 'string' ? docs : docs?.value,
    apply: item.insertText,
    snippet: item.insertTextFormat === InsertTextFormat.Snippet,
    boost: boostOf(item),
  };
}

function service(request: ServiceRequest): ServiceReply {
  const { id } = request;
  try {
    if (request.kind === 'format') {
      const formatted = formatSource(request.source, SOURCE_PATH);
      return formatted.ok ? { kind: 'format', id, text: formatted.text } : { kind: 'format', id, error: formatted.diagnostics.map((d) => d.message).join('\n') };
    }
    const a = analysisOf(request.source);
    const position = a.lines.position(request.offset);
    if (request.kind === 'complete') return { kind: 'complete', id, options: completion(a, position).map(completionOption) };
    const found = hover(a, position);
    if (!found) return { kind: 'hover', id };
    const contents = found.contents;
    const markdown = typeof contents === 'string' ? contents : 'value' in contents ? contents.value : '';
    return { kind: 'hover', id, markdown, from: found.range && a.lines.offset(found.range.start), to: found.range && a.lines.offset(found.range.end) };
  } catch (e) {
    // An editor question never takes the compiler down: it gets no answer, and the page says why.
    return request.kind === 'format' ? { kind: 'format', id, error: messageOf(e) } : request.kind === 'hover' ? { kind: 'hover', id } : { kind: 'complete', id, options: [] };
  }
}

/** How often a training run reports between epochs, at most. */
const PROGRESS_MS = 150;
const CURVES_MS = 1000;

/** The model the last training run produced, for PredictRequest. */
let trained: { graph: Graph; weights: Weights } | undefined;
let mnistLoaded = false;

async function train(request: TrainRequest): Promise<void> {
  const { id } = request;
  const base: TrainReply = { kind: 'train', id, epoch: 0, epochs: 0, batch: 0, batches: 0, history: [], done: false };
  try {
    // The CLI's prepareTraining, from the editor's text rather than a file, with the digits fetched between its steps.
    const plan = trainingPlan(compileSource({ path: SOURCE_PATH, text: request.source }), { epochs: request.epochs, seed: request.seed });
    if (plan.config.data.source === 'mnist' && !mnistLoaded) {
      const url = new URL(MNIST_ASSET, request.base);
      let bytes: Uint8Array;
      try {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (e) {
        throw new Error(`the mnist digits could not be fetched from ${url.href} (${e instanceof Error ? e.message : e}); a page opened from file:// cannot fetch them: serve it with npm run playground -- --serve`);
      }
      setMnistDigits(bytes);
      mnistLoaded = true;
    }
    const { graph, config, data } = loadTraining(plan);
    const title = reports.curvesTitle(graph.name, data.description);
    Object.assign(base, { model: graph.name, data: data.description, epochs: config.epochs, batches: Math.ceil(data.train.n / config.batch) });
    let sent = 0, drawn = 0;
    let progress: { loss: number; accuracy: number | null } | undefined;
    const curves = (step: Pick<TrainStep, 'history' | 'batchLosses' | 'batchesPerEpoch'>) =>
      curvesSvg({ title, history: step.history, batchLosses: step.batchLosses, batchesPerEpoch: step.batchesPerEpoch });
    const history = (step: Pick<TrainStep, 'history'>) => step.history.map(({ epoch, loss, accuracy, testLoss, testAccuracy }) => ({ epoch, loss, accuracy, testLoss, testAccuracy }));
    const steps = trainSteps(graph, config, data, { onBatch: (p) => (progress = { loss: p.loss, accuracy: p.accuracy }) });
    scope.postMessage({ ...base });
    for (;;) {
      const next = steps.next();
      if (next.done) {
        trained = { graph, weights: next.value.weights };
        const last = next.value;
        const weights = weightsFileBytes(graph, last.weights, trainedMetadata(config, { epochs: last.history.length }));
        scope.postMessage({ ...base, epoch: last.history.length, batch: base.batches, ...progress, history: history(last), curves: curves(last), done: true, error: last.stopped?.message, inputShape: graph.inputs[0].type.shape.slice(1) as number[], weights });
        return;
      }
      const step = next.value;
      const now = performance.now();
      const epochEnd = step.batch === step.batchesPerEpoch;
      if (epochEnd || now - sent >= PROGRESS_MS) {
        sent = now;
        const withCurves = epochEnd || now - drawn >= CURVES_MS;
        if (withCurves) drawn = now;
        scope.postMessage({ ...base, epoch: step.epoch, batch: step.batch, ...progress, history: history(step), ...(withCurves && { curves: curves(step) }) });
      }
    }
  } catch (e) {
    scope.postMessage({ ...base, done: true, error: messageOf(e) });
  }
}

function predict(request: PredictRequest): PredictReply {
  const { id } = request;
  if (!trained) return { kind: 'predict', id, error: 'train the model first' };
  try {
    const { graph, weights } = trained;
    const input = graph.inputs[0];
    const shape = [1, ...(input.type.shape.slice(1) as number[])];
    const inputs = { [input.name]: tensor(shape, Float32Array.from(request.pixels)) };
    const { outputs } = new Interpreter(optimize(graph).graph, weights).run(inputs);
    return { kind: 'predict', id, output: Array.from(outputs[graph.outputs[0].name].data as Float32Array) };
  } catch (e) {
    return { kind: 'predict', id, error: messageOf(e) };
  }
}
