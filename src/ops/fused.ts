/**
 * Fused ops, made only by the optimizer (never written in source): a dense or
 * convolution layer with its activation applied in the same pass over memory,
 * as tf.fused.matMul / tf.fused.conv2d do. Shape, parameters and FLOPs are the
 * base op's, and so is the resolved attribute record (its `activation` is the
 * fused one); the layer keeps the base layer's name, so its weights keep theirs.
 *
 * At inference a batchnorm on the layer's output channels may be folded in
 * too (passes/rules.ts, fold-batchnorm): the node then also holds the
 * batchnorm's parameters, under the batchnorm's layer name (so weights files
 * keep Keras's separate names and parameter counts do not change), and the
 * backends run the layer with the kernel and bias derived from them once, when
 * weights are bound (runtime/batchnorm.ts). Such a node never trains.
 */
import { type Activation, FUSABLE_ACTIVATIONS } from './activations.js';
import batchnorm from './batchnorm.js';
import { conv1d, conv2d } from './conv.js';
import dense from './dense.js';
import { depthwise_conv2d, separable_conv2d } from './depthwise.js';
import { defineOp, OpDef, ParamSpec } from './op.js';

/** A batchnorm folded into a layer: its layer name and what its parameters are. */
export interface FoldedBatchNorm {
  layer: string;
  /** The layer's weight scaled per output channel: 'kernel', depthwise's 'depthwise_kernel', separable's 'pointwise_kernel'. */
  kernel: string;
  epsilon: number;
  center: boolean;
  scale: boolean;
}

/** The parameters of a folded batchnorm, as the batchnorm itself lists them, under its own layer name. */
function foldedParams(bn: FoldedBatchNorm, channels: number): ParamSpec[] {
  return batchnorm.params!({ axis: 0, channels, outer: 1, inner: 1, last: true, momentum: 0, epsilon: bn.epsilon, center: bn.center, scale: bn.scale }).map((p) => ({ ...p, layer: bn.layer }));
}

function fused<A extends { activation: Activation }>(base: OpDef<A>, channels: (a: A) => number, kernel = 'kernel'): OpDef<A & { batchnorm?: FoldedBatchNorm }> {
  return defineOp<A & { batchnorm?: FoldedBatchNorm }>({
    ...(base as OpDef<A & { batchnorm?: FoldedBatchNorm }>),
    name: `fused_${base.name}`,
    doc: `${base.name} with its activation (and at inference a following batchnorm) fused in.`,
    internal: true,
    attrs: [
      ...base.attrs.filter((spec) => spec.name !== 'activation'),
      { name: 'activation', type: { kind: 'symbol', choices: FUSABLE_ACTIVATIONS }, doc: 'the fused activation' },
      { name: 'batchnorm', type: { kind: 'op' }, optional: true, doc: 'a batchnorm folded in: its epsilon, center, scale and layer name' },
    ],
    infer(ctx) {
      const { type, attrs } = base.infer(ctx);
      if (ctx.attrs.batchnorm === undefined) return { type, attrs };
      const bn = ctx.call('batchnorm').attrs;
      return { type, attrs: { ...attrs, batchnorm: { layer: bn.layer as string, kernel, epsilon: bn.epsilon as number, center: bn.center as boolean, scale: bn.scale as boolean } } };
    },
    params: (a) => [...(base.params?.(a) ?? []), ...(a.batchnorm ? foldedParams(a.batchnorm, channels(a)) : [])],
    label: (a) => [base.label?.(a) ?? '', a.batchnorm ? 'bn' : '', a.activation === 'linear' ? '' : a.activation].filter(Boolean).join(' + '),
  });
}

export const fused_dense = fused(dense, (a) => a.units);
export const fused_conv1d = fused(conv1d, (a) => a.filters);
export const fused_conv2d = fused(conv2d, (a) => a.filters);
export const fused_depthwise_conv2d = fused(depthwise_conv2d, (a) => a.filters, 'depthwise_kernel');
export const fused_separable_conv2d = fused(separable_conv2d, (a) => a.filters, 'pointwise_kernel');
