/**
 * Shape-preserving and joining kernels.
 *
 *   relu, sigmoid, tanh (x) -> same shape, elementwise
 *   softmax(x [..., n])     -> same shape, each last-axis row normalised (max subtracted first)
 *   activate(x, act)        -> any of the above by name (see activation.ts)
 *   add(xs)                 -> elementwise sum of tensors of one shape; an input
 *                              with batch 1 (a constant: one example) is repeated
 *                              over the others' batch; with { relu }, relu(sum),
 *                              in the same pass where the kernel allows
 *   concat(xs, axis)        -> join along `axis` (negative counts from the end)
 *   dropout(x, rate, rng)   -> inverted dropout: each unit zeroed with probability
 *                              `rate`, survivors scaled by 1 / (1 - rate)
 *
 * Each takes an optional argument `out`, the planned output buffer (see
 * tensor.ts's outputBuffer; dropout's last is `keep`, its stream's values). Dropout is the training-time behaviour; at
 * inference the caller simply does not call it.
 */
import type { Activation, ActivationArgs } from './activation.js';
import { activateInto } from './activation.js';
import type { Rng } from '../../../runtime/random.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, sameShape, showShape } from '../tensor.js';
import { internal } from '../../../diagnostics.js';
import { withScratch } from '../wasm/heap.js';
import { addWasm, dropoutMaskWasm, heap } from '../wasm/index.js';

/** `p`: the activation's arguments (default: its bare name's). */
export function activate(x: Tensor, act: Activation, out?: Float32Array, p?: ActivationArgs): Tensor {
  const data = outputBuffer(out, x.data.length, act);
  const width = x.shape.length === 0 ? 1 : x.shape[x.shape.length - 1];
  activateInto(data, x.data, act, width, 0, undefined, p);
  return { shape: [...x.shape], data };
}

export const relu = (x: Tensor, out?: Float32Array): Tensor => activate(x, 'relu', out);
export const sigmoid = (x: Tensor, out?: Float32Array): Tensor => activate(x, 'sigmoid', out);
export const tanh = (x: Tensor, out?: Float32Array): Tensor => activate(x, 'tanh', out);
export const softmax = (x: Tensor, out?: Float32Array): Tensor => activate(x, 'softmax', out);

/** `relu`: the relu after the sum (the interpreter's add and relu run as one, plan.ts fusedAddRelus), the same values as apart. */
export function add(xs: Tensor[], out?: Float32Array, { relu = false } = {}): Tensor {
  if (xs.length === 0) throw internal('add: needs at least one input');
  const differ = (a: Tensor, b: Tensor) => internal(`add: shapes ${showShape(a.shape)} and ${showShape(b.shape)} differ`);
  for (const x of xs) {
    if (x.shape.length !== xs[0].shape.length || !sameShape(x.shape.slice(1), xs[0].shape.slice(1))) throw differ(xs[0], x);
  }
  if (xs[0].shape.length === 0) return { shape: [], data: sumInto(outputBuffer(out, 1, 'add'), xs, 1, relu) };
  const batch = Math.max(...xs.map((x) => x.shape[0]));
  const widest = xs.find((x) => x.shape[0] === batch)!;
  for (const x of xs) if (x.shape[0] !== batch && x.shape[0] !== 1) throw differ(widest, x);
  const shape = [batch, ...xs[0].shape.slice(1)];
  const n = (xs[0].data.length / Math.max(xs[0].shape[0], 1)) * batch;
  return { shape, data: sumInto(outputBuffer(out, n, 'add'), xs, n, relu) };
}

/** data[0, n) = the sum of xs, each repeated to fill n floats (a batch-1 input over the batch), and relu'd with `relu`. */
function sumInto(data: Float32Array, xs: Tensor[], n: number, relu: boolean): Float32Array {
  const first = xs[0].data;
  if (xs.length === 2 && first.length === n && xs[1].data.length === n) {
    const second = xs[1].data;
    if (addWasm(data.subarray(0, n), first, second, relu)) return data;
    for (let i = 0; i < n; i++) data[i] = first[i] + second[i];
  } else sumAll(data, xs, n);
  if (relu) activateInto(data, data, 'relu', n, 0, 1);
  return data;
}

/** data[0, n) = the sum of xs, each repeated to fill n floats. */
function sumAll(data: Float32Array, xs: Tensor[], n: number): void {
  for (let t = 0; t < xs.length; t++) {
    const d = xs[t].data;
    const m = d.length;
    if (m === 0) continue;
    if (t === 0) for (let i = 0; i < n; i += m) data.set(d, i);
    else for (let i = 0, j = 0; i < n; i++, j = j + 1 === m ? 0 : j + 1) data[i] += d[j];
  }
}

export function concat(xs: Tensor[], axis: number, out?: Float32Array): Tensor {
  if (xs.length === 0) throw internal('concat: needs at least one input');
  const rank = xs[0].shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= rank) throw internal(`concat: axis ${axis} out of range for rank ${rank}`);
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw internal(`concat: shapes ${showShape(xs[0].shape)} and ${showShape(x.shape)} differ off axis ${axis}`);
    }
  }
  // View each input as [outer, width] with width = its axis size times the inner size;
  // the output interleaves those rows.
  const outer = xs[0].shape.slice(0, ax).reduce((n, d) => n * d, 1);
  const inner = xs[0].shape.slice(ax + 1).reduce((n, d) => n * d, 1);
  const widths = xs.map((x) => x.shape[ax] * inner);
  const outWidth = widths.reduce((n, w) => n + w, 0);
  const data = outputBuffer(out, outer * outWidth, 'concat');
  for (let i = 0, offset = 0; i < xs.length; offset += widths[i], i++) {
    const w = widths[i];
    const d = xs[i].data;
    for (let r = 0; r < outer; r++) {
      for (let j = 0, from = r * w, to = r * outWidth + offset; j < w; j++) data[to + j] = d[from + j];
    }
  }
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((n, x) => n + x.shape[ax], 0);
  return { shape, data };
}

/**
 * Inverted dropout of x with the stream's next x.length values (rng). With
 * `keep`, the values are drawn there and left there for the backward
 * (dropoutBackward masks dy with them); else they are scratch.
 */
export function dropout(x: Tensor, rate: number, rng: Rng, out?: Float32Array, keep?: Uint32Array): Tensor {
  if (!(rate >= 0 && rate < 1)) throw internal(`dropout: rate must be in [0, 1), got ${rate}`);
  const data = outputBuffer(out, x.data.length, 'dropout');
  const masked = (values: Uint32Array) => {
    rng.fill(values);
    applyMask(x.data, data, rate, values);
  };
  if (keep) masked(keep);
  else withScratch(heap(), (take) => masked(bitsOf(take(x.data.length))));
  return { shape: [...x.shape], data };
}

/** A float array's bytes as 32-bit unsigned integers. */
export function bitsOf(floats: Float32Array): Uint32Array {
  return new Uint32Array(floats.buffer, floats.byteOffset, floats.length);
}

/**
 * to[i] = from[i] / (1 - rate), or +0 where the stream's value values[i] is
 * below `rate` as a uniform (values[i] / 2^32 < rate: dropped, whatever
 * from[i] is, an infinity or NaN too). The drop zeroes the value's bits with
 * a mask made from the comparison, not a branch: the branch was mispredicted
 * half the time at rate 0.5, which made the loop three times slower.
 * uniform < rate is compared as value < rate * 2^32, which is exact.
 * Dropout's forward and backward share it, the backward with the forward's
 * values; in the kernel's memory it runs in WebAssembly (dropoutMaskWasm).
 */
export function applyMask(from: Float32Array, to: Float32Array, rate: number, values: Uint32Array): void {
  if (dropoutMaskWasm(from, to, rate, values)) return;
  const scale = 1 / (1 - rate);
  const threshold = rate * 2 ** 32;
  const bits = bitsOf(to);
  for (let i = 0; i < to.length; i++) {
    const keep = -(values[i] >= threshold); // -1 (all bits) or -0 (none)
    to[i] = from[i] * scale;
    bits[i] &= keep;
  }
}
