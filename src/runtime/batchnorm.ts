/**
 * Batch normalization folded into the linear layer before it (dense, conv1d,
 * conv2d, depthwise, separable's pointwise step), as the optimizer does at inference: for each output channel c,
 *
 *   s[c]       = gamma[c] / sqrt(moving_variance[c] + epsilon)
 *   kernel'[.., c] = kernel[.., c] s[c]
 *   bias'[c]   = (bias[c] - moving_mean[c]) s[c] + beta[c]
 *
 * so that layer'(x) = batchnorm(layer(x)) with the moving statistics. The
 * kernel's last axis is the output channels (Keras's layout; a depthwise
 * kernel [kh, kw, C, dm] flattens its last two axes to output channel
 * c dm + m, so the same rule scales it); a missing bias
 * is 0, gamma 1 (scale = false) and beta 0 (center = false). Computed in
 * float64 and rounded once. The interpreter (backends/interp/weights.ts) and
 * generated modules (copied in) derive their folded weights with it.
 */
import type { Tensor } from './tensor.js';

/** The weights of one folded layer: the layer's own and its batchnorm's. */
export interface BatchNormFoldInputs {
  kernel: Float32Array;
  bias: Float32Array | null;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

/** `into` receives the folded kernel: a fresh array by default, or `w.kernel` itself (each value is read before it is written). */
export function foldBatchNorm(w: BatchNormFoldInputs, kernelShape: readonly number[], epsilon: number, into: Float32Array = new Float32Array(w.kernel.length)): { kernel: Tensor; bias: Tensor } {
  const channels = w.movingMean.length;
  const s = new Float64Array(channels);
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    s[c] = (w.gamma ? w.gamma[c]! : 1) / Math.sqrt(w.movingVariance[c]! + epsilon);
    bias[c] = ((w.bias ? w.bias[c]! : 0) - w.movingMean[c]!) * s[c]! + (w.beta ? w.beta[c]! : 0);
  }
  const kernel = into;
  for (let i = 0; i < kernel.length; i++) kernel[i] = w.kernel[i]! * s[i % channels]!;
  return { kernel: { shape: [...kernelShape], data: kernel }, bias: { shape: [channels], data: bias } };
}
