/**
 * Batch normalization (src/ops/batchnorm.ts for the semantics), on data laid
 * out as [groups, channels, inner] per the op's resolved geometry, where
 * groups = batch * outer: the statistics of channel c run over every group
 * and inner position.
 *
 *   batchNormInference(x, g, a, gamma, beta, mean, variance) -> y
 *       y = (x - mean) / sqrt(variance + eps) * gamma + beta, per channel
 *   batchNormTraining(x, a, gamma, beta, out, trace) -> { y, mean, variance, trace }
 *       the batch's mean and biased variance (float64 sums), y from them,
 *       and, when asked, what the backward needs
 *   movingAverageInto(dst, moving, value, momentum)
 *       dst = moving - (moving - value) (1 - momentum), Keras's update
 *
 * gamma and beta may be null (scale = false, center = false).
 */
import type { BatchNormAttrs } from '../../../ops/batchnorm.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer } from '../tensor.js';

/** Calls f(start, c) for the start of every contiguous run of `inner` values of channel c. */
function forEachRun(n: number, a: BatchNormAttrs, f: (start: number, c: number) => void): void {
  const { channels, inner } = a;
  for (let start = 0, c = 0; start < n; start += inner, c = c + 1 === channels ? 0 : c + 1) f(start, c);
}

export function batchNormInference(
  x: Tensor,
  a: BatchNormAttrs,
  gamma: Tensor | null,
  beta: Tensor | null,
  mean: Tensor,
  variance: Tensor,
  out?: Float32Array,
): Tensor {
  const { channels, inner, epsilon } = a;
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma ? gamma.data[c] : 1) / Math.sqrt(variance.data[c] + epsilon);
    shift[c] = (beta ? beta.data[c] : 0) - mean.data[c] * scale[c];
  }
  const xd = x.data;
  const y = outputBuffer(out, xd.length, 'batchnorm');
  if (inner === 1) {
    // Channels last (the usual case): one call of forEachRun's callback per value would cost 4x the arithmetic.
    for (let i = 0; i < xd.length; i += channels) for (let c = 0; c < channels; c++) y[i + c] = xd[i + c] * scale[c] + shift[c];
  } else
    forEachRun(xd.length, a, (start, c) => {
      const s = scale[c], t = shift[c];
      for (let i = start; i < start + inner; i++) y[i] = xd[i] * s + t;
    });
  return { shape: [...x.shape], data: y };
}

export interface BatchNormTrace {
  /** The normalised input (x - mean) / sqrt(var + eps), before gamma and beta. */
  xhat: Float32Array;
  invStd: Float64Array;
  /** Values per channel in the batch. */
  count: number;
}

export function batchNormTraining(
  x: Tensor,
  a: BatchNormAttrs,
  gamma: Tensor | null,
  beta: Tensor | null,
  out?: Float32Array,
  /** Keep the normalised values for a backward pass: true in a new buffer, or in the one given. */
  trace: boolean | Float32Array = true,
): { y: Tensor; mean: Float64Array; variance: Float64Array; trace?: BatchNormTrace } {
  const { channels, inner, epsilon } = a;
  const xd = x.data;
  const count = xd.length / channels;
  const sum = new Float64Array(channels);
  forEachRun(xd.length, a, (start, c) => {
    let s = 0;
    for (let i = start; i < start + inner; i++) s += xd[i];
    sum[c] += s;
  });
  const mean = sum.map((s) => s / count);
  const squares = new Float64Array(channels);
  forEachRun(xd.length, a, (start, c) => {
    let s = 0;
    const m = mean[c];
    for (let i = start; i < start + inner; i++) s += (xd[i] - m) ** 2;
    squares[c] += s;
  });
  const variance = squares.map((s) => s / count);
  const invStd = variance.map((v) => 1 / Math.sqrt(v + epsilon));
  // The normalised values are kept only for a backward pass.
  const xhat = trace === true ? new Float32Array(xd.length) : trace || null;
  const y = outputBuffer(out, xd.length, 'batchnorm');
  forEachRun(xd.length, a, (start, c) => {
    const m = mean[c], inv = invStd[c];
    const g = gamma ? gamma.data[c] : 1, b = beta ? beta.data[c] : 0;
    for (let i = start; i < start + inner; i++) {
      const h = (xd[i] - m) * inv;
      if (xhat) xhat[i] = h;
      y[i] = h * g + b;
    }
  });
  return { y: { shape: [...x.shape], data: y }, mean, variance, trace: xhat ? { xhat, invStd, count } : undefined };
}

/** Keras's moving-average update, elementwise: dst = moving - (moving - value) (1 - momentum). */
export function movingAverageInto(dst: Float32Array, moving: Float32Array, value: Float64Array, momentum: number): void {
  for (let i = 0; i < dst.length; i++) dst[i] = moving[i] - (moving[i] - value[i]) * (1 - momentum);
}
