/**
 * From a compiled file to what a training run needs, in two steps so that a
 * caller can fetch data between them (the playground's worker loads the MNIST
 * digits only when the plan asks for them): the plan (the model and its train
 * section, overrides applied), then the data it names. The CLI's
 * prepareTraining (index.ts) is the two in a row.
 */
import type { CompiledFile } from '../compile.js';
import { specialize } from '../ir/infer.js';
import type { Graph } from '../ir/types.js';
import { selectTrainModel, trainConfig, type OptimizerSpec, type TrainConfig } from './config.js';
import { loadData, type Split } from './data.js';

/** What the command line may set over a train section. */
export interface TrainOverrides {
  model?: string;
  epochs?: number;
  lr?: number;
  seed?: number;
}

/** A compiled file's model to train and its train section, the command-line overrides applied; its data not loaded yet. */
export interface TrainingPlan {
  model: Graph;
  config: TrainConfig;
}

/** Picks the model of `compiled` to train and resolves its train section with `options` over it. */
export function trainingPlan(compiled: CompiledFile, options: TrainOverrides = {}): TrainingPlan {
  const model = selectTrainModel(compiled, options.model);
  const config = trainConfig(compiled, model);
  if (options.epochs !== undefined) config.epochs = options.epochs;
  if (options.seed !== undefined) config.seed = options.seed;
  if (options.lr !== undefined) config.optimizer = { ...config.optimizer, lr: options.lr };
  return { model, config };
}

/** Loads a plan's data; a model with dimension variables trains at the lengths its data has. */
export function loadTraining({ model, config }: TrainingPlan): { graph: Graph; config: TrainConfig; data: Split } {
  const data = loadData(config, model);
  return { graph: data.sizes ? specialize(model, data.sizes) : model, config, data };
}

/**
 * The metadata a trained weights file carries beside dlc's own (format, model):
 * the seed, loss and optimizer, and how far it trained: `epochs` when the run
 * finished, `updates` when it was interrupted.
 */
export function trainedMetadata(config: TrainConfig, progress: { epochs: number } | { updates: number }): Record<string, string> {
  const [key, value] = Object.entries(progress)[0]!;
  return { seed: `${config.seed}`, loss: config.loss, optimizer: optimizerText(config.optimizer), [key]: `${value}` };
}

/** An optimizer as dlc train prints it and weights files record it: `adam(lr = 0.001, ...)`. */
export function optimizerText(spec: OptimizerSpec): string {
  const { kind, ...args } = spec;
  return `${kind}(${Object.entries(args).map(([k, v]) => `${k} = ${v}`).join(', ')})`;
}
