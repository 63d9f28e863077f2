/**
 * Backward of the lookups (kernels/embedding.ts, kernels/positional.ts):
 *
 *   embedding   y[i, :] = table[id_i, :]     dtable[id, :] = sum over positions i with id_i = id of dy[i, :]
 *                                             (ids are integers: they get no gradient)
 *   positional  y[b, t] = x[b, t] + pe[t]    dx = dy;  for a learned table dpe[t] = sum_b dy[b, t]
 */
import type { Tensor } from '../tensor.js';
import { zeros } from './util.js';

export function embeddingBackward(ids: Tensor, dy: Tensor, tableShape: number[]): Tensor {
  const D = tableShape[1];
  const dt = zeros(tableShape[0] * D);
  const g = dy.data;
  for (let i = 0; i < ids.data.length; i++) {
    const row = ids.data[i] * D;
    for (let j = 0, src = i * D; j < D; j++, src++) dt[row + j] += g[src];
  }
  return { shape: [...tableShape], data: dt };
}

/** The learned table's gradient: the batch sum of dy [B, T, d], into a table [T' >= T, d]. */
export function positionalTableBackward(dy: Tensor, tableShape: number[]): Tensor {
  const [B, T, d] = dy.shape;
  const acc = new Float64Array(T * d);
  for (let b = 0; b < B; b++) for (let i = 0, src = b * T * d; i < T * d; i++, src++) acc[i] += dy.data[src];
  const dt = zeros(tableShape[0] * tableShape[1]);
  dt.set(acc);
  return { shape: [...tableShape], data: dt };
}
