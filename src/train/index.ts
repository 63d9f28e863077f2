/**
 * `dlc train` and `dlc eval`: train a model as its file's `train` section says,
 * write the weights, a metrics JSON and an SVG of the learning curves; or
 * evaluate saved weights on the section's test data.
 * The command line (src/cli.ts) wires these; user mistakes surface as
 * CompileError (located in the .dl file) or TrainError (everything else).
 */
import { OrtSession } from '../backends/onnx/ort.js';
import { loadWeights, saveWeights } from '../backends/interp/weights.js';
import { compileFile, type CompiledFile } from '../compile.js';
import { messages, reports, UserError } from '../diagnostics.js';
import { checkOutputPaths, checkWritable, writeFileAtomic } from '../files.js';
import type { Graph } from '../ir/types.js';
import { optimize } from '../passes/pipeline.js';
import { TrainConfig, trainConfig } from './config.js';
import type { Split } from './data.js';
import { loadTraining, optimizerText, trainedMetadata, trainingPlan, type TrainOverrides } from './plan.js';
import { TrainError, TrainInterrupted } from './errors.js';
import { curvesFormat, curvesScene, curvesSvg, type CurvesFormat } from './plot.js';
import type { Scene } from '../scene.js';
import { reporter } from './progress.js';
import { evaluate, evaluateWith, TrainHooks, TrainRun, trainSteps, type TrainStep } from './train.js';

export { TrainError, TrainInterrupted } from './errors.js';
export { trainConfig, selectTrainModel } from './config.js';
export type { TrainConfig, DataSpec, OptimizerSpec, LossName } from './config.js';
export { loadData } from './data.js';
export type { Dataset, Split } from './data.js';
export { createOptimizer } from './optimizers.js';
export { train, trainSteps, evaluate } from './train.js';
export type { EpochMetrics, Progress, TrainHooks, TrainRun, TrainStep } from './train.js';
export { curvesSvg } from './plot.js';

/**
 * The train section of `graph` (a model of `file`), checked, for emitTfjs's
 * `training`; undefined when the model has none. Throws CompileError when the section is wrong.
 */
export function tfjsTraining(file: CompiledFile, graph: Graph): TrainConfig | undefined {
  return file.program.decls.some((d) => d.kind === 'train' && d.model === graph.name) ? trainConfig(file, graph) : undefined;
}

export type { TrainOverrides } from './plan.js';

export interface TrainCommandOptions extends TrainOverrides {
  /** The weights file to write (safetensors). */
  output: string;
  /** Default: `<output without extension>.metrics.json`. */
  metrics?: string;
  /** Default: `<output without extension>.curves.svg`; .svg, .png or .pdf. */
  plot?: string;
  quiet?: boolean;
  /** Draws the curves as PNG or PDF bytes (the CLI passes resvg and pdfkit); without it, --plot must be .svg. */
  drawCurves?: (scene: Scene, format: Exclude<CurvesFormat, 'svg'>, title: string) => Promise<Uint8Array>;
}

/** Compiles `file` and resolves its train section, the command-line overrides applied, and loads its data. */
export function prepareTraining(file: string, options: TrainOverrides = {}): { graph: Graph; config: TrainConfig; data: Split } {
  return loadTraining(trainingPlan(compileFile(file), options));
}

/** Trains the model of a .dl file and writes its weights, metrics and curves. */
export async function trainCommand(file: string, options: TrainCommandOptions): Promise<void> {
  const base = options.output.replace(/\.[^./\\]*$/, '');
  const metricsPath = options.metrics ?? `${base}.metrics.json`;
  const plotPath = options.plot ?? `${base}.curves.svg`;
  const plotFormat = curvesFormat(plotPath);
  const draw = options.drawCurves;
  if (plotFormat !== 'svg' && !draw) throw new UserError(messages.plotDrawer(plotPath, plotFormat));
  checkOutputPaths([file], [['-o', options.output], ['--metrics', metricsPath], ['--plot', plotPath]]); // before the training run, not after
  const { graph, config, data } = prepareTraining(file, options);
  await checkWritable([options.output, metricsPath, plotPath]);
  const say = (line: string) => options.quiet || process.stdout.write(`${line}\n`);
  const batches = Math.ceil(data.train.n / config.batch);
  say(reports.trainingStart(graph.name, data.description));
  say(reports.trainingPlan(config.epochs, batches, config.batch, config.loss, optimizerText(config.optimizer), config.weightDecay, config.seed));
  const report = options.quiet ? undefined : reporter(process.stdout, config.epochs);
  const hooks: TrainHooks = report ?? {};
  const run = await stepsUntilInterrupted(trainSteps(graph, config, data, hooks), async (last) => {
    report?.clear();
    await saveWeights(options.output, graph, last.weights, trainedMetadata(config, { updates: last.updates }));
    return new TrainInterrupted(reports.trainingInterrupted(last.epoch, last.batch, last.batchesPerEpoch, last.updates, options.output));
  });
  report?.clear();

  await saveWeights(options.output, graph, run.weights, trainedMetadata(config, { epochs: run.history.length }));
  await writeFileAtomic(metricsPath, JSON.stringify(metricsJson(file, graph, config, data, run), null, 2) + '\n');
  const curves = { title: reports.curvesTitle(graph.name, data.description), history: run.history, batchLosses: run.batchLosses, batchesPerEpoch: run.batchesPerEpoch };
  await writeFileAtomic(plotPath, plotFormat === 'svg' ? curvesSvg(curves) : await draw!(curvesScene(curves), plotFormat, curves.title));

  const last = run.history.at(-1);
  if (last) say(reports.trainingResult(last.testAccuracy, last.testLoss, run.seconds));
  say(reports.wroteTrainingFiles([options.output, metricsPath, plotPath]));
  if (run.stopped) throw new TrainError(run.stopped);
}

/**
 * Runs a training run step by step, letting the event loop turn after each
 * step so that SIGINT (Ctrl-C) is seen: training itself is synchronous. On
 * SIGINT the run stops after the step in progress, `interrupted` keeps what
 * it has (the weights of the last completed step) and the error it returns
 * is thrown. Only while the run lasts is SIGINT caught.
 */
async function stepsUntilInterrupted(steps: Generator<TrainStep, TrainRun>, interrupted: (last: TrainStep) => Promise<Error>): Promise<TrainRun> {
  let stop = false;
  const onSigint = () => (stop = true);
  process.on('SIGINT', onSigint);
  try {
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
      await new Promise((resolve) => setImmediate(resolve)); // signals are delivered here
      if (stop) throw await interrupted(next.value);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Evaluates saved weights on the test set of the model's train section (its training set if it has none). */
export async function evalCommand(file: string, options: { model?: string; weights: string; engine?: 'interp' | 'ort'; threads?: number }): Promise<void> {
  const { graph, config, data } = prepareTraining(file, { model: options.model });
  const weights = await loadWeights(options.weights, graph);
  const [set, which] = data.test ? [data.test, 'test' as const] : [data.train, 'training' as const];
  const optimized = optimize(graph).graph;
  let result: { loss: number; accuracy: number | null };
  if (options.engine === 'ort') {
    const session = await OrtSession.create(optimized, weights, { sourcePath: file, threads: options.threads });
    result = await evaluateWith((inputs) => session.run(inputs), optimized, set, config.loss);
    await session.release();
  } else result = evaluate(optimized, weights, set, config.loss);
  process.stdout.write(`${reports.evaluated(graph.name, set.n, which, data.description, result.loss, result.accuracy)}\n`);
}

function metricsJson(file: string, graph: Graph, config: TrainConfig, data: Split, run: TrainRun) {
  const { span: _span, argSpans: _args, ...source } = config.data;
  if (source.source === 'csv' || source.source === 'text') delete (source as { path?: string }).path;
  const round = (x: number | null) => (x === null ? null : +x.toPrecision(6));
  return {
    model: graph.name,
    file,
    data: data.description,
    config: { data: source, loss: config.loss, optimizer: config.optimizer, epochs: config.epochs, batch: config.batch, weight_decay: config.weightDecay, seed: config.seed },
    train_examples: data.train.n,
    test_examples: data.test?.n ?? 0,
    epochs: run.history.map((m) => ({
      epoch: m.epoch,
      loss: round(m.loss),
      accuracy: round(m.accuracy),
      test_loss: round(m.testLoss),
      test_accuracy: round(m.testAccuracy),
      seconds: +m.seconds.toFixed(3),
      samples_per_second: Math.round(m.samplesPerSecond),
    })),
    seconds: +run.seconds.toFixed(3),
    ...(run.stopped ? { stopped: run.stopped.message } : {}),
    batch_losses: run.batchLosses.map((l) => round(l)),
  };
}
