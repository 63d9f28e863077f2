/**
 * The independent reference for every activation of the table: Keras's
 * activation of the same name in TensorFlow.js (tf.layers.activation).
 * Keyed by the table's names, so a new row there needs one line here.
 */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from '../../../src/ops/activations.js';

/** tf.layers's name for each activation (Keras's silu is tfjs's swish). */
export const TFJS_NAME: Record<Activation, string> = {
  linear: 'linear',
  relu: 'relu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  silu: 'swish',
  gelu: 'gelu',
  mish: 'mish',
};

/** Keras's `name` applied to x (softmax over the last axis). */
export const kerasActivation =
  (name: Activation) =>
  (x: tf.Tensor): tf.Tensor =>
    tf.layers.activation({ activation: TFJS_NAME[name] as 'linear' }).apply(x) as tf.Tensor;
