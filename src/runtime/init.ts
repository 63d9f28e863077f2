/**
 * Parameter initialisers, Keras's defaults, deterministic for a given stream.
 * Pass each parameter its own named stream (`rng.child('dense_1/kernel')`) so
 * its values depend on the seed and its name only.
 *
 *   glorot_uniform  U(-l, l), l = sqrt(6 / (fan_in + fan_out))   Dense/Conv/RNN kernels
 *   orthogonal      an orthonormal matrix from the QR of a normal one      recurrent kernels
 *   zeros, ones                                                            biases, LayerNorm
 *   uniform         U(-0.05, 0.05)                                         Embedding tables
 *   lstm_bias       zeros, forget-gate quarter ones (unit_forget_bias)     LSTM bias [4u]
 *   { normal: s }   N(0, s^2), untruncated                                 the lecture's option
 *
 * The values follow Keras's distributions, not its exact numbers (the
 * generators differ).
 */
import type { Rng } from './random.js';
import { sizeOf, showShape } from './tensor.js';

/** The initialisers an op's parameter may name (ops/op.ts's ParamSpec.init). */
export type InitializerName = 'glorot_uniform' | 'orthogonal' | 'zeros' | 'ones' | 'uniform' | 'lstm_bias';

/** The ops' initialiser names plus the lecture's N(0, sigma^2). */
export type InitKind = InitializerName | { normal: number };

/**
 * What initialises a parameter named `init`: itself, or with `normalSigma`
 * (the lecture's option) N(0, sigma^2) for every kernel, biases and norms kept.
 */
export function initializerFor(init: InitializerName, normalSigma: number | undefined): InitKind {
  return normalSigma !== undefined && init !== 'zeros' && init !== 'ones' && init !== 'lstm_bias' ? { normal: normalSigma } : init;
}

/**
 * A parameter of `shape` drawn from `kind`, written into `out` (default: a new
 * array; else one of the shape's size, which is wholly overwritten).
 */
export function initialize(kind: InitKind, shape: number[], rng: Rng, out?: Float32Array): Float32Array {
  if (typeof kind === 'object') return normal(shape, kind.normal, rng, out);
  switch (kind) {
    case 'glorot_uniform':
      return glorotUniform(shape, rng, out);
    case 'orthogonal':
      return orthogonal(shape, rng, 1, out);
    case 'zeros':
      return zeros(shape, out);
    case 'ones':
      return ones(shape, out);
    case 'uniform':
      return randomUniform(shape, -0.05, 0.05, rng, out);
    case 'lstm_bias': {
      const [size = 0] = shape;
      if (shape.length !== 1 || size % 4 !== 0) throw new Error(`init: lstm_bias needs shape [4*units], got ${showShape(shape)}`);
      return lstmBias(size / 4, out);
    }
    default:
      throw new Error(`init: unknown initialiser ${JSON.stringify(kind)}`);
  }
}

/**
 * Keras's fans: [n] -> (n, n); [in, out] -> (in, out); a conv kernel
 * [...spatial, in, out] -> (in * r, out * r) with r the product of the spatial dims.
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const [n = 1] = shape;
  if (shape.length <= 1) return { fanIn: n, fanOut: n };
  const receptive = sizeOf(shape.slice(0, -2));
  const [inputs = 1, outputs = 1] = shape.slice(-2);
  return { fanIn: inputs * receptive, fanOut: outputs * receptive };
}

export function glorotUniform(shape: readonly number[], rng: Rng, out?: Float32Array): Float32Array {
  const { fanIn, fanOut } = fans(shape);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return randomUniform(shape, -limit, limit, rng, out);
}

/** Random values drawn per Rng.fill call: the same values as a uniform() call each, without a call per value. */
const UNIFORM_BLOCK = 4096;

export function randomUniform(shape: readonly number[], min: number, max: number, rng: Rng, out: Float32Array = new Float32Array(sizeOf(shape))): Float32Array {
  const bits = new Uint32Array(Math.min(UNIFORM_BLOCK, out.length));
  for (let i = 0; i < out.length; i += bits.length) {
    const block = bits.subarray(0, Math.min(bits.length, out.length - i));
    rng.fill(block);
    for (let j = 0; j < block.length; j++) out[i + j] = min + (max - min) * (block[j]! / 2 ** 32); // rng.uniform()'s value
  }
  return out;
}

export function normal(shape: readonly number[], sigma: number, rng: Rng, out: Float32Array = new Float32Array(sizeOf(shape))): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = sigma * rng.normal();
  return out;
}

export function zeros(shape: readonly number[], out: Float32Array = new Float32Array(sizeOf(shape))): Float32Array {
  return out.fill(0);
}

export function ones(shape: readonly number[], out: Float32Array = new Float32Array(sizeOf(shape))): Float32Array {
  return out.fill(1);
}

/** [4u]: zeros except the forget gate's quarter [u, 2u) (Keras's gate order i, f, c, o). */
export function lstmBias(units: number, out: Float32Array = new Float32Array(4 * units)): Float32Array {
  return out.fill(0).fill(1, units, 2 * units);
}

/**
 * Keras's Orthogonal: view the shape as [rows = prod(shape[:-1]), cols = shape[-1]],
 * draw a normal [max, min] matrix, orthonormalise its columns (Gram-Schmidt,
 * which is QR with a positive diagonal in R, i.e. Keras's sign correction),
 * and transpose when rows < cols. So rows are orthonormal when rows <= cols
 * (an LSTM's [u, 4u]) and columns are orthonormal otherwise.
 */
export function orthogonal(shape: readonly number[], rng: Rng, gain = 1, out: Float32Array = new Float32Array(sizeOf(shape))): Float32Array {
  if (shape.length < 2) throw new Error(`init: orthogonal needs at least 2 dimensions, got ${showShape(shape)}`);
  const rows = sizeOf(shape.slice(0, -1));
  const cols = shape[shape.length - 1]!;
  const n = Math.max(rows, cols);
  const m = Math.min(rows, cols);
  // Draw the [n, m] matrix row-major, but keep it by columns: q[j*n + i] = a[i, j].
  const q = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) q[j * n + i] = rng.normal();
  // Modified Gram-Schmidt in float64, column by column.
  for (let j = 0; j < m; j++) {
    const vj = j * n;
    for (let p = 0; p < j; p++) {
      const vp = p * n;
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[vp + i]! * q[vj + i]!;
      for (let i = 0; i < n; i++) q[vj + i]! -= dot * q[vp + i]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[vj + i]! * q[vj + i]!;
    norm = Math.sqrt(norm);
    if (norm === 0) throw new Error('init: orthogonal drew a singular matrix');
    for (let i = 0; i < n; i++) q[vj + i]! /= norm;
  }
  // Q as [n, m] is q by columns; rows >= cols wants Q itself, rows < cols wants Q^T [m, n].
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const value = gain * q[j * n + i]!;
      if (rows >= cols) out[i * cols + j] = value;
      else out[j * cols + i] = value;
    }
  }
  return out;
}
