/**
 * The op registry: the one place that maps an op name to its contract.
 * Backends key their tables by `OpName` (`Record<OpName, ...>`, or a mapped
 * type over `AttrsOf`), so TypeScript reports an op a backend misses.
 */
import type { OpDef } from './op.js';
import { ACTIVATION_OPS } from './activations.js';
import attention from './attention.js';
import batchnorm from './batchnorm.js';
import { conv1d, conv2d } from './conv.js';
import { depthwise_conv2d, separable_conv2d } from './depthwise.js';
import { conv1d_transpose, conv2d_transpose } from './conv_transpose.js';
import dense from './dense.js';
import dropout from './dropout.js';
import embedding from './embedding.js';
import { constant, input } from './io.js';
import layernorm from './layernorm.js';
import { add, average, concat, maximum, minimum, multiply, subtract } from './merge.js';
import { avgpool, global_avgpool, global_maxpool, maxpool } from './pool.js';
import positional from './positional.js';
import { bidirectional, gru, lstm, rnn } from './recurrent.js';
import { flatten, reshape } from './shape.js';
import { cropping, upsampling, zero_padding } from './resize.js';
import { mean, permute, slice, sum, take } from './tensor.js';
import repeat_vector from './repeat_vector.js';
import result from './result.js';
import { fused_conv1d, fused_conv2d, fused_dense, fused_depthwise_conv2d, fused_separable_conv2d } from './fused.js';

export const OPS = {
  input, constant,
  dense, conv1d, conv2d, depthwise_conv2d, separable_conv2d,
  conv1d_transpose, conv2d_transpose,
  maxpool, avgpool, global_maxpool, global_avgpool,
  ...ACTIVATION_OPS,
  dropout, flatten, reshape, zero_padding, cropping, upsampling, add, concat,
  multiply, subtract, maximum, minimum, average,
  embedding, positional, rnn, lstm, gru, bidirectional, attention, layernorm, batchnorm,
  take, slice, permute, mean, sum,
  repeat_vector, result,
  fused_dense, fused_conv1d, fused_conv2d, fused_depthwise_conv2d, fused_separable_conv2d,
} satisfies Record<string, OpDef>;

export type OpName = keyof typeof OPS;

/** The resolved attribute record of op `K` (what its shape rule stores on the node). */
export type AttrsOf<K extends OpName> = (typeof OPS)[K] extends OpDef<infer A> ? A : never;

export function lookupOp(name: string): OpDef | undefined {
  return isOpName(name) ? OPS[name] : undefined;
}

export const isOpName = (name: string): name is OpName => Object.hasOwn(OPS, name);

/** Op names that .dl source may call. */
export const callableOps = (): OpName[] => (Object.keys(OPS) as OpName[]).filter((name) => !(OPS[name] as OpDef).internal);
