/**
 * Backward of batch normalization in training (kernels/batchnorm.ts), per
 * channel over its N = count values, with xhat and 1/sqrt(var + eps) kept by
 * the forward:
 *
 *   dgamma = sum dy xhat        dbeta = sum dy
 *   dx = invStd / N (N g - sum g - xhat sum(g xhat)),   g = dy gamma
 *
 * (the batch mean and variance depend on x, so every value's gradient sees
 * the whole channel). Sums in float64.
 */
import type { BatchNormAttrs } from '../../../ops/batchnorm.js';
import type { BatchNormTrace } from '../kernels/batchnorm.js';
import type { Tensor } from '../tensor.js';
import { buffer } from './util.js';

export interface BatchNormGrads {
  dx: Tensor | null;
  dGamma: Tensor;
  dBeta: Tensor;
}

export function batchNormBackward(a: BatchNormAttrs, trace: BatchNormTrace, gamma: Tensor | null, dy: Tensor, wantInput: boolean): BatchNormGrads {
  const { channels, inner } = a;
  const { xhat, invStd, count } = trace;
  const g = dy.data;
  const sumDy = new Float64Array(channels);
  const sumDyXhat = new Float64Array(channels);
  const runs = (f: (start: number, c: number) => void) => {
    for (let start = 0, c = 0; start < g.length; start += inner, c = c + 1 === channels ? 0 : c + 1) f(start, c);
  };
  runs((start, c) => {
    let s = 0, sx = 0;
    for (let i = start; i < start + inner; i++) {
      s += g[i];
      sx += g[i] * xhat[i];
    }
    sumDy[c] += s;
    sumDyXhat[c] += sx;
  });
  let dx: Float32Array | null = null;
  if (wantInput) {
    dx = buffer(g.length);
    const out = dx;
    runs((start, c) => {
      const k = ((gamma ? gamma.data[c] : 1) * invStd[c]) / count;
      const s = sumDy[c], sx = sumDyXhat[c];
      for (let i = start; i < start + inner; i++) out[i] = k * (count * g[i] - s - xhat[i] * sx);
    });
  }
  return {
    dx: dx && { shape: [...dy.shape], data: dx },
    dGamma: { shape: [channels], data: rounded(sumDyXhat) },
    dBeta: { shape: [channels], data: rounded(sumDy) },
  };
}

/** Float64 sums rounded to float32, in the step's memory. */
function rounded(sums: Float64Array): Float32Array {
  const out = buffer(sums.length);
  for (let i = 0; i < sums.length; i++) out[i] = sums[i];
  return out;
}
