/**
 * Multi-head scaled dot-product attention, forward only, as Keras's
 * MultiHeadAttention up to the layout of its kernels (Keras stores e.g. the
 * query kernel as [dq, H, K]; here it is the same numbers viewed as [dq, H*K]).
 *
 *   multiHeadAttention(query [B,T,dq], value [B,S,dv], key [B,S,dk], w, {heads H, keyDim K, valueDim V, causal})
 *     -> [B,T,O]
 *
 *   Q = query Wq + bq  [B,T,H*K]     Kp = key Wk + bk  [B,S,H*K]     Vp = value Wv + bv  [B,S,H*V]
 *   head h uses columns [h*K, (h+1)*K) of Q and Kp and [h*V, (h+1)*V) of Vp:
 *     P_h   = softmax_s(Q_h Kp_h^T / sqrt(K))       [B,T,S], hidden entries (s > t when causal, and
 *                                                   where `mask` hides them) set to -1e9 first, as
 *                                                   Keras's masked softmax: a query step that sees
 *                                                   nothing spreads evenly over all S
 *     ctx_h = P_h Vp_h                              [B,T,V]
 *   out = concat_h(ctx_h) Wo + bo                   [B,T,O]
 *
 * For self-attention pass the same tensor as query, value and key. Biases may
 * be null (Keras's use_bias=False). Q, Kp, Vp and each head's operands are
 * scratch on the kernel's heap, so every product runs in place in the
 * WebAssembly matmul; `out` is the planned output buffer (tensor.ts).
 * Without a mask, the heads run as one WebAssembly kernel (gemm.wat's
 * attention_heads) with the (example, head) pairs shared out on the threads:
 * per head the same products and softmax as the loop below, so the same bits
 * whatever the thread count. Run head by head, one product of [128, 32] x
 * [32, 128] was too small to share, and an encoder block's heads ran on one
 * thread.
 */
import { activateInPlace } from './activation.js';
import { matmulInto } from './matmul.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { withScratch } from '../wasm/heap.js';
import { attentionHeadsWasm, copyRowsWasm, heap, scaleWasm } from '../wasm/index.js';
import { internal } from '../../../diagnostics.js';

export interface AttentionWeights {
  queryKernel: Tensor; // [dq, H*K]
  queryBias: Tensor | null; // [H*K]
  keyKernel: Tensor; // [dk, H*K]
  keyBias: Tensor | null; // [H*K]
  valueKernel: Tensor; // [dv, H*V]
  valueBias: Tensor | null; // [H*V]
  outputKernel: Tensor; // [H*V, O]
  outputBias: Tensor | null; // [O]
}

export interface AttentionOptions {
  heads: number;
  keyDim: number;
  /** Defaults to keyDim, as in Keras. */
  valueDim?: number;
  causal?: boolean;
  mask?: AttentionMask;
}

/**
 * Which scores a query step may use, as Keras's MultiHeadAttention builds its
 * attention mask: (b, t, s) is kept when query[b*T + t], key[b*S + s] and
 * pairs[(b*T + t)*S + s] are all nonzero (a null part keeps everything).
 * `query` is the query's padding mask, `key` the value's and key's (and a
 * [S] `mask =`), `pairs` a [T, S] `mask =` per example.
 */
export interface AttentionMask {
  query: Float32Array | null;
  key: Float32Array | null;
  pairs: Float32Array | null;
}

/** Keras's score for a hidden entry (float32; -3e4 only in float16). */
export const HIDDEN_SCORE = -1e9;

/** Sets the hidden entries of example b's scores [T, S] (causal and masked) to HIDDEN_SCORE; with `zero`, zeroes them instead (the backward's dS). */
export function hideScores(scores: Float32Array, b: number, T: number, S: number, causal: boolean, mask: AttentionMask | undefined, zero = false): void {
  const value = zero ? 0 : HIDDEN_SCORE;
  for (let t = 0; t < T; t++) {
    const row = t * S;
    if (causal) scores.fill(value, row + Math.min(t + 1, S), row + S);
    if (!mask) continue;
    if (mask.query && mask.query[b * T + t] === 0) {
      scores.fill(value, row, row + S);
      continue;
    }
    for (let s = 0; s < S; s++) {
      if ((mask.key && mask.key[b * S + s] === 0) || (mask.pairs && mask.pairs[(b * T + t) * S + s] === 0)) scores[row + s] = value;
    }
  }
}

export function multiHeadAttention(
  query: Tensor,
  value: Tensor,
  key: Tensor,
  w: AttentionWeights,
  opts: AttentionOptions,
  out?: Float32Array,
): Tensor {
  return attend(query, value, key, w, opts, out, null);
}

/** What the backward needs (grad/attention.ts): the projections, every head's probabilities, the heads' outputs. */
export interface AttentionKept {
  /** The scaled query projection [B*T, H*K], key and value projections [B*S, H*K], [B*S, H*V]. */
  Q: Float32Array;
  Kp: Float32Array;
  Vp: Float32Array;
  /** Probabilities [B, H, T, S] and the heads' concatenated outputs [B*T, H*V]. */
  P: Float32Array;
  ctx: Float32Array;
}

/** multiHeadAttention, copying into `keep` (when given, sized as its fields say) what the backward needs. */
export function attend(
  query: Tensor,
  value: Tensor,
  key: Tensor,
  w: AttentionWeights,
  opts: AttentionOptions,
  out: Float32Array | undefined,
  keep: AttentionKept | null,
): Tensor {
  const { heads: H, keyDim: K, valueDim: V = opts.keyDim, causal = false, mask } = opts;
  if (query.shape.length !== 3 || value.shape.length !== 3 || key.shape.length !== 3) {
    throw internal(
      `multiHeadAttention: expected rank-3 inputs, got query ${showShape(query.shape)}, value ${showShape(value.shape)}, key ${showShape(key.shape)}`,
    );
  }
  const [B, T] = query.shape;
  const S = value.shape[1];
  if (key.shape[0] !== B || value.shape[0] !== B || key.shape[1] !== S) {
    throw internal(`multiHeadAttention: batch or length mismatch: query ${showShape(query.shape)}, value ${showShape(value.shape)}, key ${showShape(key.shape)}`);
  }
  if (w.outputKernel.shape.length !== 2 || w.outputKernel.shape[0] !== H * V) {
    throw internal(`multiHeadAttention: output kernel ${showShape(w.outputKernel.shape)} should be [${H * V}, O]`);
  }
  const O = w.outputKernel.shape[1];
  const data = outputBuffer(out, B * T * O, 'multiHeadAttention');
  withScratch(heap(), (take) => {
    const Q = project(take, query, w.queryKernel, w.queryBias, H * K, 'query');
    const Kp = project(take, key, w.keyKernel, w.keyBias, H * K, 'key');
    const Vp = project(take, value, w.valueKernel, w.valueBias, H * V, 'value');
    const scale = 1 / Math.sqrt(K);
    if (!scaleWasm(Q, scale)) for (let i = 0; i < Q.length; i++) Q[i] *= scale; // as Keras: scale the query, not the scores

    const ctx = take(B * T * H * V);
    // Without a mask, every head at once in WebAssembly, shared out on the threads by (example, head);
    // else (or without the kernel) head by head here.
    if (mask || !attentionHeadsWasm(ctx, Q, Kp, Vp, keep?.P ?? null, { B, T, S, H, K, V, causal })) {
      const qh = take(T * K);
      const kh = take(S * K);
      const vh = take(S * V);
      const scores = take(T * S);
      const ctxh = take(T * V);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          gather(qh, Q, b * T, T, H * K, h * K, K);
          gather(kh, Kp, b * S, S, H * K, h * K, K);
          gather(vh, Vp, b * S, S, H * V, h * V, V);
          matmulInto(scores, qh, kh, T, K, S, { transB: true });
          if (causal || mask) hideScores(scores, b, T, S, causal, mask);
          activateInPlace(scores, 'softmax', S, 0, T);
          keep?.P.set(scores, (b * H + h) * T * S);
          matmulInto(ctxh, scores, vh, T, S, V);
          scatter(ctx, ctxh, b * T, T, H * V, h * V, V);
        }
      }
    }
    matmulInto(data, ctx, w.outputKernel.data, B * T, H * V, O, { bias: w.outputBias?.data ?? null });
    if (keep) for (const [to, from] of [[keep.Q, Q], [keep.Kp, Kp], [keep.Vp, Vp], [keep.ctx, ctx]]) to.set(from);
  });
  return { shape: [B, T, O], data };
}

/** x [B,L,d] W [d,width] + bias -> [B*L, width], in scratch. */
function project(take: (floats: number) => Float32Array, x: Tensor, kernel: Tensor, bias: Tensor | null, width: number, role: string): Float32Array {
  const d = x.shape[2];
  if (kernel.shape.length !== 2 || kernel.shape[0] !== d || kernel.shape[1] !== width || (bias && bias.data.length !== width)) {
    throw internal(
      `multiHeadAttention: ${role} kernel ${showShape(kernel.shape)}${bias ? ` and bias ${showShape(bias.shape)}` : ''} should be [${d}, ${width}] and [${width}]`,
    );
  }
  const rows = x.shape[0] * x.shape[1];
  const out = take(rows * width);
  matmulInto(out, x.data, kernel.data, rows, d, width, { bias: bias?.data ?? null });
  return out;
}

/** dst[r, :] = src[row0 + r, col0 : col0 + n] for r < rows, with `stride` floats per src row. */
export function gather(dst: Float32Array, src: Float32Array, row0: number, rows: number, stride: number, col0: number, n: number): void {
  if (copyRowsWasm(dst, src.subarray(row0 * stride + col0), rows, n, n, stride)) return;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, from = (row0 + r) * stride + col0, to = r * n; j < n; j++) dst[to + j] = src[from + j];
  }
}

/** gather's inverse: dst[row0 + r, col0 : col0 + n] = src[r, :]. */
export function scatter(dst: Float32Array, src: Float32Array, row0: number, rows: number, stride: number, col0: number, n: number): void {
  if (copyRowsWasm(dst.subarray(row0 * stride + col0), src, rows, n, stride, n)) return;
  for (let r = 0; r < rows; r++) {
    for (let j = 0, to = (row0 + r) * stride + col0, from = r * n; j < n; j++) dst[to + j] = src[from + j];
  }
}
