/**
 * Fixed sinusoidal position encoding (Vaswani et al., "Attention Is All You Need"):
 *
 *   sinusoidalTable(T, d) -> [T, d],  pe[pos, 2i]   = sin(pos / 10000^(2i/d))
 *                                     pe[pos, 2i+1] = cos(pos / 10000^(2i/d))
 *   addPositional(x [B, T, d], table [T', d]) -> x + table[:T]   (T' >= T)
 *
 * For odd d the last column is a sine with no cosine partner. Angles are
 * computed in float64 and rounded once. `out`: the planned output buffer
 * (tensor.ts's outputBuffer).
 */
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { internal } from '../../../diagnostics.js';

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

export function addPositional(x: Tensor, table: Tensor, out?: Float32Array): Tensor {
  if (x.shape.length !== 3 || table.shape.length !== 2 || table.shape[1] !== x.shape[2] || table.shape[0] < x.shape[1]) {
    throw internal(`addPositional: table ${showShape(table.shape)} does not cover input ${showShape(x.shape)}`);
  }
  const [B, T, d] = x.shape;
  const span = T * d;
  const data = outputBuffer(out, B * span, 'addPositional');
  const xd = x.data, td = table.data;
  for (let b = 0; b < B; b++) {
    for (let i = 0, o = b * span; i < span; i++, o++) data[o] = xd[o] + td[i];
  }
  return { shape: [B, T, d], data };
}
