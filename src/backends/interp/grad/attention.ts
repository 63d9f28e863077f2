/**
 * Multi-head attention for training: the forward of kernels/attention.ts
 * (the same code, so the same numbers) keeping the projections and every
 * head's probabilities, side by side with its backward.
 *
 * Letters as there: B batch, T query steps, S key/value steps, H heads, K key
 * size, V value size, O output width; scale = 1/sqrt(K).
 *
 *   forward   Q = (query Wq + bq) scale    Kp = key Wk + bk    Vp = value Wv + bv
 *             per head:  P = softmax(Q_h Kp_h^T)  (hidden entries: -1e9 first)   ctx_h = P Vp_h
 *             out = ctx Wo + bo
 *   backward  dWo = ctx^T dout,  dbo = sum dout,  dctx = dout Wo^T
 *             per head:  dP = dctx_h Vp_h^T,  dVp_h = P^T dctx_h
 *                        dS = P (dP - rowsum(dP P)), 0 at hidden entries (their score is a constant)
 *                        dQ_h = dS Kp_h,  dKp_h = dS^T Q_h
 *             then each projection as dense: dQ carries the scale back;
 *             dW = input^T dproj, db = sum dproj, dinput = dproj W^T.
 */
import type { AttentionKept, AttentionOptions, AttentionWeights } from '../kernels/attention.js';
import { attend, gather, hideScores, scatter, type AttentionMask } from '../kernels/attention.js';
import { matmulInto } from '../kernels/matmul.js';
import type { Tensor } from '../tensor.js';
import { buffer, columnSums, zeros } from './util.js';
import { scaleWasm } from '../wasm/index.js';

export interface AttentionTrace extends AttentionKept {
  query: Tensor;
  value: Tensor;
  key: Tensor;
  w: AttentionWeights;
  H: number; K: number; V: number; T: number; S: number; O: number;
  causal: boolean;
  mask?: AttentionMask;
}

/** The inference kernel itself (kernels/attention.ts's attend), keeping what the backward needs. */
export function attentionForward(
  query: Tensor,
  value: Tensor,
  key: Tensor,
  w: AttentionWeights,
  opts: AttentionOptions,
): { output: Tensor; trace: AttentionTrace } {
  const { heads: H, keyDim: K, valueDim: V = opts.keyDim, causal = false } = opts;
  const [B, T] = query.shape;
  const S = value.shape[1];
  const O = w.outputKernel.shape[1];
  const kept: AttentionKept = {
    Q: zeros(B * T * H * K),
    Kp: zeros(B * S * H * K),
    Vp: zeros(B * S * H * V),
    P: zeros(B * H * T * S),
    ctx: zeros(B * T * H * V),
  };
  const output = attend(query, value, key, w, opts, buffer(B * T * O), kept);
  return { output, trace: { query, value, key, w, H, K, V, T, S, O, causal, mask: opts.mask, ...kept } };
}

export interface AttentionGrads {
  dQuery: Tensor | null;
  dValue: Tensor | null;
  dKey: Tensor | null;
  /** By parameter name: query.kernel, query.bias, key.*, value.*, output.*. */
  params: Record<string, Tensor>;
}

export function attentionBackward(trace: AttentionTrace, dy: Tensor, want: { query: boolean; value: boolean; key: boolean }): AttentionGrads {
  const { w, H, K, V, T, S, O, Q, Kp, Vp, P, ctx } = trace;
  const B = trace.query.shape[0];
  const params: Record<string, Tensor> = {};
  // Output projection.
  const dWo = zeros(H * V * O);
  matmulInto(dWo, ctx, dy.data, H * V, B * T, O, { transA: true });
  params['output.kernel'] = { shape: [H * V, O], data: dWo };
  if (w.outputBias) params['output.bias'] = { shape: [O], data: columnSums(dy.data, B * T, O) };
  const dctx = zeros(B * T * H * V);
  matmulInto(dctx, dy.data, w.outputKernel.data, B * T, O, H * V, { transB: true });

  // The heads.
  const dQ = zeros(Q.length), dK = zeros(Kp.length), dV = zeros(Vp.length);
  const qh = zeros(T * K), kh = zeros(S * K), vh = zeros(S * V);
  const dctxh = zeros(T * V), dP = zeros(T * S);
  const dqh = zeros(T * K), dkh = zeros(S * K), dvh = zeros(S * V);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      gather(qh, Q, b * T, T, H * K, h * K, K);
      gather(kh, Kp, b * S, S, H * K, h * K, K);
      gather(vh, Vp, b * S, S, H * V, h * V, V);
      gather(dctxh, dctx, b * T, T, H * V, h * V, V);
      const p = P.subarray((b * H + h) * T * S, (b * H + h + 1) * T * S);
      matmulInto(dP, dctxh, vh, T, V, S, { transB: true });
      matmulInto(dvh, p, dctxh, S, T, V, { transA: true });
      for (let r = 0; r < T * S; r += S) {
        let dot = 0;
        for (let s = r; s < r + S; s++) dot += dP[s] * p[s];
        for (let s = r; s < r + S; s++) dP[s] = p[s] * (dP[s] - dot);
      }
      if (trace.causal || trace.mask) hideScores(dP, b, T, S, trace.causal, trace.mask, true);
      matmulInto(dqh, dP, kh, T, S, K);
      matmulInto(dkh, dP, qh, S, T, K, { transA: true });
      scatter(dQ, dqh, b * T, T, H * K, h * K, K);
      scatter(dK, dkh, b * S, S, H * K, h * K, K);
      scatter(dV, dvh, b * S, S, H * V, h * V, V);
    }
  }
  const scale = 1 / Math.sqrt(K);
  if (!scaleWasm(dQ, scale)) for (let i = 0; i < dQ.length; i++) dQ[i] *= scale;

  // The input projections, each a dense layer's backward.
  const back = (role: string, x: Tensor, kernel: Tensor, bias: Tensor | null, dproj: Float32Array, width: number, wantInput: boolean) => {
    const [rows, d] = [x.shape[0] * x.shape[1], x.shape[2]];
    const dW = zeros(d * width);
    matmulInto(dW, x.data, dproj, d, rows, width, { transA: true });
    params[`${role}.kernel`] = { shape: [d, width], data: dW };
    if (bias) params[`${role}.bias`] = { shape: [width], data: columnSums(dproj, rows, width) };
    if (!wantInput) return null;
    const dx = zeros(rows * d);
    matmulInto(dx, dproj, kernel.data, rows, width, d, { transB: true });
    return { shape: [...x.shape], data: dx };
  };
  return {
    dQuery: back('query', trace.query, w.queryKernel, w.queryBias, dQ, H * K, want.query),
    dKey: back('key', trace.key, w.keyKernel, w.keyBias, dK, H * K, want.key),
    dValue: back('value', trace.value, w.valueKernel, w.valueBias, dV, H * V, want.value),
    params,
  };
}
