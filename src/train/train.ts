/**
 * The training loop: minibatch gradient descent on the interpreter.
 *
 * Each epoch visits the training set in a seeded random order, in batches;
 * each batch runs the training graph (dropout on) forward and backward
 * (backends/interp/autodiff.ts) and applies one optimizer step. After each
 * epoch the test set is evaluated on the inference graph (dropout removed).
 * Train loss and accuracy are the means over the epoch's batches, as Keras
 * reports them; losses are the data loss, without the weight decay term.
 *
 * Everything random (initial weights, split, order, dropout) derives from the
 * config's seed, and nothing depends on time, so the same seed gives the same
 * weights bit for bit. A batch whose loss is NaN or infinite, or a step that
 * makes a weight so, stops the run with the weights of the last finite step.
 */
import { lossAndGradients, type StepResult } from '../backends/interp/autodiff.js';
import { Interpreter } from '../backends/interp/execute.js';
import { accuracy as accuracyOf, lossAndGrad } from '../backends/interp/losses.js';
import { createRng, shuffled } from '../runtime/random.js';
import { allFinite } from '../runtime/tensor.js';
import { checkMemory, planMemory } from '../backends/interp/plan.js';
import { initWeights, weightSlots, Weights } from '../backends/interp/weights.js';
import { slotCount } from '../runtime/optimizers.js';
import { Diagnostic, messages } from '../diagnostics.js';
import type { Graph } from '../ir/types.js';
import { optimize } from '../passes/pipeline.js';
import { checkTrainable, LossName, TrainConfig } from './config.js';
import { batchOf, Dataset, Split } from './data.js';
import type { Tensor } from '../backends/interp/tensor.js';
import { createOptimizer } from './optimizers.js';

export interface EpochMetrics {
  epoch: number;
  loss: number;
  /** Null for losses without a notion of accuracy (mse). */
  accuracy: number | null;
  /** Null when there is no test set. */
  testLoss: number | null;
  testAccuracy: number | null;
  /** Wall time of the epoch, evaluation included. */
  seconds: number;
  /** Training examples per second (forward, backward and update). */
  samplesPerSecond: number;
}

/** Where a run is, after each batch. */
export interface Progress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Means over the epoch so far. */
  loss: number;
  accuracy: number | null;
  samplesPerSecond: number;
  secondsLeft: number;
}

export interface TrainHooks {
  onBatch?(progress: Progress): void;
  onEpoch?(metrics: EpochMetrics): void;
}

export interface TrainRun {
  weights: Weights;
  /** How many optimizer steps `weights` have had. */
  updates: number;
  history: EpochMetrics[];
  /** Every batch's loss, in order, for the curves. */
  batchLosses: number[];
  batchesPerEpoch: number;
  /** Set when the loss diverged and the run stopped early. */
  stopped?: Diagnostic;
  seconds: number;
}

/** The run so far after a completed step: the step's epoch and batch (from 1). */
export type TrainStep = TrainRun & { epoch: number; batch: number };

/**
 * Trains `graph` (the checked source model) on `data` as `config` says.
 * Starts from `initial` when given (it is not modified), else from fresh weights from the seed.
 */
export function train(graph: Graph, config: TrainConfig, data: Split, hooks: TrainHooks = {}, initial?: Weights): TrainRun {
  const steps = trainSteps(graph, config, data, hooks, initial);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * train() one step at a time: yields the run so far after each completed
 * optimizer step and returns the finished run. A yielded run's weights are
 * the live ones, which the next step changes: whoever keeps them (the CLI,
 * saving on SIGINT) must do so before resuming. Between steps the caller may
 * also let the event loop turn, so that a signal can be handled.
 */
export function* trainSteps(graph: Graph, config: TrainConfig, data: Split, hooks: TrainHooks = {}, initial?: Weights): Generator<TrainStep, TrainRun> {
  checkTrainable(graph, config);
  const trainGraph = optimize(graph, { training: true }).graph;
  const evalGraph = optimize(graph).graph;
  checkTrainingMemory(graph, trainGraph, evalGraph, config, data);
  const weights: Weights = initial ? copyWeights(initial) : initWeights(graph, { seed: config.seed });
  const optimizer = createOptimizer(config.optimizer, config.weightDecay);
  const rng = createRng(config.seed);
  const input = graph.inputs[0].name, output = graph.outputs[0].name;
  const { train: ds, test } = data;
  const batches = Math.ceil(ds.n / config.batch);
  const history: EpochMetrics[] = [];
  const batchLosses: number[] = [];
  const start = performance.now();
  let good = copyWeights(weights);
  let stepSeconds = 0, updates = 0;
  /** The last step's result, done with once the weights are updated: the next step writes into it. */
  let previous: StepResult | undefined;

  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const epochStart = performance.now();
    const order = shuffled(ds.n, rng.child(`epoch ${epoch}`));
    let lossSum = 0, accSum = 0, seen = 0;
    for (let b = 0; b < batches; b++) {
      const t0 = performance.now();
      const { x, y } = batchOf(ds, order, b * config.batch, Math.min(ds.n, (b + 1) * config.batch));
      const n = x.shape[0];
      const seed = rng.child(`dropout ${epoch}.${b}`).seed;
      const step = lossAndGradients(trainGraph, weights, { [input]: x }, y, config.loss, { seed, output, into: previous });
      previous = step;
      if (!Number.isFinite(step.loss)) return stop(epoch, b + 1, { loss: step.loss }, updates - 1);
      good = copyWeights(weights, good);
      optimizer.step(weights, step.grads);
      for (const [name, value] of step.state) weights.get(name)!.data.set(value.data); // layer state: batchnorm's moving statistics
      const bad = firstNonFinite(weights);
      if (bad) return stop(epoch, b + 1, { weight: bad }, updates);
      updates++;
      lossSum += step.loss * n;
      accSum += (accuracyOf(config.loss, step.predictions, y) ?? 0) * n;
      seen += n;
      batchLosses.push(step.loss);
      stepSeconds += (performance.now() - t0) / 1000;
      hooks.onBatch?.({
        epoch, epochs: config.epochs, batch: b + 1, batches,
        loss: lossSum / seen, accuracy: hasAccuracy(config.loss) ? accSum / seen : null,
        samplesPerSecond: seen / ((performance.now() - epochStart) / 1000),
        secondsLeft: (stepSeconds / updates) * ((config.epochs - epoch) * batches + batches - b - 1),
      });
      yield { weights, updates, history, batchLosses, batchesPerEpoch: batches, seconds: (performance.now() - start) / 1000, epoch, batch: b + 1 };
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const evaluated = test ? evaluate(evalGraph, weights, test, config.loss) : null;
    const metrics: EpochMetrics = {
      epoch,
      loss: lossSum / seen,
      accuracy: hasAccuracy(config.loss) ? accSum / seen : null,
      testLoss: evaluated?.loss ?? null,
      testAccuracy: evaluated?.accuracy ?? null,
      seconds: (performance.now() - epochStart) / 1000,
      samplesPerSecond: seen / trainSeconds,
    };
    history.push(metrics);
    hooks.onEpoch?.(metrics);
  }
  return { weights, updates, history, batchLosses, batchesPerEpoch: batches, seconds: (performance.now() - start) / 1000 };

  /** Ends the run with `good`, the weights after `kept` updates. */
  function stop(epoch: number, batch: number, culprit: { loss: number } | { weight: string }, kept: number): TrainRun {
    return {
      weights: good, updates: Math.max(0, kept), history, batchLosses, batchesPerEpoch: batches,
      stopped: messages.diverged(epoch, batch, batches, culprit, config.optimizer.lr),
      seconds: (performance.now() - start) / 1000,
    };
  }
}

/**
 * Refuses, before anything is allocated, a run whose buffers would exceed the
 * memory budget (--max-memory). An estimate from the memory plan: a step
 * keeps every activation of the training graph for its backward and makes a
 * gradient of each (twice plan.ts's one-buffer-per-activation size); the
 * weights exist as themselves, the last good copy, their gradients and the
 * optimizer's slots; evaluation runs in its own arena; the data is loaded.
 */
function checkTrainingMemory(graph: Graph, trainGraph: Graph, evalGraph: Graph, config: TrainConfig, data: Split): void {
  const parameters = weightSlots(graph).reduce((n, { spec }) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
  const copies = 3 + slotCount(config.optimizer);
  const step = planMemory(trainGraph, Math.min(config.batch, data.train.n), { training: true }).naiveBytes * 2;
  const evaluation = data.test ? planMemory(evalGraph, Math.min(EVAL_BATCH, data.test.n)).plannedBytes : 0;
  const dataBytes = [data.train, data.test].reduce((sum, ds) => sum + (ds ? ds.x.byteLength + ds.y.byteLength : 0), 0);
  checkMemory(
    messages.trainingModel(graph.name, config.batch),
    [['activations and gradients', step + evaluation], ['weights and optimizer state', parameters * 4 * copies], ['data', dataBytes]],
    messages.smallerTrainBatch,
  );
}

/** Examples per evaluation batch. */
const EVAL_BATCH = 256;

/** Mean loss and accuracy of `weights` on a dataset, in inference mode, in chunks of `batch`. */
export function evaluate(graph: Graph, weights: Weights, ds: Dataset, loss: LossName, batch = EVAL_BATCH): { loss: number; accuracy: number | null } {
  // The weights stay as they are over the batches: their products' operands are packed once.
  const interpreter = new Interpreter(graph, weights, { prepack: true });
  const input = graph.inputs[0].name, output = graph.outputs[0].name;
  const score = new Score(loss, ds.n);
  try {
    // Each batch's predictions are scored before the next: the next run writes into them.
    let previous: Record<string, Tensor> | undefined;
    for (const { x, y } of batches(ds, batch)) {
      previous = interpreter.run({ [input]: x }, { into: previous }).outputs;
      score.add(previous[output], y);
    }
  } finally {
    interpreter.releasePackedWeights(); // training goes on with other weights: the memory goes back to its scratch
  }
  return score.result();
}

/** `evaluate` through another engine (ONNX Runtime: `dlc eval --engine ort`), whose runs are asynchronous. */
export async function evaluateWith(run: (inputs: Record<string, Tensor>) => Promise<Record<string, Tensor>>, graph: Graph, ds: Dataset, loss: LossName, batch = EVAL_BATCH): Promise<{ loss: number; accuracy: number | null }> {
  const input = graph.inputs[0].name, output = graph.outputs[0].name;
  const score = new Score(loss, ds.n);
  for (const { x, y } of batches(ds, batch)) score.add((await run({ [input]: x }))[output], y);
  return score.result();
}

/** The data set in order, `batch` examples at a time. */
function* batches(ds: Dataset, batch: number): Generator<{ x: Tensor; y: Tensor }> {
  const order = Uint32Array.from({ length: ds.n }, (_, i) => i);
  for (let start = 0; start < ds.n; start += batch) yield batchOf(ds, order, start, Math.min(ds.n, start + batch));
}

/** Mean loss and accuracy over batches of a data set of n examples. */
class Score {
  private lossSum = 0;
  private accSum = 0;
  constructor(
    private readonly loss: LossName,
    private readonly n: number,
  ) {}
  add(predictions: Tensor, y: Tensor): void {
    this.lossSum += lossAndGrad(this.loss, predictions, y).loss * predictions.shape[0];
    this.accSum += (accuracyOf(this.loss, predictions, y) ?? 0) * predictions.shape[0];
  }
  result(): { loss: number; accuracy: number | null } {
    return { loss: this.lossSum / this.n, accuracy: hasAccuracy(this.loss) ? this.accSum / this.n : null };
  }
}

const hasAccuracy = (loss: LossName) => loss !== 'mse';

/** A deep copy of the weights, reusing `into`'s buffers when given. */
function copyWeights(weights: Weights, into?: Weights): Weights {
  const copy: Weights = into ?? new Map();
  for (const [name, t] of weights) {
    const target = copy.get(name);
    if (target) target.data.set(t.data);
    else copy.set(name, { shape: [...t.shape], data: Float32Array.from(t.data) });
  }
  return copy;
}

function firstNonFinite(weights: Weights): string | undefined {
  for (const [name, t] of weights) if (!allFinite(t.data)) return name;
  return undefined;
}
