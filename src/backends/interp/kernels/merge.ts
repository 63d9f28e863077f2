/**
 * The broadcasting merges (src/ops/merge.ts): multiply, subtract, maximum,
 * minimum and average of tensors of one rank whose dimensions are equal or 1
 * (batch included: a constant holds one example). Inputs combine left to
 * right in float64 per element, as Keras's merge layers fold them:
 *
 *   multiply  x0 * x1 * ...        subtract  x0 - x1
 *   maximum   max(x0, x1, ...)     minimum   min(x0, x1, ...)
 *   average   (x0 + x1 + ...) / n
 *
 * broadcastShape gives the output shape; forEachBroadcast walks the output
 * with each input's offset, which the backward (grad/merge.ts) reuses.
 */
import type { MergeKind } from '../../../ops/merge.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, sizeOf } from '../tensor.js';

export function broadcastShape(shapes: readonly (readonly number[])[]): number[] {
  return shapes[0].map((_, i) => Math.max(...shapes.map((s) => s[i])));
}

/** Calls f(o, offsets) for every output index o, offsets[k] being input k's element there (0 stride on its dimensions of 1). */
export function forEachBroadcast(out: readonly number[], shapes: readonly (readonly number[])[], f: (o: number, offsets: Int32Array) => void): void {
  const rank = out.length;
  const strides = shapes.map((s) => {
    const st = new Array<number>(rank);
    for (let i = rank - 1, acc = 1; i >= 0; i--) {
      st[i] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  });
  const index = new Int32Array(rank);
  const offsets = new Int32Array(shapes.length);
  const n = sizeOf(out);
  for (let o = 0; o < n; o++) {
    f(o, offsets);
    // Advance the multi-index and every offset with it.
    for (let i = rank - 1; i >= 0; i--) {
      index[i]++;
      for (let k = 0; k < shapes.length; k++) offsets[k] += strides[k][i];
      if (index[i] < out[i]) break;
      for (let k = 0; k < shapes.length; k++) offsets[k] -= strides[k][i] * out[i];
      index[i] = 0;
    }
  }
}

export function merge(kind: MergeKind, xs: Tensor[], out?: Float32Array): Tensor {
  const shapes = xs.map((x) => x.shape);
  const shape = broadcastShape(shapes);
  const y = outputBuffer(out, sizeOf(shape), kind);
  const data = xs.map((x) => x.data);
  const n = xs.length;
  forEachBroadcast(shape, shapes, (o, at) => {
    let v = data[0][at[0]];
    for (let k = 1; k < n; k++) {
      const x = data[k][at[k]];
      if (kind === 'multiply') v *= x;
      else if (kind === 'subtract') v -= x;
      else if (kind === 'maximum') v = x > v ? x : v;
      else if (kind === 'minimum') v = x < v ? x : v;
      else v += x;
    }
    y[o] = kind === 'average' ? v / n : v;
  });
  return { shape, data: y };
}
