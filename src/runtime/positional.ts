/**
 * The fixed sinusoidal position table (Vaswani et al., "Attention Is All You
 * Need"), which the interpreter adds (kernels/positional.ts), the optimizer
 * folds into constants and generated modules build as a tensor:
 *
 *   sinusoidalTable(T, d) -> [T, d],  pe[pos, 2i]   = sin(pos / 10000^(2i/d))
 *                                     pe[pos, 2i+1] = cos(pos / 10000^(2i/d))
 *
 * For odd d the last column is a sine with no cosine partner. Angles are
 * computed in float64 and rounded once.
 */
import type { Tensor } from './tensor.js';

export function sinusoidalTable(T: number, d: number): Tensor {
  const out = new Float32Array(T * d);
  for (let pos = 0; pos < T; pos++) {
    for (let j = 0; j < d; j++) {
      const pair = j - (j % 2); // 2i for both 2i and 2i+1
      const angle = pos / Math.pow(10000, pair / d);
      out[pos * d + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return { shape: [T, d], data: out };
}
