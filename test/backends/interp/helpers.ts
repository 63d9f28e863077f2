/**
 * Shared test utilities: random tensors, conversion to TensorFlow.js, and a
 * closeness check that reports the worst element.
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { Rng } from '../../../src/runtime/random.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { sizeOf } from '../../../src/backends/interp/tensor.js';

/** Uniform on [-scale, scale). */
export function randTensor(shape: number[], rng: Rng, scale = 1): Tensor {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (2 * rng.uniform() - 1) * scale;
  return { shape, data };
}

export function toTf(t: Tensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, 'float32');
}

/** Read a tfjs tensor back as ours (and dispose it). */
export function fromTf(t: tf.Tensor): Tensor {
  const out = { shape: [...t.shape], data: t.dataSync() as Float32Array };
  t.dispose();
  return out;
}

/**
 * Every element within `tol` relatively or absolutely: |a - e| <= tol * max(1, |e|).
 * The default 1e-5 is a few float32 ulps of accumulated rounding.
 */
export function expectClose(actual: Tensor, expected: Tensor | tf.Tensor, tol = 1e-5): void {
  const exp = expected instanceof tf.Tensor ? fromTf(expected) : expected;
  expect(actual.shape).toEqual(exp.shape);
  expect(actual.data.length).toBe(exp.data.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < exp.data.length; i++) {
    const e = exp.data[i];
    const a = actual.data[i];
    const excess = Math.abs(a - e) - tol * Math.max(1, Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(a))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `element ${worst} of ${exp.data.length}: got ${actual.data[worst]}, expected ${exp.data[worst]} (tol ${tol})`,
    );
  }
}

export async function useTfCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** The recurrent layers' test grid: batch, steps, input width and units, each with every sequences/reverse combination. */
export const RECURRENT_CASES = [
  { B: 2, T: 5, inDim: 3, units: 4 },
  { B: 3, T: 7, inDim: 6, units: 9 },
  { B: 1, T: 1, inDim: 2, units: 5 },
].flatMap((s) =>
  [
    { sequences: false, reverse: false },
    { sequences: true, reverse: false },
    { sequences: false, reverse: true },
    { sequences: true, reverse: true },
  ].map((f) => ({ ...s, ...f })),
);
