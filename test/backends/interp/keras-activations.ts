/**
 * The independent reference for every activation of the table: Keras's
 * activation of the same name in TensorFlow.js, as a tf.layers layer holding
 * the same arguments (tf.layers.activation, reLU({maxValue}),
 * leakyReLU({alpha}), elu, softmax). Where tfjs has no layer with Keras 3's
 * meaning (hard_sigmoid, hard_swish: tfjs's hardSigmoid is Keras 2's
 * clip(0.2 x + 0.5); relu's negative_slope and threshold; elu's alpha other
 * than 1; softmax on another axis than the last) the reference is Keras 3's
 * definition written out in tf ops. Keyed by the table's names, so a new row
 * there needs one line here.
 */
import * as tf from '@tensorflow/tfjs';
import { type Activation, type ActivationArgs, nameArgs } from '../../../src/ops/activations.js';

/** tf.layers's name for each activation it has with Keras 3's meaning and default arguments (Keras's silu is tfjs's swish). */
export const TFJS_NAME: Partial<Record<Activation, string>> = {
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
  swish: 'swish',
  gelu: 'gelu',
  mish: 'mish',
};

type Fn = (x: tf.Tensor) => tf.Tensor;
const num = (p: ActivationArgs, name: string) => p[name] as number;
const relu6 = (x: tf.Tensor) => tf.minimum(tf.maximum(x, 0), 6);

/** tf.layers's layer computing `name` with arguments `p`, where tfjs has one; else undefined. */
export function kerasLayer(name: Activation, p: ActivationArgs = nameArgs(name)): Fn | undefined {
  const apply = (layer: tf.layers.Layer) => (x: tf.Tensor) => layer.apply(x) as tf.Tensor;
  switch (name) {
    case 'relu':
      if (num(p, 'negative_slope') !== 0 || num(p, 'threshold') !== 0) return undefined;
      return apply(tf.layers.reLU(num(p, 'max_value') === Infinity ? {} : { maxValue: num(p, 'max_value') }));
    case 'leaky_relu':
      return apply(tf.layers.leakyReLU({ alpha: num(p, 'negative_slope') }));
    case 'elu':
      return num(p, 'alpha') === 1 ? apply(tf.layers.elu()) : undefined;
    case 'softmax':
      // tfjs's softmax normalises the last axis only.
      return num(p, 'axis') === -1 ? apply(tf.layers.softmax({ axis: -1 })) : undefined;
    case 'gelu':
      return apply(tf.layers.activation({ activation: (p.approximate ? 'gelu_new' : 'gelu') as 'linear' }));
    default: {
      const tfjsName = TFJS_NAME[name];
      return tfjsName === undefined ? undefined : apply(tf.layers.activation({ activation: tfjsName as 'linear' }));
    }
  }
}

/** Keras 3's definitions written out (keras/src/activations/activations.py), where tfjs has no layer. */
function kerasFormula(name: Activation, p: ActivationArgs): Fn {
  switch (name) {
    case 'hard_sigmoid':
      return (x) => tf.div(relu6(tf.add(x, 3)), 6);
    case 'hard_swish':
      return (x) => tf.mul(x, tf.div(relu6(tf.add(x, 3)), 6));
    case 'relu': {
      // x [x > t] clipped to [0, max_value], minus negative_slope relu(t - x).
      const m = num(p, 'max_value'), s = num(p, 'negative_slope'), t = num(p, 'threshold');
      return (x) => tf.sub(tf.clipByValue(tf.mul(x, tf.step(tf.sub(x, t))), 0, m === Infinity ? 3e38 : m), tf.mul(s, tf.relu(tf.sub(t, x))));
    }
    case 'elu':
      return (x) => tf.add(tf.relu(x), tf.mul(num(p, 'alpha'), tf.sub(tf.exp(tf.minimum(x, 0)), 1)));
    case 'softmax':
      return (x) => {
        const e = tf.exp(tf.sub(x, tf.max(x, num(p, 'axis'), true)));
        return tf.div(e, tf.sum(e, num(p, 'axis'), true));
      };
    default:
      throw new Error(`keras-activations: no reference for ${name}`);
  }
}

/** Keras's `name` with arguments `p` (default: the bare name's) applied to x: tf.layers where it has the layer, else Keras 3's formula. */
export const kerasActivation = (name: Activation, p: ActivationArgs = nameArgs(name)): Fn => kerasLayer(name, p) ?? kerasFormula(name, p);
