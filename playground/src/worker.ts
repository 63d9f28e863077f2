/**
 * The playground's compiler: a Web Worker running dlc's own src/ (bundled with
 * the browser platform, src/platform/browser.ts), so typing never waits for it.
 * It answers each CompileRequest with what the panels show; a request that
 * arrives while one is in hand replaces any that wait (only the newest matters).
 */
import { compileSource, selectModel } from '../../src/compile.js';
import { CompileError, lineCol, type Diagnostic } from '../../src/diagnostics.js';
import { renderDiagram, type DiagramOptions } from '../../src/backends/dot/index.js';
import { emitTfjs } from '../../src/backends/tfjs/index.js';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { formatSummary, summarize } from '../../src/summary.js';
import { FIT_NAMES } from '../../src/backends/dot/fit.js';
import { THEME_NAMES } from '../../src/backends/dot/theme.js';
import { initWeights, inputsFromJson, Interpreter, tensorToJson } from '../../src/backends/interp/index.js';
import { createRng } from '../../src/runtime/random.js';
import type { CompileReply, CompileRequest, PageDiagnostic, RunReply, RunRequest, WorkerHello, WorkerReply, WorkerRequest } from './protocol.js';

/** The path diagnostics and the generated module's comments name. */
const SOURCE_PATH = 'playground.dl';

const scope = self as unknown as { onmessage: (e: MessageEvent<WorkerRequest>) => void; postMessage: (reply: WorkerReply | WorkerHello) => void };

scope.postMessage({ hello: { themes: [...THEME_NAMES], fits: [...FIT_NAMES], views: ['auto', 'layers', 'blocks', 'outline', 'neurons', 'params'] } });

let waiting: CompileRequest | undefined;
let busy = false;

scope.onmessage = (event) => {
  if (event.data.kind === 'run') return scope.postMessage(run(event.data));
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

const pageDiagnostic = (d: Diagnostic): PageDiagnostic => {
  const from = d.span?.start ?? 0;
  const at = d.span ? lineCol(d.span) : undefined;
  return { from, to: Math.max(d.span?.end ?? 0, from), line: at?.line, column: at?.column, code: d.code, message: d.message, hint: d.hint };
};

const messageOf = (e: unknown): string => (e instanceof CompileError ? e.diagnostics.map((d) => d.message).join('\n') : e instanceof Error ? e.message : String(e));

async function answer(request: CompileRequest): Promise<CompileReply> {
  const started = performance.now();
  const reply: CompileReply = { kind: 'compile', id: request.id, diagnostics: [], models: [], ms: { compile: 0, diagram: 0 } };
  let graph;
  try {
    const file = compileSource({ path: SOURCE_PATH, text: request.source });
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
    if (e instanceof CompileError) reply.diagnostics = e.diagnostics.map(pageDiagnostic);
    else reply.diagnostics = [{ from: 0, to: 0, code: 'internal', message: messageOf(e) }];
    reply.ms.compile = performance.now() - started;
    return reply;
  }
  reply.ms.compile = performance.now() - started;
  const drawing = performance.now();
  try {
    const { detail, ...rest } = request.diagram;
    const options = { ...rest, detail: detail === 'auto' ? 'layers' : detail, collapse: detail === 'auto', shapes: 'nodes', params: true } as DiagramOptions;
    reply.svg = (await renderDiagram(graph, { ...options, format: 'svg' }, (note) => (reply.note = note))) as string;
  } catch (e) {
    reply.diagramError = messageOf(e);
  }
  reply.ms.diagram = performance.now() - drawing;
  return reply;
}

/** Variables' size in random inputs. */
const RANDOM_DIM = 8;

function run(request: RunRequest): RunReply {
  const started = performance.now();
  const reply: RunReply = { kind: 'run', id: request.id, ms: 0 };
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
  return reply;
}
