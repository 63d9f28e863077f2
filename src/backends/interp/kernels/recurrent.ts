/**
 * Recurrent layers, forward only, as Keras defines them (zero initial state
 * unless `initial` gives one; `final` receives the last states):
 *
 *   simpleRnn(x [B,T,in], kernel [in,u], recurrentKernel [u,u], bias [u] | null, opts)
 *     s_t = act(x_t W + s_{t-1} U + b)                        (act defaults to tanh)
 *   lstm(x [B,T,in], kernel [in,4u], recurrentKernel [u,4u], bias [4u] | null, opts)
 *     z = x_t W + h_{t-1} U + b, split into gates in Keras's order i, f, c, o:
 *     i = sigmoid(z_i), f = sigmoid(z_f), o = sigmoid(z_o), c_t = f c_{t-1} + i tanh(z_c),
 *     h_t = o tanh(c_t)
 *   gru(x [B,T,in], kernel [in,3u], recurrentKernel [u,3u], bias [2,3u] | null, opts)
 *     Keras's reset_after form, gates in Keras's order z, r, h; bias row 0 is
 *     the input bias b_x, row 1 the recurrent bias b_h:
 *     a = x_t W + b_x, e = h_{t-1} U + b_h, z = sigmoid(a_z + e_z), r = sigmoid(a_r + e_r),
 *     h~ = tanh(a_h + r e_h), h_t = z h_{t-1} + (1 - z) h~
 *     With `resetAfter: false` (Keras 1, tf.layers) the bias is one [3u] (in a),
 *     e = h_{t-1} U, and h~ = tanh(a_h + (r h_{t-1}) U_h), U_h U's last u columns.
 *
 * Output: `sequences` gives every state [B,T,u], otherwise the last one [B,u].
 * `reverse` runs from t = T-1 down to 0 (Keras's go_backwards); the last state
 * is then the one after reading x_0. With `sequences` the reversed run's
 * states are stored back in original time order, state for x_t at index t, as
 * Keras's Bidirectional does for its backward layer. (A bare Keras layer with
 * go_backwards and return_sequences returns them in processing order instead.)
 *
 * `mask` [B*T] (0 = padding, Keras's mask from embedding(mask_zero)): a
 * padded step leaves the state (h, and the LSTM's c) as it was, and its output
 * is the previous output (the state carried), or zeros with `zeroMasked`
 * (Keras's zero_output_for_mask, which Bidirectional sets with sequences).
 *
 * x W + b for all steps is one matmul up front; each step then computes h U
 * with one matmul, and the cell adds the two. The LSTM cell runs in
 * WebAssembly SIMD when it is loaded (float32, exp and tanh within 2 ulp),
 * else in float64 per element; so does the GRU cell with reset_after (the
 * form with a recurrent bias; reset_after = false runs in float64). Working buffers are scratch on the kernel's
 * heap; `out` is the planned output buffer (tensor.ts's outputBuffer).
 */
import type { Activation } from './activation.js';
import { activateInPlace } from './activation.js';
import { matmulInto } from './matmul.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { inMemory } from '../wasm/gemm.js';
import { heap, prepackRight, recurrentLayerWasm, wasmKernels, type RecurrentLayer } from '../wasm/index.js';
import { internal } from '../../../diagnostics.js';

export interface RecurrentOptions {
  sequences?: boolean;
  reverse?: boolean;
  /** The states to start from, [B, u] each: h, and the lstm's c (Keras's initial_state; default zeros). */
  initial?: Float32Array[];
  /** Where to write the final states [B, u]: h, and the lstm's c (Keras's return_state). */
  final?: Float32Array[];
  /** [B*T], 0 where a step is padding (skipped: the state carries over). */
  mask?: Float32Array;
  /** With mask and sequences: a padded step outputs zeros instead of the carried state. */
  zeroMasked?: boolean;
}

/** After a step for x_t: rows whose step is padding get back the state they had before it (`before`: h then c, [2, B*u]). */
export function carryMasked(mask: Float32Array, t: number, T: number, units: number, h: Float32Array, c: Float32Array, before: Float32Array): void {
  const B = h.length / units;
  for (let b = 0; b < B; b++) {
    if (mask[b * T + t] !== 0) continue;
    h.set(before.subarray(b * units, (b + 1) * units), b * units);
    c.set(before.subarray((B + b) * units, (B + b + 1) * units), b * units);
  }
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
  out?: Float32Array,
): Tensor {
  const act = opts.activation ?? 'tanh';
  return recur(x, kernel, recurrentKernel, bias, opts, 1, 'simpleRnn', out, (step) => cellStep('rnn', act, step));
}

export function lstm(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor | null, opts: RecurrentOptions = {}, out?: Float32Array): Tensor {
  return recur(x, kernel, recurrentKernel, bias, opts, 4, 'lstm', out, (step) => cellStep('lstm', 'tanh', step), (layer) =>
    recurrentLayerWasm(layer, { kind: 'lstm' }),
  );
}

export interface GruOptions extends RecurrentOptions {
  /** Keras's reset_after (default true). */
  resetAfter?: boolean;
}

export function gru(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor | null, opts: GruOptions = {}, out?: Float32Array): Tensor {
  const resetAfter = opts.resetAfter ?? true;
  const { inputBias, recurrentBias } = resetAfter ? splitGruBias(bias, kernel.shape[1]) : { inputBias: bias, recurrentBias: undefined };
  const resetBefore = resetAfter ? undefined : resetBeforeOperands(recurrentKernel, x.shape[0]);
  // The whole loop in WebAssembly where gruStepWasm would run each step: reset_after, with its recurrent bias.
  const layerWasm = resetAfter && recurrentBias ? (layer: RecurrentLayer) => recurrentLayerWasm(layer, { kind: 'gru', recurrentBias }) : undefined;
  return recur(x, kernel, recurrentKernel, inputBias, opts, 3, 'gru', out, (step) => cellStep('gru', 'tanh', { ...step, recurrentBias, resetBefore }), layerWasm);
}

/** gru with reset_after = false: U_h (U's last u columns) [u, u], and room for r h and (r h) U_h [rows, u]. */
export interface ResetBefore {
  uh: Float32Array;
  rh: Float32Array;
  e: Float32Array;
}

export function resetBeforeOperands(recurrentKernel: Tensor, rows: number): ResetBefore {
  const u = recurrentKernel.shape[0];
  const uh = new Float32Array(u * u);
  for (let i = 0; i < u; i++) uh.set(recurrentKernel.data.subarray(i * 3 * u + 2 * u, (i + 1) * 3 * u), i * u);
  return { uh, rh: new Float32Array(rows * u), e: new Float32Array(rows * u) };
}

/** gru's bias [2, 3u] as its input bias (added to x W with it) and its recurrent bias (added to h U in the cell). */
export function splitGruBias(bias: Tensor | null, width: number): { inputBias: Tensor | null; recurrentBias?: Float32Array } {
  if (!bias) return { inputBias: null };
  if (bias.shape.length !== 2 || bias.shape[0] !== 2 || bias.shape[1] !== width) throw internal(`gru: bias ${showShape(bias.shape)} is not [2, ${width}]`);
  return { inputBias: { shape: [width], data: bias.data.subarray(0, width) }, recurrentBias: bias.data.subarray(width, 2 * width) };
}

/** One step's operands: z = xw[row + b*stride, :] + zh[b, :] for each row b < rows. */
export interface Step {
  xw: Float32Array;
  row: number;
  stride: number;
  zh: Float32Array;
  /** The state [rows, u] (and the LSTM's cell state), updated in place. */
  h: Float32Array;
  c: Float32Array;
  rows: number;
  units: number;
  /**
   * Where to keep, for the backward, the LSTM's post-activation gates i, f, g, o [rows, 4u];
   * the GRU's z, r, h~ and e_h = (h U + b_h)_h (reset_after) or r h (reset_after = false) [rows, 4u].
   */
  gates?: Float32Array;
  /** GRU with reset_after: the recurrent bias b_h [3u], added to zh (absent without a bias). */
  recurrentBias?: Float32Array;
  /** GRU with reset_after = false: the candidate's own product (zh's last u columns are then unused). */
  resetBefore?: ResetBefore;
}

/**
 * The cell of one step, shared with the training forward (grad/recurrent.ts)
 * so that both compute the same numbers: the RNN's h = act(z); the LSTM's
 * gates, c and h, in WebAssembly SIMD when it is loaded and every buffer is in
 * its memory, else in float64 per element.
 */
export function cellStep(cell: 'rnn' | 'lstm' | 'gru', act: Activation, step: Step): void {
  if (cell === 'lstm') return void (lstmStepWasm(step) || lstmStep(step));
  if (cell === 'gru') return void (gruStepWasm(step) || gruStep(step));
  const { xw, row, stride, zh, h, rows, units } = step;
  for (let b = 0; b < rows; b++) {
    for (let j = 0, from = row + b * stride, k = b * units; j < units; j++, k++) h[k] = xw[from + j] + zh[k];
  }
  activateInPlace(h, act, units, 0, rows);
}

function lstmStep({ xw, row, stride, zh, h, c, rows, units, gates }: Step): void {
  for (let b = 0; b < rows; b++) {
    const zi = row + b * stride, zf = zi + units, zg = zf + units, zo = zg + units;
    const hi = b * 4 * units, hf = hi + units, hg = hf + units, ho = hg + units;
    for (let j = 0, k = b * units; j < units; j++, k++) {
      const i = 1 / (1 + Math.exp(-(xw[zi + j] + zh[hi + j])));
      const f = 1 / (1 + Math.exp(-(xw[zf + j] + zh[hf + j])));
      const g = Math.tanh(xw[zg + j] + zh[hg + j]);
      const o = 1 / (1 + Math.exp(-(xw[zo + j] + zh[ho + j])));
      c[k] = f * c[k] + i * g;
      h[k] = o * Math.tanh(c[k]);
      if (gates) {
        gates[hi + j] = i;
        gates[hf + j] = f;
        gates[hg + j] = g;
        gates[ho + j] = o;
      }
    }
  }
}

function gruStep({ xw, row, stride, zh, h, rows, units, gates, recurrentBias, resetBefore: rb }: Step): void {
  const u = units;
  if (rb) {
    // r h first: the candidate's recurrent term is (r h) U_h.
    for (let b = 0; b < rows; b++) {
      for (let j = 0, ar = row + b * stride + u, er = b * 3 * u + u, k = b * u; j < u; j++, k++) {
        rb.rh[k] = h[k] / (1 + Math.exp(-(xw[ar + j] + zh[er + j])));
      }
    }
    matmulInto(rb.e, rb.rh, rb.uh, rows, u, u);
  }
  for (let b = 0; b < rows; b++) {
    const az = row + b * stride, ez = b * 3 * u, g = b * 4 * u;
    for (let j = 0, k = b * u; j < u; j++, k++) {
      const bz = recurrentBias ? recurrentBias[j] : 0, br = recurrentBias ? recurrentBias[u + j] : 0, bh = recurrentBias ? recurrentBias[2 * u + j] : 0;
      const z = 1 / (1 + Math.exp(-(xw[az + j] + zh[ez + j] + bz)));
      const r = 1 / (1 + Math.exp(-(xw[az + u + j] + zh[ez + u + j] + br)));
      const e = rb ? rb.e[k] : zh[ez + 2 * u + j] + bh;
      const c = Math.tanh(xw[az + 2 * u + j] + (rb ? e : r * e));
      h[k] = z * h[k] + (1 - z) * c;
      if (gates) {
        gates[g + j] = z;
        gates[g + u + j] = r;
        gates[g + 2 * u + j] = c;
        gates[g + 3 * u + j] = rb ? rb.rh[k] : e;
      }
    }
  }
}

/** gruStep in gemm.wat's gru_cell (reset_after with its recurrent bias; float32); false if not in use. */
function gruStepWasm({ xw, row, stride, zh, h, rows, units, gates, recurrentBias, resetBefore }: Step): boolean {
  const k = wasmKernels();
  if (!k || units % 4 !== 0 || rows === 0 || resetBefore || !recurrentBias) return false;
  const zx = xw.subarray(row, row + (rows - 1) * stride + 3 * units);
  return inMemory(k, [zx, zh, recurrentBias, h, gates ?? zh], ['in', 'in', 'in', 'inout', gates ? 'out' : 'in'], (at) =>
    k.exports.gru_cell(at[0], stride * 4, at[1], at[2], at[3], gates ? at[4] : 0, 16 * units, rows, units),
  );
}

/** lstmStep in gemm.wat's lstm_cell (float32: exp within 2 ulp, the gates' tanh within 1.5e-7); false if not in use. zh is scratch: the cell writes the gates' values into it. */
function lstmStepWasm({ xw, row, stride, zh, h, c, rows, units, gates }: Step): boolean {
  const k = wasmKernels();
  if (!k || units % 4 !== 0 || rows === 0) return false;
  const zx = xw.subarray(row, row + (rows - 1) * stride + 4 * units);
  return inMemory(k, [zx, zh, c, h, gates ?? zh], ['in', 'in', 'inout', 'inout', gates ? 'out' : 'in'], (at) =>
    k.exports.lstm_cell(at[0], stride * 4, at[1], at[2], at[3], gates ? at[4] : 0, 16 * units, rows, units),
  );
}

/**
 * The loop shared by both cells. `gates` is the width multiplier of W and U
 * (1 for SimpleRNN, 4 for LSTM, 3 for GRU); `cell(step)` turns the pre-activations
 * z = x_t W + b + h U into the new state h in place. Every buffer but the
 * output is scratch.
 */
function recur(
  x: Tensor,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor | null,
  opts: RecurrentOptions,
  gates: number,
  who: string,
  out: Float32Array | undefined,
  cell: (step: Step) => void,
  /** The whole loop in one call (recurrentLayerWasm), tried where no mask intervenes; false if it did not run. */
  layerWasm?: (layer: RecurrentLayer) => boolean,
): Tensor {
  const { sequences = false, reverse = false, initial, final, mask, zeroMasked = false } = opts;
  if (x.shape.length !== 3) throw internal(`${who}: expected input [B,T,in], got ${showShape(x.shape)}`);
  const [B, T, inDim] = x.shape;
  const units = recurrentKernel.shape[0];
  const width = gates * units;
  if (
    kernel.shape.length !== 2 || kernel.shape[0] !== inDim || kernel.shape[1] !== width ||
    recurrentKernel.shape.length !== 2 || recurrentKernel.shape[1] !== width ||
    (bias && (bias.shape.length !== 1 || bias.shape[0] !== width))
  ) {
    throw internal(
      `${who}: weights ${showShape(kernel.shape)}, ${showShape(recurrentKernel.shape)}` +
        `${bias ? `, ${showShape(bias.shape)}` : ''} do not fit input ${showShape(x.shape)} with ${units} units`,
    );
  }
  const data = outputBuffer(out, sequences ? B * T * units : B * units, who);
  withScratch(heap(), (take) => {
    // xw[(b*T + t), :] = x[b, t, :] W + bias, for every step at once.
    const xw = take(B * T * width);
    matmulInto(xw, x.data, kernel.data, B * T, inDim, width, { bias: bias?.data ?? null });
    const zh = take(B * width);
    const h = take(B * units).fill(0);
    const c = take(B * units).fill(0);
    startStates(initial, [h, c], B * units, who);
    const before = mask ? take(2 * B * units) : undefined;
    // U is the same at every step: packed once for the WebAssembly products, not T times.
    const packedB = prepackRight(recurrentKernel.data, B, units, width, take);
    const inOneCall = !mask && packedB && layerWasm?.({ xw, zh, h, c, out: sequences ? data : null, packedB, B, T, units, reverse });
    for (let s = 0; s < T && !inOneCall; s++) {
      const t = reverse ? T - 1 - s : s;
      if (before) before.set(h), before.set(c, B * units);
      matmulInto(zh, h, recurrentKernel.data, B, units, width, { packedB });
      cell({ xw, row: t * width, stride: T * width, zh, h, c, rows: B, units });
      if (mask) carryMasked(mask, t, T, units, h, c, before!);
      if (sequences) {
        for (let b = 0; b < B; b++) {
          const zero = zeroMasked && mask !== undefined && mask[b * T + t] === 0;
          for (let j = 0, from = b * units, to = (b * T + t) * units; j < units; j++) data[to + j] = zero ? 0 : h[from + j];
        }
      }
    }
    if (!sequences) data.set(h);
    final?.forEach((into, k) => into.set(k === 0 ? h : c));
  });
  return { shape: sequences ? [B, T, units] : [B, units], data };
}

/** Copies the given initial states into the loop's h and c (those not given stay zero). */
export function startStates(initial: readonly Float32Array[] | undefined, into: Float32Array[], n: number, who: string): void {
  initial?.forEach((state, k) => {
    if (state.length !== n) throw internal(`${who}: initial state ${k} holds ${state.length} floats, not ${n}`);
    into[k].set(state);
  });
}
