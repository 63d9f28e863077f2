/**
 * simpleRnn and lstm for training: the forward of kernels/recurrent.ts (its
 * loop and its cellStep, so the same numbers) that also keeps every step's
 * states, side by side with backpropagation through time.
 *
 * Letters: B batch, T steps, I input width, u units, G = gates * u (u for the
 * RNN, 4u for the LSTM, gates in Keras's order i, f, c, o). Per-step buffers
 * are [B*T, width] with row b*T + t, the layout of x and of the output
 * sequence, so the weight gradients over all steps are single matmuls.
 *
 *   forward, step for x_t:  z = x_t W + b + h U
 *     rnn    h_t = act(z)
 *     lstm   i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_c)
 *            c_t = f c_prev + i g,   h_t = o tanh(c_t)
 *   backward, steps in reverse processing order, dh = dy_t (+ the last state's dy) + dz_next U^T:
 *     rnn    dz = dh act'(h_t)
 *     lstm   dc = dc_next + dh o (1 - tanh^2 c_t)
 *            dz_o = dh tanh(c_t) o (1-o),  dz_i = dc g i (1-i),  dz_c = dc i (1-g^2),  dz_f = dc c_prev f (1-f)
 *            dc_next = dc f
 *   then dW = x^T dZ,  dU = Hprev^T dZ,  db = sum dZ,  dx = dZ W^T.
 */
import type { Activation } from '../kernels/activation.js';
import { matmulInto } from '../kernels/matmul.js';
import { cellStep } from '../kernels/recurrent.js';
import type { Tensor } from '../tensor.js';
import { showShape } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { heap } from '../wasm/index.js';
import { activationGradInto } from './activation.js';
import { columnSums, zeros } from './util.js';
import { internal } from '../../../diagnostics.js';

export type Cell = 'rnn' | 'lstm';

export interface RecurrentSpec {
  cell: Cell;
  sequences: boolean;
  reverse: boolean;
  /** The RNN's activation (tanh by default); the LSTM's are fixed. */
  activation?: Activation;
}

/** What the backward needs: the weights and every step's states. */
export interface RecurrentTrace {
  spec: RecurrentSpec;
  x: Tensor;
  kernel: Tensor;
  recurrentKernel: Tensor;
  hasBias: boolean;
  /** h after the step for x_t, and h before it, [B*T, u]. */
  h: Float32Array;
  hPrev: Float32Array;
  /** LSTM only: post-activation gates i, f, g, o [B*T, 4u]; c after and before the step [B*T, u]. */
  gates?: Float32Array;
  c?: Float32Array;
  cPrev?: Float32Array;
}

export function recurrentForward(
  x: Tensor,
  kernel: Tensor,
  recurrentKernel: Tensor,
  bias: Tensor | null,
  spec: RecurrentSpec,
): { output: Tensor; trace: RecurrentTrace } {
  const { cell, sequences, reverse, activation = 'tanh' } = spec;
  if (x.shape.length !== 3) throw internal(`${cell}: expected input [B,T,in], got ${showShape(x.shape)}`);
  const [B, T, I] = x.shape;
  const u = recurrentKernel.shape[0];
  const G = (cell === 'lstm' ? 4 : 1) * u;
  const trace: RecurrentTrace = {
    spec, x, kernel, recurrentKernel, hasBias: bias !== null,
    h: zeros(B * T * u),
    hPrev: zeros(B * T * u),
  };
  if (cell === 'lstm') {
    trace.gates = zeros(B * T * G);
    trace.c = zeros(B * T * u);
    trace.cPrev = zeros(B * T * u);
  }
  const last = zeros(B * u);
  // The inference kernel's loop (kernels/recurrent.ts), each step's states and gates copied to the trace.
  withScratch(heap(), (take) => {
    const xw = take(B * T * G);
    matmulInto(xw, x.data, kernel.data, B * T, I, G, { bias: bias?.data ?? null });
    const zh = take(B * G);
    const h = take(B * u).fill(0);
    const c = take(B * u).fill(0);
    const gates = cell === 'lstm' ? take(B * G) : undefined;
    const keep = (to: Float32Array, from: Float32Array, width: number, t: number) => {
      for (let b = 0; b < B; b++) to.set(from.subarray(b * width, (b + 1) * width), (b * T + t) * width);
    };
    for (let step = 0; step < T; step++) {
      const t = reverse ? T - 1 - step : step;
      keep(trace.hPrev, h, u, t);
      if (trace.cPrev) keep(trace.cPrev, c, u, t);
      matmulInto(zh, h, recurrentKernel.data, B, u, G);
      cellStep(cell, activation, { xw, row: t * G, stride: T * G, zh, h, c, rows: B, units: u, gates });
      keep(trace.h, h, u, t);
      if (trace.c) keep(trace.c, c, u, t);
      if (gates) keep(trace.gates!, gates, G, t);
    }
    last.set(h);
  });
  const output = sequences ? { shape: [B, T, u], data: trace.h } : { shape: [B, u], data: last };
  return { output, trace };
}

export interface RecurrentGrads {
  dx: Tensor | null;
  dKernel: Tensor;
  dRecurrentKernel: Tensor;
  dBias: Tensor | null;
}

export function recurrentBackward(trace: RecurrentTrace, dy: Tensor, wantInput: boolean): RecurrentGrads {
  const { spec, x, kernel, recurrentKernel } = trace;
  const [B, T, I] = x.shape;
  const u = recurrentKernel.shape[0];
  const G = (spec.cell === 'lstm' ? 4 : 1) * u;
  const dZ = zeros(B * T * G);
  const dh = zeros(B * u);
  const dc = zeros(B * u);
  const dz = zeros(B * G);
  const hStep = zeros(B * u);
  for (let step = T - 1; step >= 0; step--) {
    const t = spec.reverse ? T - 1 - step : step;
    // The output's gradient for this step: every state with sequences, else only the last one's.
    if (spec.sequences) {
      for (let b = 0; b < B; b++) for (let j = 0, src = (b * T + t) * u; j < u; j++) dh[b * u + j] += dy.data[src + j];
    } else if (step === T - 1) dh.set(dy.data);
    if (spec.cell === 'rnn') {
      for (let b = 0; b < B; b++) hStep.set(trace.h.subarray((b * T + t) * u, (b * T + t + 1) * u), b * u);
      activationGradInto(dz, hStep, dh, spec.activation ?? 'tanh', u);
    } else {
      lstmStep(trace, dz, dh, dc, B, T, u, t);
    }
    for (let b = 0; b < B; b++) dZ.set(dz.subarray(b * G, (b + 1) * G), (b * T + t) * G);
    if (step > 0) matmulInto(dh, dz, recurrentKernel.data, B, G, u, { transB: true });
  }
  const dKernel = zeros(I * G);
  matmulInto(dKernel, x.data, dZ, I, B * T, G, { transA: true });
  const dRecurrent = zeros(u * G);
  matmulInto(dRecurrent, trace.hPrev, dZ, u, B * T, G, { transA: true });
  let dx: Tensor | null = null;
  if (wantInput) {
    const data = zeros(B * T * I);
    matmulInto(data, dZ, kernel.data, B * T, G, I, { transB: true });
    dx = { shape: [B, T, I], data };
  }
  return {
    dx,
    dKernel: { shape: [I, G], data: dKernel },
    dRecurrentKernel: { shape: [u, G], data: dRecurrent },
    dBias: trace.hasBias ? { shape: [G], data: columnSums(dZ, B * T, G) } : null,
  };
}

/** One LSTM step back: dz [B, 4u] from dh and dc (the state gradients after step t); dc becomes dc_prev. */
function lstmStep(trace: RecurrentTrace, dz: Float32Array, dh: Float32Array, dc: Float32Array, B: number, T: number, u: number, t: number): void {
  const gates = trace.gates!, cs = trace.c!, cPrev = trace.cPrev!;
  const G = 4 * u;
  for (let b = 0; b < B; b++) {
    const row = b * T + t;
    for (let j = 0; j < u; j++) {
      const a = row * G + j;
      const i = gates[a], f = gates[a + u], g = gates[a + 2 * u], o = gates[a + 3 * u];
      const tc = Math.tanh(cs[row * u + j]);
      const k = b * u + j;
      const dhk = dh[k];
      const dck = dc[k] + dhk * o * (1 - tc * tc);
      const zb = b * G + j;
      dz[zb] = dck * g * i * (1 - i);
      dz[zb + u] = dck * cPrev[row * u + j] * f * (1 - f);
      dz[zb + 2 * u] = dck * i * (1 - g * g);
      dz[zb + 3 * u] = dhk * tc * o * (1 - o);
      dc[k] = dck * f;
    }
  }
}
