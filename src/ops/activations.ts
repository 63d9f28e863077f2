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
