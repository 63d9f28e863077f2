/**
 * simpleRnn, lstm and gru for training: the forward of kernels/recurrent.ts (its
 * loop and its cellStep, so the same numbers) that also keeps every step's
 * states, side by side with backpropagation through time.
 *
 * Letters: B batch, T steps, I input width, u units, G = gates * u (u for the
 * RNN, 4u for the LSTM, gates in Keras's order i, f, c, o; 3u for the GRU,
 * gates z, r, h). Per-step buffers
 * are [B*T, width] with row b*T + t, the layout of x and of the output
 * sequence, so the weight gradients over all steps are single matmuls.
 *
 *   forward, step for x_t:  z = x_t W + b + h U
 *     rnn    h_t = act(z)
 *     lstm   i, f, o = sigmoid(z_i, z_f, z_o), g = tanh(z_c)
 *            c_t = f c_prev + i g,   h_t = o tanh(c_t)
 *     gru    (reset_after; z = a + e with a = x_t W + b_x, e = h U + b_h)
 *            z, r = sigmoid(a_z + e_z, a_r + e_r),  h~ = tanh(a_h + r e_h),  h_t = z h_prev + (1 - z) h~
 *   backward, steps in reverse processing order, dh = dy_t (+ the last state's dy) + dz_next U^T:
 *     rnn    dz = dh act'(h_t)
 *     lstm   dc = dc_next + dh o (1 - tanh^2 c_t)
 *            dz_o = dh tanh(c_t) o (1-o),  dz_i = dc g i (1-i),  dz_c = dc i (1-g^2),  dz_f = dc c_prev f (1-f)
 *            dc_next = dc f
 *     gru    da_z = de_z = dh (h_prev - h~) z (1-z),  da_h = dh (1-z) (1-h~^2),
 *            da_r = de_r = da_h e_h r (1-r),  de_h = da_h r,  dh_prev = dh z + de U^T
 *   a padded step (spec.mask 0, kernels/recurrent.ts): the state passed through unchanged, so
 *            dz = 0 there and dh_prev = dh, dc_prev = dc (and with zeroMasked its output takes no dy)
 *   then dW = x^T dZ,  dU = Hprev^T dZ,  db = sum dZ,  dx = dZ W^T
 *   States: the recurrence starts from `initial` (default zeros) and the
 *   final states may have gradients of their own (return_state), which join
 *   dh (and the lstm's dc) at the last step processed; the gradients of the
 *   initial states are dh_prev (and dc_prev) of the first step processed.
 *   (the GRU: dZ the a's, dU and db_h from the e's, its bias gradient [db_x; db_h]).
 *   gru with reset_after = false (bias [3u] in a, e = h U, h~ = tanh(a_h + (r h) U_h)):
 *            d(rh) = da_h U_h^T,  da_r = de_r = d(rh) h_prev r (1-r),  de_h = 0,
 *            dh_prev = dh z + d(rh) r + de U^T,  dU_h = (r h_prev)^T dA_h.
 */
import type { Activation } from '../kernels/activation.js';
import { matmulInto } from '../kernels/matmul.js';
import { carryMasked, cellStep, resetBeforeOperands, splitGruBias, startStates, type ResetBefore } from '../kernels/recurrent.js';
import type { Tensor } from '../tensor.js';
import { showShape } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { heap, prepackRight, recurrentLayerWasm, type RecurrentCell } from '../wasm/index.js';
import { activationGradInto } from './activation.js';
import { columnSums, zeros } from './util.js';
import { internal } from '../../../diagnostics.js';

export type Cell = 'rnn' | 'lstm' | 'gru';

const GATES: Record<Cell, number> = { rnn: 1, lstm: 4, gru: 3 };
/** Values kept per step and unit for the backward: the LSTM's i, f, g, o; the GRU's z, r, h~, e_h. */
const KEPT: Record<Cell, number> = { rnn: 0, lstm: 4, gru: 4 };

export interface RecurrentSpec {
  cell: Cell;
  sequences: boolean;
  reverse: boolean;
  /** The RNN's activation (tanh by default); the LSTM's are fixed. */
  activation?: Activation;
  /** The GRU's reset_after (default true). */
  resetAfter?: boolean;
  /** The states to start from [B, u]: h, and the lstm's c (default zeros). */
  initial?: Float32Array[];
  /** Padding mask [B*T] and zero outputs at padded steps (kernels/recurrent.ts's RecurrentOptions). */
  mask?: Float32Array;
  zeroMasked?: boolean;
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
  /** LSTM and GRU: what cellStep keeps (Step.gates) [B*T, 4u]; LSTM only: c after and before the step [B*T, u]. */
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
): { output: Tensor; trace: RecurrentTrace; states: Tensor[] } {
  const { cell, sequences, reverse, activation = 'tanh', resetAfter = true } = spec;
  if (x.shape.length !== 3) throw internal(`${cell}: expected input [B,T,in], got ${showShape(x.shape)}`);
  const [B, T, I] = x.shape;
  const u = recurrentKernel.shape[0];
  const G = GATES[cell] * u;
  const S = KEPT[cell] * u;
  const { inputBias, recurrentBias } = cell === 'gru' && resetAfter ? splitGruBias(bias, G) : { inputBias: bias, recurrentBias: undefined };
  const resetBefore = cell === 'gru' && !resetAfter ? resetBeforeOperands(recurrentKernel, B) : undefined;
  const trace: RecurrentTrace = {
    spec, x, kernel, recurrentKernel, hasBias: bias !== null,
    h: zeros(B * T * u),
    hPrev: zeros(B * T * u),
  };
  if (S > 0) trace.gates = zeros(B * T * S);
  if (cell === 'lstm') {
    trace.c = zeros(B * T * u);
    trace.cPrev = zeros(B * T * u);
  }
  const last = zeros(B * u);
  const lastC = cell === 'lstm' ? zeros(B * u) : undefined;
  // The inference kernel's loop (kernels/recurrent.ts), each step's states and gates copied to the trace.
  withScratch(heap(), (take) => {
    const xw = take(B * T * G);
    matmulInto(xw, x.data, kernel.data, B * T, I, G, { bias: inputBias?.data ?? null });
    const zh = take(B * G);
    const h = take(B * u).fill(0);
    const c = take(B * u).fill(0);
    startStates(spec.initial, [h, c], B * u, cell);
    const gates = S > 0 ? take(B * S) : undefined;
    const before = spec.mask ? take(2 * B * u) : undefined;
    const keep = (to: Float32Array, from: Float32Array, width: number, t: number) => {
      for (let b = 0; b < B; b++) to.set(from.subarray(b * width, (b + 1) * width), (b * T + t) * width);
    };
    // The inference loop's one call per thread (recurrentLayerWasm) where it applies, writing the trace as it goes.
    const packedB = prepackRight(recurrentKernel.data, B, u, G, take);
    const wasmCell: RecurrentCell | null = cell === 'lstm' ? { kind: 'lstm' } : cell === 'gru' && recurrentBias ? { kind: 'gru', recurrentBias } : null;
    const inOneCall =
      !spec.mask && packedB && wasmCell &&
      recurrentLayerWasm(
        { xw, zh, h, c, out: trace.h, packedB, B, T, units: u, reverse, trace: { hPrev: trace.hPrev, gates: trace.gates!, cPrev: trace.cPrev, cAfter: trace.c } },
        wasmCell,
      );
    for (let step = 0; step < T && !inOneCall; step++) {
      const t = reverse ? T - 1 - step : step;
      keep(trace.hPrev, h, u, t);
      if (trace.cPrev) keep(trace.cPrev, c, u, t);
      if (before) before.set(h), before.set(c, B * u);
      matmulInto(zh, h, recurrentKernel.data, B, u, G, { packedB });
      cellStep(cell, activation, { xw, row: t * G, stride: T * G, zh, h, c, rows: B, units: u, gates, recurrentBias, resetBefore });
      if (before) carryMasked(spec.mask!, t, T, u, h, c, before);
      keep(trace.h, h, u, t);
      if (trace.c) keep(trace.c, c, u, t);
      if (gates) keep(trace.gates!, gates, S, t);
    }
    last.set(h);
    lastC?.set(c);
  });
  const output = sequences ? { shape: [B, T, u], data: spec.zeroMasked ? zeroPadded(trace.h, spec.mask!, u) : trace.h } : { shape: [B, u], data: last };
  const states = [last, ...(lastC ? [lastC] : [])].map((data) => ({ shape: [B, u], data }));
  return { output, trace, states };
}

/** The states [B*T, u] with padded steps' rows zeroed (zeroMasked's output). */
function zeroPadded(h: Float32Array, mask: Float32Array, u: number): Float32Array {
  const out = zeros(h.length);
  for (let row = 0; row < mask.length; row++) if (mask[row] !== 0) out.set(h.subarray(row * u, (row + 1) * u), row * u);
  return out;
}

export interface RecurrentGrads {
  dx: Tensor | null;
  /** With `wantInitial`: the initial states' gradients, h (and the lstm's c). */
  dInitial: Tensor[];
  dKernel: Tensor;
  dRecurrentKernel: Tensor;
  dBias: Tensor | null;
}

/** `dFinal`: the final states' gradients (h, and the lstm's c), when the layer returns them. */
export function recurrentBackward(trace: RecurrentTrace, dy: Tensor, wantInput: boolean, dFinal: Tensor[] = [], wantInitial = false): RecurrentGrads {
  const { spec, x, kernel, recurrentKernel } = trace;
  const [B, T, I] = x.shape;
  const u = recurrentKernel.shape[0];
  const G = GATES[spec.cell] * u;
  const gru = spec.cell === 'gru';
  const dZ = zeros(B * T * G);
  // The GRU's state sees the e's (dZh), its input the a's (dZ); the other cells' are the same.
  const dZh = gru ? zeros(B * T * G) : dZ;
  const dzh = gru ? zeros(B * G) : undefined;
  const resetBefore = gru && spec.resetAfter === false ? { ...resetBeforeOperands(recurrentKernel, B), dah: zeros(B * u) } : undefined;
  const dh = zeros(B * u);
  const dc = zeros(B * u);
  if (dFinal[1]) dc.set(dFinal[1].data);
  const dz = zeros(B * G);
  const hStep = zeros(B * u);
  const mask = spec.mask;
  const passed = mask ? zeros(2 * B * u) : undefined; // dh and dc of padded rows, which skip the step
  for (let step = T - 1; step >= 0; step--) {
    const t = spec.reverse ? T - 1 - step : step;
    // The output's gradient for this step: every state with sequences, else only the last one's.
    if (spec.sequences) {
      for (let b = 0; b < B; b++) {
        if (spec.zeroMasked && mask && mask[b * T + t] === 0) continue;
        for (let j = 0, src = (b * T + t) * u; j < u; j++) dh[b * u + j] += dy.data[src + j];
      }
    } else if (step === T - 1) dh.set(dy.data);
    if (step === T - 1 && dFinal[0]) for (let k = 0; k < B * u; k++) dh[k] += dFinal[0].data[k];
    if (passed) passed.set(dh), passed.set(dc, B * u);
    if (spec.cell === 'rnn') {
      for (let b = 0; b < B; b++) hStep.set(trace.h.subarray((b * T + t) * u, (b * T + t + 1) * u), b * u);
      activationGradInto(dz, hStep, dh, spec.activation ?? 'tanh', u);
    } else if (gru) {
      gruStep(trace, dz, dzh!, dh, B, T, u, t, resetBefore);
    } else {
      lstmStep(trace, dz, dh, dc, B, T, u, t);
    }
    if (mask) {
      for (let b = 0; b < B; b++) {
        if (mask[b * T + t] !== 0) continue;
        dz.fill(0, b * G, (b + 1) * G);
        dzh?.fill(0, b * G, (b + 1) * G);
      }
    }
    for (let b = 0; b < B; b++) dZ.set(dz.subarray(b * G, (b + 1) * G), (b * T + t) * G);
    if (dzh) for (let b = 0; b < B; b++) dZh.set(dzh.subarray(b * G, (b + 1) * G), (b * T + t) * G);
    // The GRU's gruStep left dh z in dh, the part of dh_prev that skips U.
    if (step > 0 || wantInitial) matmulInto(dh, dzh ?? dz, recurrentKernel.data, B, G, u, { transB: true, accumulate: gru });
    if (passed) carryMasked(mask!, t, T, u, dh, dc, passed);
  }
  const dInitial = !wantInitial ? [] : [dh, ...(spec.cell === 'lstm' ? [dc] : [])].map((d) => ({ shape: [B, u], data: d }));
  const dKernel = zeros(I * G);
  matmulInto(dKernel, x.data, dZ, I, B * T, G, { transA: true });
  const dRecurrent = zeros(u * G);
  matmulInto(dRecurrent, trace.hPrev, dZh, u, B * T, G, { transA: true });
  if (resetBefore) addCandidateKernelGrad(dRecurrent, trace.gates!, dZ, B * T, u);
  let dx: Tensor | null = null;
  if (wantInput) {
    const data = zeros(B * T * I);
    matmulInto(data, dZ, kernel.data, B * T, G, I, { transB: true });
    dx = { shape: [B, T, I], data };
  }
  return {
    dx,
    dInitial,
    dKernel: { shape: [I, G], data: dKernel },
    dRecurrentKernel: { shape: [u, G], data: dRecurrent },
    dBias: !trace.hasBias ? null : gru && !resetBefore ? gruBiasGrad(dZ, dZh, B * T, G) : { shape: [G], data: columnSums(dZ, B * T, G) },
  };
}

function gruBiasGrad(dZ: Float32Array, dZh: Float32Array, rows: number, G: number): Tensor {
  const data = zeros(2 * G);
  data.set(columnSums(dZ, rows, G));
  data.set(columnSums(dZh, rows, G), G);
  return { shape: [2, G], data };
}

/** reset_after = false: dU_h += (r h_prev)^T dA_h, U_h the last u of U's 3u columns; r h_prev is kept (slot 3 of 4u), dA_h is dZ's last u columns. */
function addCandidateKernelGrad(dU: Float32Array, kept: Float32Array, dZ: Float32Array, rows: number, u: number): void {
  const rh = zeros(rows * u), dah = zeros(rows * u), product = zeros(u * u);
  for (let row = 0; row < rows; row++) {
    rh.set(kept.subarray(row * 4 * u + 3 * u, (row + 1) * 4 * u), row * u);
    dah.set(dZ.subarray(row * 3 * u + 2 * u, (row + 1) * 3 * u), row * u);
  }
  matmulInto(product, rh, dah, u, rows, u, { transA: true });
  for (let i = 0; i < u; i++) for (let j = 0; j < u; j++) dU[i * 3 * u + 2 * u + j] += product[i * u + j];
}

/**
 * One GRU step back: dz (the a's) and dzh (the e's) [B, 3u] from dh, the
 * state's gradient after step t; dh becomes the part of dh_prev that skips U
 * (dh z, plus d(rh) r with reset_after = false).
 */
function gruStep(
  trace: RecurrentTrace, dz: Float32Array, dzh: Float32Array, dh: Float32Array, B: number, T: number, u: number, t: number,
  resetBefore?: ResetBefore & { dah: Float32Array },
): void {
  const kept = trace.gates!, hPrev = trace.hPrev;
  for (let b = 0; b < B; b++) {
    const row = b * T + t;
    for (let j = 0; j < u; j++) {
      const a = row * 4 * u + j;
      const z = kept[a], c = kept[a + 2 * u];
      const k = b * u + j;
      const daz = dh[k] * (hPrev[row * u + j] - c) * z * (1 - z);
      const dah = dh[k] * (1 - z) * (1 - c * c);
      const zb = b * 3 * u + j;
      dz[zb] = dzh[zb] = daz;
      dz[zb + 2 * u] = dah;
      if (resetBefore) resetBefore.dah[k] = dah;
    }
  }
  // reset_after = false: d(rh) = dA_h U_h^T, into resetBefore.rh.
  if (resetBefore) matmulInto(resetBefore.rh, resetBefore.dah, resetBefore.uh, B, u, u, { transB: true });
  for (let b = 0; b < B; b++) {
    const row = b * T + t;
    for (let j = 0; j < u; j++) {
      const a = row * 4 * u + j;
      const z = kept[a], r = kept[a + u];
      const k = b * u + j;
      const zb = b * 3 * u + j;
      if (resetBefore) {
        const drh = resetBefore.rh[k];
        dz[zb + u] = dzh[zb + u] = drh * hPrev[row * u + j] * r * (1 - r);
        dzh[zb + 2 * u] = 0;
        dh[k] = dh[k] * z + drh * r;
      } else {
        const dah = dz[zb + 2 * u];
        dz[zb + u] = dzh[zb + u] = dah * kept[a + 3 * u] * r * (1 - r);
        dzh[zb + 2 * u] = dah * r;
        dh[k] = dh[k] * z;
      }
    }
  }
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
