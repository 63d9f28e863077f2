/**
 * Recurrent layers, forward only, as Keras defines them (zero initial state):
 *
 *   simpleRnn(x [B,T,in], kernel [in,u], recurrentKernel [u,u], bias [u] | null, opts)
 *     s_t = act(x_t W + s_{t-1} U + b)                        (act defaults to tanh)
 *   lstm(x [B,T,in], kernel [in,4u], recurrentKernel [u,4u], bias [4u] | null, opts)
 *     z = x_t W + h_{t-1} U + b, split into gates in Keras's order i, f, c, o:
 *     i = sigmoid(z_i), f = sigmoid(z_f), o = sigmoid(z_o), c_t = f c_{t-1} + i tanh(z_c),
 *     h_t = o tanh(c_t)
 *
 * Output: `sequences` gives every state [B,T,u], otherwise the last one [B,u].
 * `reverse` runs from t = T-1 down to 0 (Keras's go_backwards); the last state
 * is then the one after reading x_0. With `sequences` the reversed run's
 * states are stored back in original time order, state for x_t at index t, as
 * Keras's Bidirectional does for its backward layer. (A bare Keras layer with
 * go_backwards and return_sequences returns them in processing order instead.)
 *
 * x W + b for all steps is one matmul up front; each step then adds h U into
 * its slice with one accumulating matmul.
 */
import type { Activation } from './activation.js';
import { activateInPlace, logistic } from './activation.js';
import { matmulInto } from './matmul.js';
import type { Tensor } from '../tensor.js';
import { showShape } from '../tensor.js';

export interface RecurrentOptions {
  sequences?: boolean;
  reverse?: boolean;
}

export interface SimpleRnnOptions extends RecurrentOptions {
  activation?: Activation;
}

export function simpleRnn(
  x: Tensor,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor | null,
  opts: SimpleRnnOptions = {},
): Tensor {
  const act = opts.activation ?? 'tanh';
  return recur(x, kernel, recurrentKernel, bias, opts, 1, 'simpleRnn', (z, h, units) => {
    activateInPlace(z, act, units);
    h.set(z);
  });
}

export function lstm(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor | null, opts: RecurrentOptions = {}): Tensor {
  const c = new Float32Array(x.shape[0] * recurrentKernel.shape[0]); // the cell state, zero at t = 0
  return recur(x, kernel, recurrentKernel, bias, opts, 4, 'lstm', (z, h, units) => {
    const rows = h.length / units;
    for (let b = 0; b < rows; b++) {
      const zb = b * 4 * units;
      for (let j = 0; j < units; j++) {
        const i = logistic(z[zb + j]);
        const f = logistic(z[zb + units + j]);
        const g = Math.tanh(z[zb + 2 * units + j]);
        const o = logistic(z[zb + 3 * units + j]);
        const k = b * units + j;
        c[k] = f * c[k] + i * g;
        h[k] = o * Math.tanh(c[k]);
      }
    }
  });
}

/**
 * The loop shared by both cells. `gates` is the width multiplier of W and U
 * (1 for SimpleRNN, 4 for LSTM); `cell(z, h, units)` turns the
 * pre-activations z [B, gates*u] into the new state h [B, u] in place.
 */
function recur(
  x: Tensor,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor | null,
  opts: RecurrentOptions,
  gates: number,
  who: string,
  cell: (z: Float32Array, h: Float32Array, units: number) => void,
): Tensor {
  const { sequences = false, reverse = false } = opts;
  if (x.shape.length !== 3) throw new Error(`${who}: expected input [B,T,in], got ${showShape(x.shape)}`);
  const [B, T, inDim] = x.shape;
  const units = recurrentKernel.shape[0];
  const width = gates * units;
  if (
    kernel.shape.length !== 2 || kernel.shape[0] !== inDim || kernel.shape[1] !== width ||
    recurrentKernel.shape.length !== 2 || recurrentKernel.shape[1] !== width ||
    (bias && (bias.shape.length !== 1 || bias.shape[0] !== width))
  ) {
    throw new Error(
      `${who}: weights ${showShape(kernel.shape)}, ${showShape(recurrentKernel.shape)}` +
        `${bias ? `, ${showShape(bias.shape)}` : ''} do not fit input ${showShape(x.shape)} with ${units} units`,
    );
  }
  // xw[(b*T + t), :] = x[b, t, :] W + bias, for every step at once.
  const xw = new Float32Array(B * T * width);
  matmulInto(xw, x.data, kernel.data, B * T, inDim, width, { bias: bias?.data ?? null });

  const h = new Float32Array(B * units);
  const z = new Float32Array(B * width);
  const out = sequences ? new Float32Array(B * T * units) : h;
  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    for (let b = 0; b < B; b++) z.set(xw.subarray((b * T + t) * width, (b * T + t + 1) * width), b * width);
    matmulInto(z, h, recurrentKernel.data, B, units, width, { accumulate: true });
    cell(z, h, units);
    if (sequences) for (let b = 0; b < B; b++) out.set(h.subarray(b * units, (b + 1) * units), (b * T + t) * units);
  }
  return { shape: sequences ? [B, T, units] : [B, units], data: out };
}
