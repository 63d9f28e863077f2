/**
 * Shape-preserving and joining kernels.
 *
 *   relu, sigmoid, tanh (x) -> same shape, elementwise
 *   softmax(x [..., n])     -> same shape, each last-axis row normalised (max subtracted first)
 *   activate(x, act)        -> any of the above by name (see activation.ts)
 *   add(xs)                 -> elementwise sum of tensors of one shape
 *   concat(xs, axis)        -> join along `axis` (negative counts from the end)
 *   dropout(x, rate, rng)   -> inverted dropout: each unit zeroed with probability
 *                              `rate`, survivors scaled by 1 / (1 - rate)
 *
 * Dropout is the training-time behaviour; at inference the caller simply
 * does not call it.
 */
import type { Activation } from './activation.js';
import { activateInPlace } from './activation.js';
import type { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { sameShape, showShape } from '../tensor.js';

export function activate(x: Tensor, act: Activation): Tensor {
  const data = x.data.slice();
  const width = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1];
  activateInPlace(data, act, width);
  return { shape: [...x.shape], data };
}

export const relu = (x: Tensor): Tensor => activate(x, 'relu');
export const sigmoid = (x: Tensor): Tensor => activate(x, 'sigmoid');
export const tanh = (x: Tensor): Tensor => activate(x, 'tanh');
export const softmax = (x: Tensor): Tensor => activate(x, 'softmax');

export function add(xs: Tensor[]): Tensor {
  if (xs.length === 0) throw new Error('add: needs at least one input');
  const shape = xs[0].shape;
  for (const x of xs) {
    if (!sameShape(x.shape, shape)) throw new Error(`add: shapes ${showShape(shape)} and ${showShape(x.shape)} differ`);
  }
  const out = xs[0].data.slice();
  for (let t = 1; t < xs.length; t++) {
    const d = xs[t].data;
    for (let i = 0; i < out.length; i++) out[i] += d[i];
  }
  return { shape: [...shape], data: out };
}

export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one input');
  const rank = xs[0].shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= rank) throw new Error(`concat: axis ${axis} out of range for rank ${rank}`);
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(`concat: shapes ${showShape(xs[0].shape)} and ${showShape(x.shape)} differ off axis ${axis}`);
    }
  }
  // View each input as [outer, width] with width = its axis size times the inner size;
  // the output interleaves those rows.
  const outer = xs[0].shape.slice(0, ax).reduce((n, d) => n * d, 1);
  const inner = xs[0].shape.slice(ax + 1).reduce((n, d) => n * d, 1);
  const widths = xs.map((x) => x.shape[ax] * inner);
  const outWidth = widths.reduce((n, w) => n + w, 0);
  const out = new Float32Array(outer * outWidth);
  for (let i = 0, offset = 0; i < xs.length; offset += widths[i], i++) {
    const w = widths[i];
    const d = xs[i].data;
    for (let r = 0; r < outer; r++) out.set(d.subarray(r * w, (r + 1) * w), r * outWidth + offset);
  }
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((n, x) => n + x.shape[ax], 0);
  return { shape, data: out };
}

export function dropout(x: Tensor, rate: number, rng: Rng): Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  const out = new Float32Array(x.data.length);
  const scale = 1 / (1 - rate);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform() < rate ? 0 : x.data[i] * scale;
  return { shape: [...x.shape], data: out };
}
