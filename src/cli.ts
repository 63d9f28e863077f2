/**
 * The `dlc` command line. Each command is a thin shell over the public API;
 * every failure the user can cause ends as a located message and exit code 1.
 */
import { Command, CommanderError } from 'commander';
import { compileFile, readSource, selectModel } from './compile.js';
import { chmodSync, realpathSync, statSync } from 'node:fs';
import { DEFAULT_WIDTH, formatSource } from './format/index.js';
import { MAX_SOURCE_CHARS } from './frontend/scan.js';
import type { Source } from './frontend/ast.js';
import { CompileError, type Diagnostic, ERRNO_TEXT, formatDiagnostic, help, messages, ortMessages, printable, reports, UserError } from './diagnostics.js';
import { printGraph } from './ir/print.js';
import { optimize, passNames, PassStats } from './passes/pipeline.js';
import { formatSummary, summarize, summaryJson } from './summary.js';
import { humanBytes, parseBytes } from './units.js';
import { basename, extname } from 'node:path';
import { FIT_NAMES, renderDiagram, type DiagramFormat } from './backends/dot/index.js';
import { THEME_NAMES } from './backends/dot/theme.js';
import { sceneToPdf } from './backends/dot/pdf.js';
import { svgToPng } from './backends/dot/render.js';
import { type Scene, sceneToSvg } from './scene.js';
import { emitTfjs } from './backends/tfjs/index.js';
import { kernelBackend, KernelChoice, pinnedArray, setFastMath, setKernelBackend, setThreads } from './backends/interp/wasm/index.js';
import { checkOutputPaths, READ_LIMITS, readStdinBounded, readTextBounded, writeFileAtomic } from './files.js';
import { evalCommand, tfjsTraining, trainCommand, TrainInterrupted } from './train/index.js';
import { setMemoryLimit } from './backends/interp/plan.js';
import { initWeights, inputsFromJson, inputsFromJsonText, InputError, Interpreter, loadWeights, saveWeights, tensorToJson } from './backends/interp/index.js';
import type { Weights } from './backends/interp/weights.js';
import { WeightsFileError } from './weights/safetensors.js';
import type { Graph } from './ir/types.js';
import type { Tensor } from './backends/interp/tensor.js';
import { VERSION } from './version.js';
import { exportOnnx, externalDataPath, OPSET } from './backends/onnx/index.js';
import { OrtSession } from './backends/onnx/ort.js';

const color = process.stderr.isTTY && !process.env.NO_COLOR;

function program(): Command {
  const cli = new Command('dlc')
    .description(help.program)
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError();

  cli
    .command('check')
    .description(help.check)
    .argument('<file>', help.file)
    .action((file: string) => {
      const compiled = compileFile(file);
      console.log(reports.checked(file, compiled.graphs.map((g) => g.name)));
    });

  cli
    .command('summary')
    .description(help.summary)
    .argument('<file>', help.file)
    .option('--model <name>', help.summaryModel)
    .option('--json', help.summaryJson)
    .action((file: string, opts: { model?: string; json?: boolean }) => {
      const summary = summarize(selectModel(compileFile(file), opts.model));
      console.log(opts.json ? JSON.stringify(summaryJson(summary), null, 2) : formatSummary(summary));
    });

  cli
    .command('compile')
    .description(help.compile)
    .argument('<file>', help.file)
    .option('--model <name>', help.compileModel)
    .option('--target <target>', help.compileTarget)
    .option('-o, --output <file>', help.compileOutput)
    .option('--emit <what>', help.compileEmit)
    .option('--opt <level>', help.compileOpt, parseLevel, 1)
    .option('--dump-after <pass>', help.compileDumpAfter(passNames()))
    .option('--stats', help.compileStats)
    .option('--weights <file>', help.compileWeights)
    .option('--seed <n>', help.compileSeed, parseSeed)
    .action(async (file: string, opts: { model?: string; target?: string; output?: string; emit?: string; opt: number; dumpAfter?: string; stats?: boolean; weights?: string; seed?: number }) => {
      if (opts.target !== undefined && opts.target !== 'tfjs' && opts.target !== 'onnx') throw new UsageError(messages.unknownTarget(opts.target));
      if ((opts.weights !== undefined || opts.seed !== undefined) && opts.target !== 'onnx') throw new UsageError(messages.weightsNeedOnnx());
      if (opts.emit !== undefined && opts.emit !== 'ir') throw new UsageError(messages.unknownEmit(opts.emit));
      if (opts.target && opts.emit) throw new UsageError(messages.targetAndEmit());
      if (opts.target && !opts.output) throw new UsageError(messages.targetNeedsOutput(opts.target));
      if (opts.dumpAfter && !passNames().includes(opts.dumpAfter)) throw new UsageError(messages.unknownPass(opts.dumpAfter, passNames()));
      if (opts.output) checkOutputPaths(opts.weights ? [file, opts.weights] : [file], opts.target === 'onnx' ? [['-o', opts.output], ['-o', externalDataPath(opts.output)]] : [['-o', opts.output]]);
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
        console.log(reports.wroteModule(opts.output!, graph.name));
      } else if (opts.target === 'onnx') {
        // Weights belong to the source model; the optimized graph keeps its layer names.
        const weights = opts.weights ? await loadWeights(opts.weights, source) : initWeights(source, { seed: opts.seed ?? 0 });
        const external = externalDataPath(opts.output!);
        const { model, external: data } = exportOnnx(graph, weights, { sourcePath: file, externalName: basename(external) });
        if (data) await writeFileAtomic(external, Buffer.concat(data.chunks));
        await writeFileAtomic(opts.output!, model);
        console.log(reports.wroteOnnx(opts.output!, graph.name, OPSET, data && external));
      } else console.log(opts.dumpAfter ? dumps[0] : printGraph(graph));
      if (opts.stats) printPassStats(stats);
    });

  cli
    .command('init')
    .description(help.init)
    .argument('<file>', help.file)
    .requiredOption('-o, --output <weights>', help.weightsOutput)
    .option('--model <name>', help.model)
    .option('--seed <n>', help.initSeed, parseSeed, 0)
    .option('--normal <sigma>', help.initNormal, parsePositive)
    .action(async (file: string, opts: { output: string; model?: string; seed: number; normal?: number }) => {
      checkOutputPaths([file], [['-o', opts.output]]);
      const graph = selectModel(compileFile(file), opts.model);
      const weights = initWeights(graph, { seed: opts.seed, normalSigma: opts.normal });
      await saveWeights(opts.output, graph, weights, { seed: `${opts.seed}` });
      const count = [...weights.values()].reduce((n, t) => n + t.data.length, 0);
      console.log(reports.wroteWeights(opts.output, weights.size, count.toLocaleString('en-US'), humanBytes(count * 4)));
    });

  cli
    .command('run')
    .description(help.run)
    .argument('<file>', help.file)
    .requiredOption('--input <json>', help.runInput)
    .option('--model <name>', help.model)
    .option('--weights <file>', help.runWeights)
    .option('--seed <n>', help.runSeed, parseSeed, 0)
    .option('--json', help.runJson)
    .option('--stats', help.runStats)
    .option('--opt <level>', help.runOpt, parseLevel, 1)
    .option('--kernels <kind>', help.runKernels, 'auto')
    .option('--threads <n>', help.threads, parseCount)
    .option('--fast-math', help.fastMath)
    .option('--max-memory <size>', help.maxMemory, parseMemory)
    .option('--engine <engine>', help.engine, 'interp')
    .action(async (file: string, opts: { input: string; model?: string; weights?: string; seed: number; json?: boolean; stats?: boolean; opt: number; kernels: string; threads?: number; fastMath?: boolean; maxMemory?: number; engine: string }) => {
      const engine = engineOf(opts.engine);
      useKernels(opts);
      if (opts.maxMemory) setMemoryLimit(opts.maxMemory);
      const source = selectModel(compileFile(file), opts.model);
      const inputs = readInputs(source, opts.input);
      // Weights belong to the source model; the optimized graph keeps its layer names. The
      // interpreter runs once, so they live where its kernels read them in place; ONNX Runtime copies them.
      const alloc = engine === 'interp' ? pinnedArray : undefined;
      const weights = opts.weights ? await loadWeights(opts.weights, source, { alloc }) : initWeights(source, { seed: opts.seed, alloc });
      const { graph } = optimize(source, { level: opts.opt });
      const { outputs, stats } = engine === 'ort' ? { outputs: await runOnce(graph, weights, inputs, file, opts.threads), stats: undefined } : new Interpreter(graph, weights, { foldInPlace: true }).run(inputs, { stats: opts.stats });
      const json = Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, tensorToJson(t)]));
      if (opts.json) console.log(JSON.stringify(json));
      else for (const [name, t] of Object.entries(outputs)) console.log(reports.runOutput(name, t.shape, formatTensor(t)));
      if (stats) printStats(graph, stats);
    });

  cli
    .command('train')
    .description(help.train)
    .argument('<file>', help.file)
    .requiredOption('-o, --output <weights>', help.weightsOutput)
    .option('--model <name>', help.trainModel)
    .option('--epochs <n>', help.trainEpochs, parseCount)
    .option('--lr <rate>', help.trainLr, parsePositive)
    .option('--seed <n>', help.trainSeed, parseSeed)
    .option('--metrics <file>', help.trainMetrics)
    .option('--plot <file>', help.trainPlot)
    .option('--quiet', help.trainQuiet)
    .option('--kernels <kind>', help.trainKernels, 'auto')
    .option('--threads <n>', help.threads, parseCount)
    .option('--fast-math', help.fastMath)
    .option('--max-memory <size>', help.maxMemory, parseMemory)
    .action(async (file: string, opts: { output: string; model?: string; epochs?: number; lr?: number; seed?: number; metrics?: string; plot?: string; quiet?: boolean; kernels: string; threads?: number; fastMath?: boolean; maxMemory?: number }) => {
      useKernels(opts);
      if (opts.maxMemory) setMemoryLimit(opts.maxMemory);
      // The curves as PNG (twice the SVG's size) or PDF, from the scene the SVG is written from.
      const drawCurves = async (scene: Scene, format: 'png' | 'pdf', title: string) => (format === 'pdf' ? sceneToPdf(scene, { title }) : svgToPng(sceneToSvg(scene), 2));
      await trainCommand(file, { ...opts, drawCurves });
    });

  cli
    .command('eval')
    .description(help.eval)
    .argument('<file>', help.file)
    .requiredOption('--weights <file>', help.evalWeights)
    .option('--model <name>', help.trainModel)
    .option('--max-memory <size>', help.maxMemory, parseMemory)
    .option('--engine <engine>', help.engine, 'interp')
    .option('--threads <n>', help.threads, parseCount)
    .action(async (file: string, opts: { weights: string; model?: string; maxMemory?: number; engine: string; threads?: number }) => {
      const engine = engineOf(opts.engine);
      if (opts.maxMemory) setMemoryLimit(opts.maxMemory);
      await evalCommand(file, { ...opts, engine });
    });

  cli
    .command('diagram')
    .description(help.diagram)
    .argument('<file>', help.file)
    .requiredOption('-o, --output <file>', help.diagramOutput)
    .option('--model <name>', help.model)
    .option('--direction <dir>', help.diagramDirection, 'LR')
    .option('--detail <level>', help.diagramDetail)
    .option('--theme <theme>', help.diagramTheme, 'light')
    .option('--unroll <k>', help.diagramUnroll, parseCount)
    .option('--shapes <where>', help.diagramShapes, 'nodes')
    .option('--no-shapes', help.diagramNoShapes)
    .option('--fit <target>', help.diagramFit, '16:9')
    .option('--no-params', help.diagramNoParams)
    .option('--opt <level>', help.diagramOpt, parseLevel, 0)
    .option('--scale <factor>', help.diagramScale, parsePositive, 2)
    .option('--tikz-body', help.diagramTikzBody)
    .action(async (file: string, opts: { output: string; model?: string; direction: string; detail?: string; theme: string; unroll?: number; shapes: string | boolean; fit: string; params: boolean; opt: number; scale: number; tikzBody?: boolean }, command: Command) => {
      const format = extname(opts.output).slice(1).toLowerCase();
      if (!(['svg', 'png', 'pdf', 'tex', 'dot'] as const).includes(format as DiagramFormat)) throw new UsageError(messages.diagramExtension(opts.output));
      if (format !== 'png' && command.getOptionValueSource('scale') === 'cli') throw new UsageError(messages.scaleNotPng(opts.output));
      if (opts.tikzBody && format !== 'tex') throw new UsageError(messages.tikzBodyNotTex(opts.output));
      checkOutputPaths([file], [['-o', opts.output]]);
      const choose = <T extends string>(flag: string, value: string, choices: readonly T[]): T => {
        if (!choices.includes(value as T)) throw new UsageError(messages.flagChoice(flag, value, choices));
        return value as T;
      };
      const source = selectModel(compileFile(file), opts.model);
      const { graph } = optimize(source, { level: opts.opt });
      const data = await renderDiagram(graph, {
        format: format as DiagramFormat,
        tikzBody: opts.tikzBody,
        direction: choose('direction', opts.direction.toUpperCase(), ['LR', 'TB'] as const),
        detail: choose('detail', opts.detail ?? 'layers', ['layers', 'blocks', 'outline', 'neurons', 'params'] as const),
        theme: choose('theme', opts.theme, THEME_NAMES),
        // --no-shapes is --shapes none.
        shapes: opts.shapes === false ? 'none' : choose('shapes', `${opts.shapes}`, ['edges', 'nodes', 'none'] as const),
        fit: choose('fit', opts.fit, FIT_NAMES),
        collapse: opts.detail === undefined,
        params: opts.params,
        unroll: opts.unroll,
        scale: opts.scale,
      }, (note) => console.error(note));
      await writeFileAtomic(opts.output, data);
      console.log(reports.wroteDiagram(opts.output, format, graph.name));
    });

  cli
    .command('lsp')
    .description(help.lsp)
    .option('--stdio', help.lspStdio)
    .action(async () => {
      // Loaded here: the other commands do not pay for the language server's modules.
      const { startServer } = await import('./lsp/server.js');
      startServer(process.stdin, process.stdout);
    });

  cli
    .command('fmt')
    .description(help.fmt)
    .argument('<files...>', help.fmtFiles)
    .option('--write', help.fmtWrite)
    .option('--check', help.fmtCheck)
    .option('--width <n>', help.fmtWidth, parseCount, DEFAULT_WIDTH)
    .action(async (files: string[], opts: { write?: boolean; check?: boolean; width: number }) => {
      if (opts.write && opts.check) throw new UsageError(messages.fmtWriteAndCheck());
      const stdin = files.includes('-');
      if (stdin && files.length > 1) throw new UsageError(messages.fmtStdinAlone());
      if (stdin && opts.write) throw new UsageError(messages.fmtWriteStdin());
      if (!opts.write && !opts.check && files.length > 1) throw new UsageError(messages.fmtSeveralToStdout(files.length));
      // A file that cannot be read or does not parse is reported and left alone; the others are still formatted.
      const diagnostics: Diagnostic[] = [];
      const unformatted: string[] = [];
      for (const file of files) {
        let result;
        try {
          const source = file === '-' ? await readStdinSource() : readSource(file);
          result = formatSource(source.text, source.path, { width: opts.width });
        } catch (e) {
          if (!(e instanceof CompileError)) throw e;
          diagnostics.push(...e.diagnostics);
          continue;
        }
        if (!result.ok) diagnostics.push(...result.diagnostics);
        else if (opts.check) {
          if (result.changed) unformatted.push(file === '-' ? STDIN_PATH : file);
        } else if (opts.write) {
          if (!result.changed) continue;
          // Through a symbolic link to the file it names, keeping its permissions.
          const target = realpathSync(file);
          const mode = statSync(target).mode & 0o7777;
          await writeFileAtomic(target, result.text);
          chmodSync(target, mode);
          console.log(reports.formattedFile(file));
        } else process.stdout.write(result.text);
      }
      for (const file of unformatted) console.log(reports.unformattedFile(file));
      if (diagnostics.length > 0) throw new CompileError(diagnostics);
      if (unformatted.length > 0) throw new UserError(messages.fmtCheckFailed(unformatted.length));
      if (opts.check) console.log(reports.allFormatted(files.length));
    });

  return cli;
}

/** `-` in a file list: standard input, named STDIN_PATH in messages. */
const STDIN_PATH = '<stdin>';

/** A source read from standard input, with the same limit and byte-order-mark rule as readSource. */
async function readStdinSource(): Promise<Source> {
  try {
    return { path: STDIN_PATH, text: (await readStdinBounded(MAX_SOURCE_CHARS)).toString('utf8').replace(/^\uFEFF/, '') };
  } catch (e) {
    throw new CompileError([messages.readFile(STDIN_PATH, (e as Error).message)]);
  }
}

/** --engine: the built-in interpreter (default) or ONNX Runtime. */
function engineOf(engine: string): 'interp' | 'ort' {
  if (engine !== 'interp' && engine !== 'ort') throw new UsageError(ortMessages.unknownEngine(engine));
  return engine;
}

/** One run through ONNX Runtime: export, load, run, release. */
async function runOnce(graph: Graph, weights: Weights, inputs: Record<string, Tensor>, file: string, threads?: number): Promise<Record<string, Tensor>> {
  const session = await OrtSession.create(graph, weights, { sourcePath: file, threads });
  try {
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

/** Applies --kernels, --threads and --fast-math (the environment's DLC_KERNELS / DLC_THREADS / DLC_FAST_MATH otherwise). */
function useKernels(opts: { kernels: string; threads?: number; fastMath?: boolean }): void {
  if (!['auto', 'wasm', 'js'].includes(opts.kernels)) throw new UsageError(messages.kernelsChoice(opts.kernels));
  if (opts.kernels !== 'auto' || !process.env.DLC_KERNELS) setKernelBackend(opts.kernels as KernelChoice);
  if (opts.threads !== undefined) setThreads(opts.threads);
  if (opts.fastMath) setFastMath(true);
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(messages.countValue(text));
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
  if (text !== '0' && text !== '1') throw new UsageError(messages.optLevel(text));
  return Number(text);
}

function printStats(graph: Graph, stats: NonNullable<ReturnType<Interpreter['run']>['stats']>): void {
  const width = Math.max(...stats.layers.map((l) => l.name.length + l.op.length + 3));
  console.error(reports.timePerLayer(graph.name));
  for (const l of stats.layers) console.error(`  ${`${l.name} (${l.op})`.padEnd(width)}  ${l.ms.toFixed(3).padStart(9)} ms${l.computedIn ? ` ${reports.computedIn(l.computedIn)}` : ''}`);
  console.error(`  ${'total'.padEnd(width)}  ${stats.totalMs.toFixed(3).padStart(9)} ms`);
  console.error(reports.peakMemory(humanBytes(stats.peakActivationBytes)));
  if (stats.plan) {
    console.error(reports.plannedMemory(humanBytes(stats.plan.plannedBytes), humanBytes(stats.plan.naiveBytes)));
    for (const [first, last] of stats.plan.byExample) console.error(reports.byExample(first, last));
  }
  const k = kernelBackend();
  console.error(reports.matrixKernels(k.kernel, k.kernel === 'wasm' ? k.threads : undefined, k.note, k.fastMath, k.fused));
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

/** `dlc run`'s --input file as the model's input tensors; its text is garbage once they are read. */
function readInputs(graph: Graph, path: string): Record<string, Tensor> {
  let text: string;
  try {
    text = readTextBounded(path, READ_LIMITS.json);
  } catch (e) {
    throw new UsageError(messages.readFile(path, (e as Error).message));
  }
  return inputsFromJsonText(graph, text) ?? inputsFromJson(graph, parseJson(path, text));
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(messages.notJson(path, printable((e as Error).message))); // it quotes the file's text
  }
}

function parseMemory(text: string): number {
  const bytes = parseBytes(text);
  if (bytes === undefined) throw new UsageError(messages.memoryValue(text));
  return bytes;
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(messages.seedValue(text));
  return n;
}

function parsePositive(text: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(messages.positiveValue(text));
  return n;
}

/**
 * Diagnostics printed in full, each with its code frame; the rest are
 * counted. A file with thousands of errors is one mistake repeated, and
 * printing them all took minutes.
 */
const MAX_SHOWN_DIAGNOSTICS = 50;

/** A mistake in the command line itself. */
export class UsageError extends UserError {}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (e instanceof CompileError) {
      const shown = e.diagnostics.slice(0, MAX_SHOWN_DIAGNOSTICS);
      for (const d of shown) console.error(formatDiagnostic(d, color) + '\n');
      if (e.diagnostics.length > shown.length) console.error(reports.moreErrors(e.diagnostics.length - shown.length));
      console.error(reports.errorCount(e.diagnostics.length));
      return 1;
    }
    if (e instanceof TrainInterrupted) {
      console.error(e.message);
      return e.exitCode;
    }
    if (e instanceof UsageError || e instanceof UserError || e instanceof WeightsFileError) {
      console.error(reports.errorLine(e.message));
      return 1;
    }
    const io = e as NodeJS.ErrnoException;
    if (io.code && io.path) {
      // A temporary file's name means nothing to the user: name the file they gave.
      const path = io.path.replace(/\/\.([^/]+)\.[0-9a-f]{12}\.tmp$/, '/$1');
      console.error(reports.errorLine(messages.fileAccess(path, ERRNO_TEXT[io.code] ?? io.code).message));
      return 1;
    }
    // A bug in dlc, not in the input: say so plainly; the stack only on request.
    console.error(reports.internalError(String((e as Error).message ?? e)));
    if (process.env.DLC_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}
