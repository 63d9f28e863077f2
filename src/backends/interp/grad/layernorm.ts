/**
 * Backward of layerNorm (kernels/layernorm.ts), per row of d values:
 *
 *   forward   xhat = (x - mean) inv,  inv = 1 / sqrt(var + eps),  y = xhat gamma + beta
 *   dgamma = sum over rows of dy xhat      dbeta = sum over rows of dy
 *   dx = inv (g - mean(g) - xhat mean(g xhat)),   g = dy gamma
 *
 * The row statistics are recomputed here (a cheap pass), in float64 as the forward.
 */
import type { Tensor } from '../tensor.js';
import { buffer } from './util.js';

export interface LayerNormGrads {
  dx: Tensor | null;
  dGamma: Tensor;
  dBeta: Tensor;
}

export function layerNormBackward(x: Tensor, gamma: Tensor, epsilon: number, dy: Tensor, wantInput: boolean): LayerNormGrads {
  const d = x.shape[x.shape.length - 1];
  const xd = x.data, gd = gamma.data, g = dy.data;
  const dx = wantInput ? buffer(xd.length) : null;
  const dGamma = new Float64Array(d);
  const dBeta = new Float64Array(d);
  const xhat = new Float64Array(d);
  for (let start = 0; start < xd.length; start += d) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += xd[start + j];
    mean /= d;
    let variance = 0;
    for (let j = 0; j < d; j++) variance += (xd[start + j] - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + epsilon);
    let meanG = 0, meanGX = 0;
    for (let j = 0; j < d; j++) {
      xhat[j] = (xd[start + j] - mean) * inv;
      const gj = g[start + j] * gd[j];
      meanG += gj;
      meanGX += gj * xhat[j];
      dGamma[j] += g[start + j] * xhat[j];
      dBeta[j] += g[start + j];
    }
    if (!dx) continue;
    meanG /= d;
    meanGX /= d;
    for (let j = 0; j < d; j++) dx[start + j] = inv * (g[start + j] * gd[j] - meanG - xhat[j] * meanGX);
  }
  return {
    dx: dx && { shape: [...x.shape], data: dx },
    dGamma: { shape: [...gamma.shape], data: rounded(dGamma) },
    dBeta: { shape: [...gamma.shape], data: rounded(dBeta) },
  };
}

function rounded(sums: Float64Array): Float32Array {
  const out = buffer(sums.length);
  out.set(sums);
  return out;
}
