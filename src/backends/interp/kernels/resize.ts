/**
 * Zero padding and cropping as one copy: the output window of a [B, H, W, C]
 * (or [B, L, C]) tensor at an offset,
 *
 *   shiftCopy(x, outSpatial, offsets) -> y[b, i, j, c] = x[b, i + di, j + dj, c]
 *
 * zero outside the input. Padding by `before` is the offset -before; cropping
 * by `before` is +before. Each is the other's backward.
 */
import type { Tensor } from '../tensor.js';
import { outputBuffer } from '../tensor.js';

export function shiftCopy(x: Tensor, outSpatial: readonly number[], offsets: readonly number[], out?: Float32Array): Tensor {
  const [B] = x.shape;
  const C = x.shape[x.shape.length - 1];
  const [H, W] = x.shape.length === 4 ? [x.shape[1], x.shape[2]] : [1, x.shape[1]];
  const [OH, OW] = outSpatial.length === 2 ? outSpatial : [1, outSpatial[0]];
  const [di, dj] = offsets.length === 2 ? offsets : [0, offsets[0]];
  const y = outputBuffer(out, B * OH * OW * C, 'shiftCopy');
  y.fill(0);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      const si = i + di;
      if (si < 0 || si >= H) continue;
      // The output columns whose source column is inside the input, copied as one run.
      const j0 = Math.max(0, -dj), j1 = Math.min(OW, W - dj);
      if (j1 <= j0) continue;
      const from = ((b * H + si) * W + j0 + dj) * C;
      y.set(x.data.subarray(from, from + (j1 - j0) * C), ((b * OH + i) * OW + j0) * C);
    }
  }
  return { shape: [B, ...outSpatial, C], data: y };
}
