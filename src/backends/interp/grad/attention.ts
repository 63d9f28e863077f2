/**
 * Multi-head attention for training: the forward of kernels/attention.ts (same
 * operations in the same order, so the same numbers) keeping the projections
 * and every head's probabilities, side by side with its backward.
 *
 * Letters as there: B batch, T query steps, S key/value steps, H heads, K key
 * size, V value size, O output width; scale = 1/sqrt(K).
 *
 *   forward   Q = (query Wq + bq) scale    Kp = key Wk + bk    Vp = value Wv + bv
 *             per head:  P = softmax(Q_h Kp_h^T)  (masked: s > t when causal)   ctx_h = P Vp_h
 *             out = ctx Wo + bo
 *   backward  dWo = ctx^T dout,  dbo = sum dout,  dctx = dout Wo^T
 *             per head:  dP = dctx_h Vp_h^T,  dVp_h = P^T dctx_h
 *                        dS = P (dP - rowsum(dP P))        (masked entries have P = 0: no gradient)
 *                        dQ_h = dS Kp_h,  dKp_h = dS^T Q_h
 *             then each projection as dense: dQ carries the scale back;
 *             dW = input^T dproj, db = sum dproj, dinput = dproj W^T.
 */
import { activateInPlace } from '../kernels/activation.js';
import type { AttentionOptions, AttentionWeights } from '../kernels/attention.js';
import { matmulInto } from '../kernels/matmul.js';
import type { Tensor } from '../tensor.js';
import { columnSums } from './util.js';

export interface AttentionTrace {
  query: Tensor;
  value: Tensor;
  key: Tensor;
  w: AttentionWeights;
  H: number; K: number; V: number; T: number; S: number; O: number;
  causal: boolean;
  /** The scaled query projection [B*T, H*K], key and value projections [B*S, H*K], [B*S, H*V]. */
  Q: Float32Array;
  Kp: Float32Array;
  Vp: Float32Array;
  /** Probabilities [B, H, T, S] and the heads' concatenated outputs [B*T, H*V]. */
  P: Float32Array;
  ctx: Float32Array;
}

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
  const Q = project(query, w.queryKernel, w.queryBias, H * K);
  const Kp = project(key, w.keyKernel, w.keyBias, H * K);
  const Vp = project(value, w.valueKernel, w.valueBias, H * V);
  const scale = 1 / Math.sqrt(K);
  for (let i = 0; i < Q.length; i++) Q[i] *= scale;

  const qh = new Float32Array(T * K), kh = new Float32Array(S * K), vh = new Float32Array(S * V);
  const ctxh = new Float32Array(T * V);
  const P = new Float32Array(B * H * T * S);
  const ctx = new Float32Array(B * T * H * V);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      gather(qh, Q, b * T, T, H * K, h * K, K);
      gather(kh, Kp, b * S, S, H * K, h * K, K);
      gather(vh, Vp, b * S, S, H * V, h * V, V);
      const scores = P.subarray((b * H + h) * T * S, (b * H + h + 1) * T * S);
      matmulInto(scores, qh, kh, T, K, S, { transB: true });
      if (causal) for (let t = 0; t < T; t++) scores.fill(-Infinity, t * S + Math.min(t + 1, S), (t + 1) * S);
      activateInPlace(scores, 'softmax', S, 0, T);
      matmulInto(ctxh, scores, vh, T, S, V);
      scatter(ctx, ctxh, b * T, T, H * V, h * V, V);
    }
  }
  const out = new Float32Array(B * T * O);
  matmulInto(out, ctx, w.outputKernel.data, B * T, H * V, O, { bias: w.outputBias?.data ?? null });
  return { output: { shape: [B, T, O], data: out }, trace: { query, value, key, w, H, K, V, T, S, O, causal, Q, Kp, Vp, P, ctx } };
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
  const dWo = new Float32Array(H * V * O);
  matmulInto(dWo, ctx, dy.data, H * V, B * T, O, { transA: true });
  params['output.kernel'] = { shape: [H * V, O], data: dWo };
  if (w.outputBias) params['output.bias'] = { shape: [O], data: columnSums(dy.data, B * T, O) };
  const dctx = new Float32Array(B * T * H * V);
  matmulInto(dctx, dy.data, w.outputKernel.data, B * T, O, H * V, { transB: true });

  // The heads.
  const dQ = new Float32Array(Q.length), dK = new Float32Array(Kp.length), dV = new Float32Array(Vp.length);
  const qh = new Float32Array(T * K), kh = new Float32Array(S * K), vh = new Float32Array(S * V);
  const dctxh = new Float32Array(T * V), dP = new Float32Array(T * S);
  const dqh = new Float32Array(T * K), dkh = new Float32Array(S * K), dvh = new Float32Array(S * V);
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
      matmulInto(dqh, dP, kh, T, S, K);
      matmulInto(dkh, dP, qh, S, T, K, { transA: true });
      scatter(dQ, dqh, b * T, T, H * K, h * K, K);
      scatter(dK, dkh, b * S, S, H * K, h * K, K);
      scatter(dV, dvh, b * S, S, H * V, h * V, V);
    }
  }
  const scale = 1 / Math.sqrt(K);
  for (let i = 0; i < dQ.length; i++) dQ[i] *= scale;

  // The input projections, each a dense layer's backward.
  const back = (role: string, x: Tensor, kernel: Tensor, bias: Tensor | null, dproj: Float32Array, width: number, wantInput: boolean) => {
    const [rows, d] = [x.shape[0] * x.shape[1], x.shape[2]];
    const dW = new Float32Array(d * width);
    matmulInto(dW, x.data, dproj, d, rows, width, { transA: true });
    params[`${role}.kernel`] = { shape: [d, width], data: dW };
    if (bias) params[`${role}.bias`] = { shape: [width], data: columnSums(dproj, rows, width) };
    if (!wantInput) return null;
    const dx = new Float32Array(rows * d);
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

/** x [B,L,d] W [d,width] + bias -> [B*L, width]. */
function project(x: Tensor, kernel: Tensor, bias: Tensor | null, width: number): Float32Array {
  const rows = x.shape[0] * x.shape[1];
  const out = new Float32Array(rows * width);
  matmulInto(out, x.data, kernel.data, rows, x.shape[2], width, { bias: bias?.data ?? null });
  return out;
}

/** dst[r, :] = src[row0 + r, col0 : col0 + n] for r < rows, with `stride` floats per src row. */
function gather(dst: Float32Array, src: Float32Array, row0: number, rows: number, stride: number, col0: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const from = (row0 + r) * stride + col0;
    dst.set(src.subarray(from, from + n), r * n);
  }
}

/** dst[row0 + r, col0 : col0 + n] = src[r, :], the inverse of gather. */
function scatter(dst: Float32Array, src: Float32Array, row0: number, rows: number, stride: number, col0: number, n: number): void {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * n, (r + 1) * n), (row0 + r) * stride + col0);
}
