/**
 * The activation table: one row per activation function, holding everything
 * every part of dlc needs to know of it. Adding an activation is one row here
 * plus its tests; TypeScript then points at nothing else, because every
 * consumer reads the row:
 * - `forward` / `backward`: the interpreter's reference semantics (float64 per
 *   element, float32 storage), from which its kernels, constant folding and
 *   training derive;
 * - `wasm`: the WebAssembly kernel that computes it, if there is one
 *   (gemm.wat's `activate` code, or its per-row softmax), and whether the GEMM
 *   applies it in its epilogue; without one the TypeScript `forward` runs;
 * - `tfjs`: the TensorFlow.js expression, and the name tf.fused.* takes when
 *   it can apply the activation itself;
 * - `fusable`: whether the optimizer may fuse it into a preceding dense or
 *   conv (only activations whose backward needs just the output y, since a
 *   fused layer does not keep its pre-activation);
 * - `op`: whether .dl source may call it as a layer (`linear` is only the
 *   "no activation" of dense and conv).
 *
 * `forward` writes dst[start, end) from src over the same range (dst may be
 * src); a row-wise activation (softmax) works on rows of `width`, the last
 * axis. `backward` writes dx from dy and either the output y or the input x.
 */
import { defineOp, type OpDef } from './op.js';

export interface ActivationDef {
  /** The formula, for the op reference and hovers. */
  doc: string;
  op: boolean;
  forward(dst: Float32Array, src: Float32Array, start: number, end: number, width: number): void;
  backward: {
    /** What the derivative is a function of: the forward's output or its input. */
    from: 'y' | 'x';
    into(dx: Float32Array, v: Float32Array, dy: Float32Array, start: number, end: number, width: number): void;
  };
  wasm?: {
    /** gemm.wat's `activate` code, or its `softmax_rows` kernel. */
    forward: number | 'softmax_rows';
    /** gemm.wat's `relu_grad`, where the backward has a kernel. */
    backward?: 'relu_grad';
    /** The GEMM applies it in its epilogue (the RELU flag). */
    epilogue?: boolean;
  };
  tfjs: {
    /** The expression applied to tensor expression `x`. */
    apply: (x: string) => string;
    /** The name tf.fused.matMul / conv2d take to apply it themselves. */
    fused?: string;
  };
  fusable: boolean;
}

/** The sigmoid 1 / (1 + e^-x) of one number; e^-x overflows to Infinity for x < -88, giving the correct limit 0. */
export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Keras's SELU constants (Klambauer et al. 2017). */
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** ln(1 + e^x) without overflow for large x or loss of precision for very negative x. */
function softplusOf(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * The error function, to about 1.2e-7 relative error (Numerical Recipes'
 * Chebyshev fit of erfc), well inside float32's precision.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc : erfc - 1;
}

export const ACTIVATIONS = {
  // y = x; dx = dy.
  linear: {
    doc: 'x',
    op: false,
    forward: (dst, src, start, end) => {
      if (dst !== src) dst.set(src.subarray(start, end), start);
    },
    backward: {
      from: 'y',
      into: (dx, _y, dy, start, end) => {
        if (dx !== dy) dx.set(dy.subarray(start, end), start);
      },
    },
    tfjs: { apply: (x) => x, fused: 'linear' },
    fusable: false,
  },
  // y = max(0, x); dx = dy [y > 0] (0 at the kink, as TensorFlow).
  relu: {
    doc: 'max(0, x)',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) {
        const v = src[i];
        dst[i] = v < 0 ? 0 : v;
      }
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
      },
    },
    wasm: { forward: 0, backward: 'relu_grad', epilogue: true },
    tfjs: { apply: (x) => `tf.relu(${x})`, fused: 'relu' },
    fusable: true,
  },
  // y = 1 / (1 + e^-x); dx = dy y (1 - y).
  sigmoid: {
    doc: '1 / (1 + e^-x)',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = logistic(src[i]);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
      },
    },
    wasm: { forward: 1 },
    tfjs: { apply: (x) => `tf.sigmoid(${x})`, fused: 'sigmoid' },
    fusable: true,
  },
  // y = tanh x; dx = dy (1 - y^2).
  tanh: {
    doc: '(e^x - e^-x) / (e^x + e^-x)',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = Math.tanh(src[i]);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
      },
    },
    wasm: { forward: 2 },
    tfjs: { apply: (x) => `tf.tanh(${x})` },
    fusable: true,
  },
  // y = min(max(0, x), 6); dx = dy [0 < y < 6].
  relu6: {
    doc: 'min(max(0, x), 6)',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = Math.min(Math.max(src[i], 0), 6);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = y[i] > 0 && y[i] < 6 ? dy[i] : 0;
      },
    },
    tfjs: { apply: (x) => `tf.relu6(${x})`, fused: 'relu6' },
    fusable: true,
  },
  // y = x for x > 0, e^x - 1 otherwise (Keras's alpha = 1); dx = dy for y > 0, dy (y + 1) otherwise.
  elu: {
    doc: 'x if x > 0, else e^x - 1',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = src[i] > 0 ? src[i] : Math.expm1(src[i]);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * (y[i] + 1);
      },
    },
    tfjs: { apply: (x) => `tf.elu(${x})`, fused: 'elu' },
    fusable: true,
  },
  // y = s x for x > 0, s a (e^x - 1) otherwise, with Keras's constants; dx = dy s for y > 0, dy (y + s a) otherwise.
  selu: {
    doc: '1.0507 x if x > 0, else 1.0507 * 1.6733 (e^x - 1)',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = src[i] > 0 ? SELU_SCALE * src[i] : SELU_SCALE * SELU_ALPHA * Math.expm1(src[i]);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = y[i] > 0 ? dy[i] * SELU_SCALE : dy[i] * (y[i] + SELU_SCALE * SELU_ALPHA);
      },
    },
    tfjs: { apply: (x) => `tf.selu(${x})` },
    fusable: true,
  },
  // y = ln(1 + e^x), computed without overflow; dx = dy sigmoid(x).
  softplus: {
    doc: 'ln(1 + e^x)',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = softplusOf(src[i]);
    },
    backward: {
      from: 'x',
      into: (dx, x, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = dy[i] * logistic(x[i]);
      },
    },
    tfjs: { apply: (x) => `tf.softplus(${x})` },
    fusable: false,
  },
  // y = x / (1 + |x|); dx = dy (1 - |y|)^2.
  softsign: {
    doc: 'x / (1 + |x|)',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = src[i] / (1 + Math.abs(src[i]));
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = dy[i] * (1 - Math.abs(y[i])) ** 2;
      },
    },
    tfjs: { apply: (x) => `tf.div(${x}, tf.add(1, tf.abs(${x})))` },
    fusable: true,
  },
  // y = x sigmoid(x) (Keras's silu, also called swish); dx = dy (s + x s (1 - s)), s = sigmoid(x).
  silu: {
    doc: 'x / (1 + e^-x), also called swish',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = src[i] * logistic(src[i]);
    },
    backward: {
      from: 'x',
      into: (dx, x, dy, start, end) => {
        for (let i = start; i < end; i++) {
          const s = logistic(x[i]);
          dx[i] = dy[i] * (s + x[i] * s * (1 - s));
        }
      },
    },
    tfjs: { apply: (x) => `tf.mul(${x}, tf.sigmoid(${x}))` },
    fusable: false,
  },
  // y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, the exact GELU (Keras's approximate = False); dx = dy (Phi(x) + x phi(x)).
  gelu: {
    doc: 'x (1 + erf(x / sqrt(2))) / 2',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = 0.5 * src[i] * (1 + erf(src[i] / Math.SQRT2));
    },
    backward: {
      from: 'x',
      into: (dx, x, dy, start, end) => {
        for (let i = start; i < end; i++) {
          const v = x[i];
          dx[i] = dy[i] * (0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI));
        }
      },
    },
    tfjs: { apply: (x) => `tf.mul(tf.mul(0.5, ${x}), tf.add(1, tf.erf(tf.div(${x}, Math.SQRT2))))` },
    fusable: false,
  },
  // y = x tanh(softplus(x)); dx = dy (t + x (1 - t^2) sigmoid(x)), t = tanh(softplus(x)).
  mish: {
    doc: 'x tanh(ln(1 + e^x))',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = src[i] * Math.tanh(softplusOf(src[i]));
    },
    backward: {
      from: 'x',
      into: (dx, x, dy, start, end) => {
        for (let i = start; i < end; i++) {
          const t = Math.tanh(softplusOf(x[i]));
          dx[i] = dy[i] * (t + x[i] * (1 - t * t) * logistic(x[i]));
        }
      },
    },
    tfjs: { apply: (x) => `tf.mul(${x}, tf.tanh(tf.softplus(${x})))` },
    fusable: false,
  },
  // y = e^x / sum e^x per row (stable: the row's max subtracted, summed in float64); dx = y (dy - sum_j dy_j y_j).
  softmax: {
    doc: 'e^x / sum(e^x) over the last axis',
    op: true,
    forward: (dst, src, start, end, width) => {
      for (let r = start; r < end; r += width) softmaxRow(dst, src, r, width);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end, width) => {
        for (let r = start; r < end; r += width) {
          let dot = 0;
          for (let i = r; i < r + width; i++) dot += dy[i] * y[i];
          for (let i = r; i < r + width; i++) dx[i] = y[i] * (dy[i] - dot);
        }
      },
    },
    wasm: { forward: 'softmax_rows' },
    tfjs: { apply: (x) => `tf.softmax(${x})` },
    fusable: false,
  },
} satisfies Record<string, ActivationDef>;

export type Activation = keyof typeof ACTIVATIONS;

/** The row of `name`, as the general row type (its optional fields readable). */
export const activationDef = (name: Activation): ActivationDef => ACTIVATIONS[name];

/** The activations the optimizer fuses into a preceding dense or conv. */
export const FUSABLE_ACTIVATIONS = (Object.keys(ACTIVATIONS) as Activation[]).filter((a) => ACTIVATIONS[a].fusable);

export const isActivation = (name: string): name is Activation => Object.hasOwn(ACTIVATIONS, name);

/** Numerically stable softmax of `src[start, start + n)` into dst: subtract the max, sum in float64. */
function softmaxRow(dst: Float32Array, src: Float32Array, start: number, n: number): void {
  const end = start + n;
  let max = -Infinity;
  for (let i = start; i < end; i++) if (src[i] > max) max = src[i];
  let sum = 0;
  for (let i = start; i < end; i++) {
    const e = Math.exp(src[i] - max);
    dst[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = start; i < end; i++) dst[i] *= inv;
}

/** The layer of an activation that source may call: shape-preserving, no parameters. */
function activationOp(name: Activation): OpDef<ActivationAttrs> {
  return defineOp({
    name,
    family: 'activation',
    doc: ACTIVATIONS[name].doc,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [],
    infer: (ctx) => ({ type: ctx.input, attrs: { activation: name } }),
  });
}

/** The activations source may call as layers: those whose row says `op: true`. */
export type ActivationOpName = { [K in Activation]: (typeof ACTIVATIONS)[K]['op'] extends true ? K : never }[Activation];
export type ActivationAttrs = { activation: Activation };

export const ACTIVATION_OP_NAMES = (Object.keys(ACTIVATIONS) as Activation[]).filter((a): a is ActivationOpName => ACTIVATIONS[a].op);

/** One op per callable activation, generated from the table. */
export const ACTIVATION_OPS = Object.fromEntries(ACTIVATION_OP_NAMES.map((a) => [a, activationOp(a)])) as {
  [K in ActivationOpName]: OpDef<ActivationAttrs>;
};

/**
 * A backend table's entries for every callable activation op: the same
 * function for each (it reads the activation from the node's attributes), so
 * that a new row in ACTIVATIONS needs no new entry anywhere.
 */
export const activationOpTable = <F>(entry: F): Record<ActivationOpName, F> =>
  Object.fromEntries(ACTIVATION_OP_NAMES.map((a) => [a, entry])) as Record<ActivationOpName, F>;
