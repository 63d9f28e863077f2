/**
 * Zero padding and cropping as one copy: the output window of a [B, H, W, C]
 * (or [B, L, C]) tensor at an offset,
 *
 *   shiftCopy(x, outSpatial, offsets) -> y[b, i, j, c] = x[b, i + di, j + dj, c]
 *
 * zero outside the input. Padding by `before` is the offset -before; cropping
 * by `before` is +before. Each is the other's backward.
 *
 *   upsampleNearest(x, size) -> each cell repeated size[i] times along axis i
 *   upsampleNearestBackward(dy, inputShape, size) -> the sums over those repeats
 *   upsampleBilinear(x [B,H,W,C], size) -> [B, H*sh, W*sw, C], interpolated
 *   upsampleBilinearBackward(dy, inputShape, size) -> its adjoint
 */
import type { Tensor } from '../tensor.js';
import { outputBuffer } from '../tensor.js';
import { bilinearTaps } from '../../../runtime/upsample.js';

export function shiftCopy(x: Tensor, outSpatial: readonly number[], offsets: readonly number[], out?: Float32Array): Tensor {
  const [B] = x.shape;
  const C = x.shape[x.shape.length - 1];
  const [H, W] = x.shape.length === 4 ? [x.shape[1], x.shape[2]] : [1, x.shape[1]];
  const [OH, OW] = outSpatial.length === 2 ? outSpatial : [1, outSpatial[0]];
  const [di, dj] = offsets.length === 2 ? offsets : [0, offsets[0]];
  const y = outputBuffer(out, B * OH * OW * C, 'shiftCopy');
  // The output columns whose source column is inside the input, copied as one run a row;
  // only the cells around it are zeroed (zeroing all of y first took as long as the copy).
  const j0 = Math.min(OW, Math.max(0, -dj)), j1 = Math.max(j0, Math.min(OW, W - dj));
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      const si = i + di;
      const row = (b * OH + i) * OW * C;
      if (si < 0 || si >= H || j1 === j0) {
        y.fill(0, row, row + OW * C);
        continue;
      }
      const from = ((b * H + si) * W + j0 + dj) * C;
      y.fill(0, row, row + j0 * C);
      y.set(x.data.subarray(from, from + (j1 - j0) * C), row + j0 * C);
      y.fill(0, row + j1 * C, row + OW * C);
    }
  }
  return { shape: [B, ...outSpatial, C], data: y };
}

/** Nearest-neighbour upsampling of [B, H, W, C] (or [B, L, C]): y[b, i, j, c] = x[b, floor(i / sh), floor(j / sw), c]. */
export function upsampleNearest(x: Tensor, size: readonly number[], out?: Float32Array): Tensor {
  const [B] = x.shape;
  const C = x.shape[x.shape.length - 1];
  const [H, W] = x.shape.length === 4 ? [x.shape[1], x.shape[2]] : [1, x.shape[1]];
  const [sh, sw] = size.length === 2 ? size : [1, size[0]];
  const [OH, OW] = [H * sh, W * sw];
  const y = outputBuffer(out, B * OH * OW * C, 'upsampling');
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      const row = (b * H + Math.floor(i / sh)) * W;
      for (let j = 0; j < OW; j++) {
        const from = (row + Math.floor(j / sw)) * C;
        y.set(x.data.subarray(from, from + C), ((b * OH + i) * OW + j) * C);
      }
    }
  }
  return { shape: [B, ...(x.shape.length === 4 ? [OH, OW] : [OW]), C], data: y };
}

/** upsampleNearest's backward: each input cell sums the gradients of the sh x sw cells it was copied to. */
export function upsampleNearestBackward(dy: Tensor, inputShape: readonly number[], size: readonly number[]): Tensor {
  const [B] = inputShape;
  const C = inputShape[inputShape.length - 1];
  const [H, W] = inputShape.length === 4 ? [inputShape[1], inputShape[2]] : [1, inputShape[1]];
  const [sh, sw] = size.length === 2 ? size : [1, size[0]];
  const [OH, OW] = [H * sh, W * sw];
  const dx = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      const row = (b * H + Math.floor(i / sh)) * W;
      for (let j = 0; j < OW; j++) {
        const to = (row + Math.floor(j / sw)) * C;
        const from = ((b * OH + i) * OW + j) * C;
        for (let c = 0; c < C; c++) dx[to + c] += dy.data[from + c];
      }
    }
  }
  return { shape: [...inputShape], data: dx };
}

/** Bilinear upsampling of [B, H, W, C]: each output cell blends the 2 x 2 input cells of bilinearTaps (runtime/upsample.ts), rows then columns. */
export function upsampleBilinear(x: Tensor, size: readonly number[], out?: Float32Array): Tensor {
  const [B, H, W, C] = x.shape;
  const [OH, OW] = [H * size[0], W * size[1]];
  const rows = bilinearTaps(H, size[0]), cols = bilinearTaps(W, size[1]);
  const y = outputBuffer(out, B * OH * OW * C, 'upsampling');
  const xd = x.data;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      const top = (b * H + rows.lo[i]) * W, bottom = (b * H + rows.hi[i]) * W, wy = rows.w[i];
      for (let j = 0; j < OW; j++) {
        const l = cols.lo[j] * C, r = cols.hi[j] * C, wx = cols.w[j];
        const tl = top * C + l, tr = top * C + r, bl = bottom * C + l, br = bottom * C + r;
        const at = ((b * OH + i) * OW + j) * C;
        for (let c = 0; c < C; c++) {
          const upper = xd[tl + c] + (xd[tr + c] - xd[tl + c]) * wx;
          const lower = xd[bl + c] + (xd[br + c] - xd[bl + c]) * wx;
          y[at + c] = upper + (lower - upper) * wy;
        }
      }
    }
  }
  return { shape: [B, OH, OW, C], data: y };
}

/** upsampleBilinear's backward: each output cell's gradient goes back to its four input cells with the forward's weights. */
export function upsampleBilinearBackward(dy: Tensor, inputShape: readonly number[], size: readonly number[]): Tensor {
  const [B, H, W, C] = inputShape;
  const [OH, OW] = [H * size[0], W * size[1]];
  const rows = bilinearTaps(H, size[0]), cols = bilinearTaps(W, size[1]);
  const dx = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < OH; i++) {
      const top = (b * H + rows.lo[i]) * W, bottom = (b * H + rows.hi[i]) * W, wy = rows.w[i];
      for (let j = 0; j < OW; j++) {
        const l = cols.lo[j] * C, r = cols.hi[j] * C, wx = cols.w[j];
        const tl = top * C + l, tr = top * C + r, bl = bottom * C + l, br = bottom * C + r;
        const [wtl, wtr, wbl, wbr] = [(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx];
        const at = ((b * OH + i) * OW + j) * C;
        for (let c = 0; c < C; c++) {
          const g = dy.data[at + c];
          dx[tl + c] += g * wtl;
          dx[tr + c] += g * wtr;
          dx[bl + c] += g * wbl;
          dx[br + c] += g * wbr;
        }
      }
    }
  }
  return { shape: [...inputShape], data: dx };
}
