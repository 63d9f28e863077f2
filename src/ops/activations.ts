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
 *   "no activation" of dense and conv);
 * - `args`: Keras's arguments (relu's max_value, leaky_relu's negative_slope,
 *   elu's alpha, gelu's approximate, softmax's axis). The op resolves them
 *   into its attributes and every path above receives them as `p`. Where a
 *   bare name stands for an activation (dense's and conv's `activation =`,
 *   rnn's f, the kernels' own calls) it means the arguments of Keras's string
 *   form, `nameArgs`; only those are fused or run in WebAssembly.
 *
 * `forward` writes dst[start, end) from src over the same range (dst may be
 * src); softmax works on rows of `width`, the last axis, or along the axis
 * its arguments give. `backward` writes dx from dy and either the output y or
 * the input x.
 */
import { shapeRules } from '../diagnostics.js';
import { type AttrSpec, defineOp, dims, type OpContext, type OpDef, product } from './op.js';

/**
 * One activation's resolved arguments, by Keras's names. Every row function
 * receives them complete (defaults filled in); a row without arguments gets {}.
 */
export type ActivationArgs = Readonly<Record<string, number | boolean>>;

export interface ActivationDef {
  /** The formula, for the op reference and hovers. */
  doc: string;
  op: boolean;
  /**
   * The arguments of the Keras layer, with its names and defaults (Keras 3);
   * the op takes them and they become its resolved attributes. An optional
   * number without a default is Keras's None: no bound (Infinity).
   */
  args?: readonly AttrSpec[];
  /**
   * What a bare name means where Keras takes a string (`activation = ...` on
   * dense and conv, rnn's f): the Keras function's defaults, where they differ
   * from the layer's.
   */
  byName?: ActivationArgs;
  /** Checks the arguments against the input and normalises them (softmax's axis). */
  resolve?(p: ActivationArgs, ctx: OpContext): ActivationArgs;
  forward(dst: Float32Array, src: Float32Array, start: number, end: number, width: number, p: ActivationArgs): void;
  backward: {
    /** What the derivative is a function of: the forward's output or its input (which may depend on the arguments). */
    from: 'y' | 'x' | ((p: ActivationArgs) => 'y' | 'x');
    into(dx: Float32Array, v: Float32Array, dy: Float32Array, start: number, end: number, width: number, p: ActivationArgs): void;
  };
  /** WebAssembly kernels, which compute the activation with the arguments of its bare name (and those forArgs names). */
  wasm?: {
    /** gemm.wat's `activate` code, or its `softmax_rows` kernel. */
    forward: number | 'softmax_rows';
    /** The `activate` code for other arguments, where there is one. */
    forArgs?: (p: ActivationArgs) => number | undefined;
    /** gemm.wat's `relu_grad`, where the backward has a kernel. */
    backward?: 'relu_grad';
    /** The GEMM applies it in its epilogue: gemm.wat's store flag of that name. */
    epilogue?: 'relu' | 'relu6';
  };
  tfjs: {
    /** The expression applied to tensor expression `x`, with arguments `p`. */
    apply: (x: string, p: ActivationArgs) => string;
    /** The name tf.fused.matMul / conv2d take to apply it themselves (with the bare name's arguments). */
    fused?: string;
  };
  /**
   * Whether the optimizer may fuse it into a preceding dense or conv. Only
   * activations whose backward (with the bare name's arguments) needs just
   * the output y, since a fused layer does not keep its pre-activation.
   */
  fusable: boolean;
}

const num = (p: ActivationArgs, name: string) => p[name] as number;

/** The sigmoid 1 / (1 + e^-x) of one number; e^-x overflows to Infinity for x < -88, giving the correct limit 0. */
export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Keras's SELU constants (Klambauer et al. 2017). */
export const SELU_SCALE = 1.0507009873554805;
export const SELU_ALPHA = 1.6732632423543772;

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

// y = x sigmoid(x) (Keras's silu, also called swish); dx = dy (s + x s (1 - s)), s = sigmoid(x).
const SILU = {
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
} satisfies ActivationDef;

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
  // y = max(0, x); dx = dy [y > 0] (0 at the kink, as TensorFlow). Keras's ReLU layer's
  // arguments m = max_value, s = negative_slope, t = threshold (as keras.activations.relu
  // computes it): y = min(x, m) for x > t, s (x - t) otherwise; dx = dy for t < x < m,
  // dy s for x < t, else 0: a function of x, since y does not tell the pieces apart.
  relu: {
    doc: 'max(0, x); with arguments min(x, max_value) for x > threshold, else negative_slope (x - threshold)',
    op: true,
    args: [
      { name: 'max_value', type: { kind: 'number' }, optional: true, doc: 'the largest output (default: none)' },
      { name: 'negative_slope', type: { kind: 'number', min: 0 }, default: 0, doc: 'the slope below the threshold' },
      { name: 'threshold', type: { kind: 'number', min: 0 }, default: 0, doc: 'the input below which the output is negative_slope (x - threshold)' },
    ],
    resolve: (p, ctx) => {
      if (num(p, 'max_value') < 0) ctx.fail(shapeRules.negativeMaxValue(num(p, 'max_value')));
      return p;
    },
    forward: (dst, src, start, end, _w, p) => {
      if (isPlainRelu(p)) {
        for (let i = start; i < end; i++) {
          const v = src[i];
          dst[i] = v < 0 ? 0 : v;
        }
        return;
      }
      const m = num(p, 'max_value'), s = num(p, 'negative_slope'), t = num(p, 'threshold');
      for (let i = start; i < end; i++) dst[i] = src[i] > t ? Math.min(src[i], m) : s * (src[i] - t);
    },
    backward: {
      from: (p) => (isPlainRelu(p) ? 'y' : 'x'),
      into: (dx, v, dy, start, end, _w, p) => {
        if (isPlainRelu(p)) {
          for (let i = start; i < end; i++) dx[i] = v[i] > 0 ? dy[i] : 0;
          return;
        }
        const m = num(p, 'max_value'), s = num(p, 'negative_slope'), t = num(p, 'threshold');
        for (let i = start; i < end; i++) dx[i] = v[i] > t ? (v[i] < m ? dy[i] : 0) : v[i] < t ? dy[i] * s : 0;
      },
    },
    wasm: { forward: 0, backward: 'relu_grad', epilogue: 'relu' },
    tfjs: {
      apply: (x, p) => {
        if (isPlainRelu(p)) return `tf.relu(${x})`;
        const m = num(p, 'max_value'), s = num(p, 'negative_slope'), t = num(p, 'threshold');
        // As keras.activations.relu: x [x > t] clipped to [0, m], minus s relu(t - x); tf.step, not tf.greater, so that tf.grad runs.
        const gated = t === 0 ? `tf.relu(${x})` : `tf.mul(${x}, tf.step(tf.sub(${x}, ${t})))`;
        const above = m === Infinity ? gated : `tf.clipByValue(${gated}, 0, ${m})`;
        return s === 0 ? above : `tf.sub(${above}, tf.mul(${s}, tf.relu(tf.sub(${t}, ${x}))))`;
      },
      fused: 'relu',
    },
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
    wasm: { forward: 3, epilogue: 'relu6' },
    tfjs: { apply: (x) => `tf.relu6(${x})`, fused: 'relu6' },
    fusable: true,
  },
  // y = x for x > 0, s x otherwise (Keras's LeakyReLU layer, negative_slope = 0.3; Keras 2
  // called it alpha); dx = dy for y > 0, dy s otherwise. keras.activations.leaky_relu, which
  // Keras's string 'leaky_relu' names, defaults to 0.2: so does the bare name here.
  leaky_relu: {
    doc: 'x if x > 0, else negative_slope x',
    op: true,
    args: [{ name: 'negative_slope', type: { kind: 'number', min: 0 }, default: 0.3, doc: 'the slope for x < 0 (Keras 2: alpha)' }],
    byName: { negative_slope: 0.2 },
    forward: (dst, src, start, end, _w, p) => {
      const s = num(p, 'negative_slope');
      for (let i = start; i < end; i++) dst[i] = src[i] > 0 ? src[i] : s * src[i];
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end, _w, p) => {
        const s = num(p, 'negative_slope');
        for (let i = start; i < end; i++) dx[i] = y[i] > 0 ? dy[i] : s * dy[i];
      },
    },
    tfjs: { apply: (x, p) => `tf.leakyRelu(${x}, ${num(p, 'negative_slope')})` },
    fusable: true,
  },
  // y = x for x > 0, a (e^x - 1) otherwise (Keras's ELU alpha, default 1); dx = dy for
  // y > 0, dy (y + a) otherwise (y > 0 iff x > 0 because a >= 0).
  elu: {
    doc: 'x if x > 0, else alpha (e^x - 1)',
    op: true,
    args: [{ name: 'alpha', type: { kind: 'number', min: 0 }, default: 1, doc: 'the scale of the negative part' }],
    forward: (dst, src, start, end, _w, p) => {
      const a = num(p, 'alpha');
      for (let i = start; i < end; i++) dst[i] = src[i] > 0 ? src[i] : a * Math.expm1(src[i]);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end, _w, p) => {
        const a = num(p, 'alpha');
        for (let i = start; i < end; i++) dx[i] = y[i] > 0 ? dy[i] : dy[i] * (y[i] + a);
      },
    },
    tfjs: { apply: (x, p) => (num(p, 'alpha') === 1 ? `tf.elu(${x})` : `tf.add(tf.relu(${x}), tf.mul(${num(p, 'alpha')}, tf.sub(tf.exp(tf.minimum(${x}, 0)), 1)))`), fused: 'elu' },
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
  silu: SILU,
  swish: { ...SILU, doc: 'silu under its other Keras name: x / (1 + e^-x)' },
  // y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, the exact GELU (Keras's approximate = False); dx = dy (Phi(x) + x phi(x)).
  // approximate = true: y = x (1 + tanh(u)) / 2, u = sqrt(2 / pi) (x + 0.044715 x^3);
  // dx = dy ((1 + t) / 2 + x (1 - t^2) u' / 2), t = tanh(u), u' = sqrt(2 / pi) (1 + 3 0.044715 x^2).
  gelu: {
    doc: 'x (1 + erf(x / sqrt(2))) / 2; approximate: x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2',
    op: true,
    args: [{ name: 'approximate', type: { kind: 'bool' }, default: false, doc: 'use the tanh approximation' }],
    forward: (dst, src, start, end, _w, p) => {
      // x * x * x, not x ** 3: V8's ** is a call to pow, several times this loop's other work.
      if (p.approximate) for (let i = start, x = 0; i < end; i++) (x = src[i]), (dst[i] = 0.5 * x * (1 + Math.tanh(GELU_C * (x + GELU_K * x * x * x))));
      else for (let i = start; i < end; i++) dst[i] = 0.5 * src[i] * (1 + erf(src[i] / Math.SQRT2));
    },
    backward: {
      from: 'x',
      into: (dx, x, dy, start, end, _w, p) => {
        for (let i = start; i < end; i++) {
          const v = x[i];
          if (p.approximate) {
            const t = Math.tanh(GELU_C * (v + GELU_K * v * v * v));
            dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * v * v));
          } else dx[i] = dy[i] * (0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI));
        }
      },
    },
    wasm: { forward: 6, forArgs: (p) => (p.approximate === true ? 7 : undefined) },
    tfjs: {
      apply: (x, p) =>
        p.approximate
          ? `tf.mul(tf.mul(0.5, ${x}), tf.add(1, tf.tanh(tf.mul(${GELU_C}, tf.add(${x}, tf.mul(${GELU_K}, tf.pow(${x}, 3)))))))`
          : `tf.mul(tf.mul(0.5, ${x}), tf.add(1, tf.erf(tf.div(${x}, Math.SQRT2))))`,
    },
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
  // y = relu6(x + 3) / 6 (Keras 3; Keras 2 and tfjs clip 0.2 x + 0.5 instead); dx = dy / 6 for 0 < y < 1.
  hard_sigmoid: {
    doc: 'relu6(x + 3) / 6',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = Math.min(Math.max(src[i] + 3, 0), 6) / 6;
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = y[i] > 0 && y[i] < 1 ? dy[i] / 6 : 0;
      },
    },
    wasm: { forward: 4 },
    tfjs: { apply: (x) => `tf.div(tf.relu6(tf.add(${x}, 3)), 6)` },
    fusable: true,
  },
  // y = x relu6(x + 3) / 6 (Keras 3's hard_silu, alias hard_swish); dx = dy (0 below -3, 1 above 3, (2x + 3) / 6 between).
  hard_swish: {
    doc: 'x relu6(x + 3) / 6',
    op: true,
    forward: (dst, src, start, end) => {
      for (let i = start; i < end; i++) dst[i] = (src[i] * Math.min(Math.max(src[i] + 3, 0), 6)) / 6;
    },
    backward: {
      from: 'x',
      into: (dx, x, dy, start, end) => {
        for (let i = start; i < end; i++) dx[i] = x[i] < -3 ? 0 : x[i] > 3 ? dy[i] : (dy[i] * (2 * x[i] + 3)) / 6;
      },
    },
    wasm: { forward: 5 },
    tfjs: { apply: (x) => `tf.mul(${x}, tf.div(tf.relu6(tf.add(${x}, 3)), 6))` },
    fusable: false,
  },
  // y = e^x / sum e^x along the axis (stable: the max subtracted, summed in float64); dx = y (dy - sum_j dy_j y_j).
  // Keras counts the axis with the batch (-1 the last); resolve keeps -1 for the last
  // axis and otherwise gives the layout of the data, [outer, n, inner] (softmaxLayout).
  softmax: {
    doc: 'e^x / sum(e^x) along an axis (the last by default)',
    op: true,
    args: [{ name: 'axis', type: { kind: 'int', min: -Infinity }, default: -1, doc: 'the axis normalised, counted as Keras does: 1 is the first after the batch, -1 the last' }],
    resolve: (p, ctx): ActivationArgs => {
      const d = dims(ctx.input);
      const given = num(p, 'axis');
      const axis = given < 0 ? d.length + 1 + given : given;
      if (axis < 1 || axis > d.length) ctx.fail(shapeRules.softmaxAxis(given, given === 0 || axis === 0, d));
      return axis === d.length ? { axis: -1 } : { axis, n: d[axis - 1], inner: product(d.slice(axis)) };
    },
    forward: (dst, src, start, end, width, p) => {
      const { n, inner } = softmaxLayout(p, width);
      for (let b = start; b < end; b += n * inner) for (let j = 0; j < inner; j++) softmaxRow(dst, src, b + j, n, inner);
    },
    backward: {
      from: 'y',
      into: (dx, y, dy, start, end, width, p) => {
        const { n, inner } = softmaxLayout(p, width);
        for (let b = start; b < end; b += n * inner) {
          for (let j = b; j < b + inner; j++) {
            let dot = 0;
            for (let k = 0, i = j; k < n; k++, i += inner) dot += dy[i] * y[i];
            for (let k = 0, i = j; k < n; k++, i += inner) dx[i] = y[i] * (dy[i] - dot);
          }
        }
      },
    },
    wasm: { forward: 'softmax_rows' },
    tfjs: {
      // tf.softmax takes only the last axis; another is written out (the max subtracted, as tf.softmax does).
      apply: (x, p) => {
        const a = num(p, 'axis');
        return a === -1 ? `tf.softmax(${x})` : `((e: tf.Tensor) => tf.div(e, tf.sum(e, ${a}, true)))(tf.exp(tf.sub(${x}, tf.max(${x}, ${a}, true))))`;
      },
    },
    fusable: false,
  },
} satisfies Record<string, ActivationDef>;

export type Activation = keyof typeof ACTIVATIONS;

/** The row of `name`, as the general row type (its optional fields readable). */
export const activationDef = (name: Activation): ActivationDef => ACTIVATIONS[name];

/** An argument left out: its default, or for an optional number without one (Keras's None) no bound. */
const argDefault = (spec: AttrSpec): number | boolean => (spec.default === undefined ? Infinity : (spec.default as number | boolean));

/** What each bare name stands for (dense's and conv's `activation =`, rnn's f, the kernels' names): the defaults, then byName. */
const NAME_ARGS = Object.fromEntries(
  (Object.entries(ACTIVATIONS) as [string, ActivationDef][]).map(([name, row]) => [
    name,
    Object.freeze({ ...Object.fromEntries((row.args ?? []).map((spec) => [spec.name, argDefault(spec)])), ...row.byName }),
  ]),
) as Record<Activation, ActivationArgs>;

export const nameArgs = (name: Activation): ActivationArgs => NAME_ARGS[name];

/** The arguments are those of the bare name: what fused layers, tf.fused and the WebAssembly kernels compute. */
export function isNameArgs(name: Activation, p: ActivationArgs): boolean {
  const q = NAME_ARGS[name];
  const keys = Object.keys(p);
  return keys.length === Object.keys(q).length && keys.every((k) => p[k] === q[k]);
}

/** What `name`'s backward reads with arguments `p`: the forward's output ('y') or input ('x'). */
export function backwardFrom(name: Activation, p: ActivationArgs = NAME_ARGS[name]): 'x' | 'y' {
  const { from } = activationDef(name).backward;
  return typeof from === 'function' ? from(p) : from;
}

/** The activations the optimizer fuses into a preceding dense or conv. */
export const FUSABLE_ACTIVATIONS = (Object.keys(ACTIVATIONS) as Activation[]).filter((a) => ACTIVATIONS[a].fusable);

export const isActivation = (name: string): name is Activation => Object.hasOwn(ACTIVATIONS, name);

/** Numerically stable softmax of the n values src[start + k stride] into dst: subtract the max, sum in float64. */
function softmaxRow(dst: Float32Array, src: Float32Array, start: number, n: number, stride = 1): void {
  const end = start + n * stride;
  let max = -Infinity;
  for (let i = start; i < end; i += stride) if (src[i] > max) max = src[i];
  let sum = 0;
  for (let i = start; i < end; i += stride) {
    const e = Math.exp(src[i] - max);
    dst[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = start; i < end; i += stride) dst[i] *= inv;
}

/** Softmax's data as [outer, n, inner]: over the last axis (axis -1) n is the row width and inner 1. */
function softmaxLayout(p: ActivationArgs, width: number): { n: number; inner: number } {
  return num(p, 'axis') === -1 ? { n: width, inner: 1 } : { n: num(p, 'n'), inner: num(p, 'inner') };
}

/** relu with Keras's defaults: max(0, x). */
const isPlainRelu = (p: ActivationArgs) => num(p, 'max_value') === Infinity && num(p, 'negative_slope') === 0 && num(p, 'threshold') === 0;

/** The tanh approximation's constants: sqrt(2 / pi) and the cubic term's weight. */
const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;

/** The layer of an activation that source may call: shape-preserving, no parameters. */
function activationOp(name: Activation): OpDef<ActivationAttrs> {
  const row = activationDef(name);
  return defineOp({
    name,
    family: 'activation',
    doc: ACTIVATIONS[name].doc,
    inputs: { min: 1, max: 1, names: ['x'] },
    // Declared optional, with the default in the doc, so that the IR prints only the arguments given.
    attrs: (row.args ?? []).map((spec) => ({ ...spec, default: undefined, optional: true, doc: `${spec.doc} (default ${defaultText(spec)})` })),
    infer(ctx) {
      const given = Object.fromEntries((row.args ?? []).map((spec) => [spec.name, (ctx.attrs[spec.name] as number | boolean | undefined) ?? argDefault(spec)]));
      return { type: ctx.input, attrs: { activation: name, args: row.resolve?.(given, ctx) ?? given } };
    },
    label: (a) => argsLabel(name, a.args),
  });
}

const defaultText = (spec: AttrSpec) => {
  const v = argDefault(spec);
  return v === Infinity ? 'none' : String(v);
};

/** The arguments that differ from the layer's defaults, for summaries and diagrams: `negative_slope 0.1`. */
function argsLabel(name: Activation, p: ActivationArgs): string {
  const specs = activationDef(name).args ?? [];
  return specs
    .filter((spec) => p[spec.name] !== undefined && p[spec.name] !== argDefault(spec))
    .map((spec) => `${spec.name} ${p[spec.name]}`)
    .join(', ');
}

/** The activations source may call as layers: those whose row says `op: true`. */
export type ActivationOpName = { [K in Activation]: (typeof ACTIVATIONS)[K]['op'] extends true ? K : never }[Activation];
/** An activation op's resolved attributes: which row, with its arguments complete (resolve's normal form). */
export type ActivationAttrs = { activation: Activation; args: ActivationArgs };

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
