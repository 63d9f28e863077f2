/**
 * Layer normalisation over the last axis, as Keras's LayerNormalization
 * with its default axis=-1:
 *
 *   layerNorm(x [..., d], gamma [d], beta [d], epsilon) -> [..., d]
 *   y = (x - mean) / sqrt(var + epsilon) * gamma + beta
 *
 * with the biased variance (divide by d). Keras's default epsilon is 1e-3.
 * Statistics are accumulated in float64. `out`: the planned output buffer
 * (tensor.ts's outputBuffer). With the WebAssembly kernels, gemm.wat's
 * layer_norm computes it (its float64 sums in two lanes); this loop is the
 * reference it is tested against.
 */
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { internal } from '../../../diagnostics.js';
import { layerNormWasm } from '../wasm/index.js';

export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number, out?: Float32Array): Tensor {
  const d = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || gamma.data.length !== d || beta.data.length !== d) {
    throw internal(
      `layerNorm: gamma ${showShape(gamma.shape)} and beta ${showShape(beta.shape)} must match the last axis of ${showShape(x.shape)}`,
    );
  }
  const xd = x.data;
  const g = gamma.data;
  const bt = beta.data;
  const data = outputBuffer(out, xd.length, 'layerNorm');
  if (layerNormWasm(data, xd, g, bt, d, epsilon)) return { shape: [...x.shape], data };
  for (let start = 0; start < xd.length; start += d) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += xd[start + j];
    mean /= d;
    let variance = 0;
    for (let j = 0; j < d; j++) {
      const c = xd[start + j] - mean;
      variance += c * c;
    }
    variance /= d;
    const inv = 1 / Math.sqrt(variance + epsilon);
    for (let j = 0; j < d; j++) data[start + j] = (xd[start + j] - mean) * inv * g[j] + bt[j];
  }
  return { shape: [...x.shape], data };
}
