/**
 * What dlc's two optimizers share: the interpreter's (src/train/optimizers.ts,
 * Float32Array loops) and generated modules' (support.ts's createUpdater, tf
 * ops on tf.Variables). The spec, the state each keeps, the step size and the
 * weight decay are defined here; the elementwise update is written once per
 * backend, since one loops over arrays and the other composes tf ops.
 */
import type { LossName } from './losses.js';

/**
 * An optimizer with Keras's update rules (keras.optimizers.SGD and Adam), g the
 * gradient of the loss for weight w:
 *
 *   sgd:   v = momentum * v - lr * g;   w += v           (momentum 0: w -= lr * g)
 *   adam:  t += 1;  lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *          m += (1 - beta1) * (g - m);  v += (1 - beta2) * (g^2 - v)
 *          w -= lr_t * m / (sqrt(v) + epsilon)
 *
 * (tf.train.adam adds epsilon to the bias-corrected sqrt(v) instead, which
 * differs for small gradients, so neither backend uses it.) Weight decay is
 * Keras's L2 regulariser on every kernel: the loss gains decay * sum(w^2), so
 * g gains 2 * decay * w (decayFactor).
 */
export type OptimizerSpec =
  | { kind: 'sgd'; lr: number; momentum: number }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; epsilon: number };

/**
 * The settings of a training run that `dlc train` and generated modules'
 * `train()` share: the loss, the optimizer and the loop's numbers. The
 * interpreter's TrainConfig (src/train/config.ts) adds where the data comes from.
 */
export interface TrainingSettings {
  loss: LossName;
  optimizer: OptimizerSpec;
  epochs: number;
  batch: number;
  /** L2 factor: the loss gains weight_decay * sum(w^2) over every kernel. */
  weightDecay: number;
  /** Seeds the initial weights, the data split, the shuffling and dropout. */
  seed: number;
}

/** Whether L2 weight decay applies to a weight (kernels only, as Keras's kernel_regularizer). */
export const isDecayed = (name: string): boolean => name.endsWith('kernel');

/** The factor of w that weight decay adds to the gradient of weight `name`: 2 * weightDecay for kernels, else 0. */
export function decayFactor(name: string, weightDecay: number): number {
  return isDecayed(name) ? 2 * weightDecay : 0;
}

/** How many arrays of state each weight keeps: adam's m and v, sgd's velocity v when it has momentum. */
export function slotCount(spec: OptimizerSpec): number {
  return spec.kind === 'adam' ? 2 : spec.momentum > 0 ? 1 : 0;
}

/** The step size of update number t (from 1): lr, or for adam lr_t, which folds in both bias corrections. */
export function stepSize(spec: OptimizerSpec, t: number): number {
  return spec.kind === 'adam' ? (spec.lr * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t) : spec.lr;
}
