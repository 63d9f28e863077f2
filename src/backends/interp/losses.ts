/**
 * Losses and their gradients with respect to the predictions, as Keras
 * computes them, plus accuracy. Not the training loop (src/train/).
 *
 * Shapes: predictions [..., C]; the last axis holds the classes (or units),
 * every other position is one example ("row"), so a per-step classifier
 * [B, T, C] has B*T rows, as in Keras. N is the number of elements.
 *
 *   mse                              mean over all N elements of (p - y)^2
 *   binary_crossentropy              mean over all N elements of -(y log q + (1-y) log(1-q)), q = clip(p)
 *   categorical_crossentropy         mean over rows of -sum_c y_c log clip(p_c / sum p)   (targets one-hot or soft)
 *   sparse_categorical_crossentropy  mean over rows of -log(q_id / sum q),  q = clip(p)   (targets: class ids, one per row)
 *
 * clip(p) = min(max(p, 1e-7), 1 - 1e-7), Keras's epsilon (bounds in float32); the gradient does
 * not flow through a clipped value. Dividing by the row sum is Keras's (it
 * makes the loss ignore the scale of unnormalised predictions); for sparse
 * targets Keras clips first, then normalises (through a log-softmax).
 * Binary crossentropy averages over the last axis as Keras does (for one
 * sigmoid unit, the usual case, that is the mean over examples).
 *
 * From logits (lossAndGradFromLogits): what the autodiff uses when the output
 * is a softmax or sigmoid, as Keras does when it sees one; stable and unclipped:
 *   categorical  row loss  logsumexp(z) sum_c y_c - sum_c y_c z_c,   grad (p sum_c y_c - y) / rows
 *   sparse       row loss  logsumexp(z) - z_id,                       grad (p - onehot(id)) / rows
 *   binary       element   max(z, 0) - z y + log(1 + e^-|z|),         grad (sigmoid(z) - y) / N
 * Sums are taken in float64.
 */
import { buffer, zeros } from './grad/util.js';
import { activateInPlace, logistic } from './kernels/activation.js';
import type { LossName } from '../../runtime/losses.js';
import { showShape, sizeOf, Tensor } from './tensor.js';
import { internal } from '../../diagnostics.js';

/** Keras's backend epsilon; the clip bounds as float32 holds them (1 - 1e-7 rounds to 1 - 2^-23), as in Keras. */
const EPSILON = Math.fround(1e-7);
const ONE_MINUS_EPSILON = Math.fround(1 - 1e-7);

export interface LossAndGrad {
  loss: number;
  /** d loss / d predictions, the predictions' shape. */
  grad: Tensor;
}

/** Mean loss over the batch and d(loss)/d(prediction); predictions are probabilities (or values, for mse). */
export function lossAndGrad(loss: LossName, predictions: Tensor, targets: Tensor): LossAndGrad {
  const p = predictions.data;
  const y = targets.data;
  const grad = zeros(p.length);
  const C = classesOf(predictions);
  const rows = p.length / C;
  let total = 0;
  switch (loss) {
    case 'mse': {
      sameSize(loss, predictions, targets);
      const n = p.length;
      for (let i = 0; i < n; i++) {
        const d = p[i] - y[i];
        total += d * d;
        grad[i] = (2 * d) / n;
      }
      return { loss: total / n, grad: like(predictions, grad) };
    }
    case 'binary_crossentropy': {
      sameSize(loss, predictions, targets);
      const n = p.length;
      for (let i = 0; i < n; i++) {
        const q = clip(p[i]);
        total -= y[i] * Math.log(q) + (1 - y[i]) * Math.log(1 - q);
        grad[i] = inside(p[i]) ? (q - y[i]) / (q * (1 - q)) / n : 0;
      }
      return { loss: total / n, grad: like(predictions, grad) };
    }
    case 'categorical_crossentropy': {
      sameSize(loss, predictions, targets);
      for (let r = 0, o = 0; r < rows; r++, o += C) {
        let sum = 0;
        for (let c = 0; c < C; c++) sum += p[o + c];
        // g_c = d loss / d r_c with r = p / sum; then d loss / d p_j = (g_j - sum_c g_c r_c) / sum.
        let dot = 0;
        for (let c = 0; c < C; c++) {
          const ratio = p[o + c] / sum;
          const q = clip(ratio);
          total -= y[o + c] * Math.log(q);
          const g = inside(ratio) ? -y[o + c] / q / rows : 0;
          grad[o + c] = g;
          dot += g * ratio;
        }
        for (let c = 0; c < C; c++) grad[o + c] = (grad[o + c] - dot) / sum;
      }
      return { loss: total / rows, grad: like(predictions, grad) };
    }
    case 'sparse_categorical_crossentropy': {
      const ids = classIds(targets, rows, C);
      for (let r = 0, o = 0; r < rows; r++, o += C) {
        // q = clip(p); loss = -log q_id + log sum q; d/dq_j = 1/sum q - [j = id] / q_id.
        let sum = 0;
        for (let c = 0; c < C; c++) sum += clip(p[o + c]);
        const id = ids[r];
        const qId = clip(p[o + id]);
        total += Math.log(sum) - Math.log(qId);
        for (let c = 0; c < C; c++) {
          const g = 1 / sum - (c === id ? 1 / qId : 0);
          grad[o + c] = inside(p[o + c]) ? g / rows : 0;
        }
      }
      return { loss: total / rows, grad: like(predictions, grad) };
    }
    default:
      throw internal(`unknown loss '${loss as string}'`);
  }
}

/**
 * Loss and gradient from the logits z of a softmax (the crossentropies) or a
 * sigmoid (binary), computed together; also returns the probabilities.
 */
export function lossAndGradFromLogits(loss: LossName, logits: Tensor, targets: Tensor): LossAndGrad & { predictions: Tensor } {
  const z = logits.data;
  const y = targets.data;
  const C = classesOf(logits);
  const rows = z.length / C;
  const grad = zeros(z.length);
  const probs = buffer(z.length);
  probs.set(z);
  let total = 0;
  switch (loss) {
    case 'binary_crossentropy': {
      sameSize(loss, logits, targets);
      const n = z.length;
      for (let i = 0; i < n; i++) {
        total += Math.max(z[i], 0) - z[i] * y[i] + Math.log1p(Math.exp(-Math.abs(z[i])));
        probs[i] = logistic(z[i]);
        grad[i] = (probs[i] - y[i]) / n;
      }
      return { loss: total / n, grad: like(logits, grad), predictions: like(logits, probs) };
    }
    case 'categorical_crossentropy':
    case 'sparse_categorical_crossentropy': {
      const sparse = loss === 'sparse_categorical_crossentropy';
      const ids = sparse ? classIds(targets, rows, C) : null;
      if (!sparse) sameSize(loss, logits, targets);
      activateInPlace(probs, 'softmax', C);
      for (let r = 0, o = 0; r < rows; r++, o += C) {
        let max = -Infinity;
        for (let c = 0; c < C; c++) max = Math.max(max, z[o + c]);
        let sumExp = 0;
        for (let c = 0; c < C; c++) sumExp += Math.exp(z[o + c] - max);
        const lse = max + Math.log(sumExp);
        if (ids) {
          total += lse - z[o + ids[r]];
          for (let c = 0; c < C; c++) grad[o + c] = (probs[o + c] - (c === ids[r] ? 1 : 0)) / rows;
        } else {
          let mass = 0;
          for (let c = 0; c < C; c++) {
            mass += y[o + c];
            total += y[o + c] * (lse - z[o + c]);
          }
          for (let c = 0; c < C; c++) grad[o + c] = (probs[o + c] * mass - y[o + c]) / rows;
        }
      }
      return { loss: total / rows, grad: like(logits, grad), predictions: like(logits, probs) };
    }
    default:
      throw internal(`loss '${loss}' has no logits form`);
  }
}

/**
 * Fraction of correct predictions: the argmax matches (the target's argmax
 * for categorical, the class id for sparse) or, for binary, p > 0.5 matches
 * y > 0.5 for every element. null for mse.
 */
export function accuracy(loss: LossName, predictions: Tensor, targets: Tensor): number | null {
  const p = predictions.data;
  const y = targets.data;
  const C = classesOf(predictions);
  const rows = p.length / C;
  let correct = 0;
  switch (loss) {
    case 'mse':
      return null;
    case 'binary_crossentropy':
      sameSize(loss, predictions, targets);
      for (let i = 0; i < p.length; i++) if (p[i] > 0.5 === y[i] > 0.5) correct++;
      return p.length === 0 ? 0 : correct / p.length;
    case 'categorical_crossentropy':
      sameSize(loss, predictions, targets);
      for (let r = 0; r < rows; r++) if (argmax(p, r * C, C) === argmax(y, r * C, C)) correct++;
      return rows === 0 ? 0 : correct / rows;
    case 'sparse_categorical_crossentropy': {
      const ids = classIds(targets, rows, C);
      for (let r = 0; r < rows; r++) if (argmax(p, r * C, C) === ids[r]) correct++;
      return rows === 0 ? 0 : correct / rows;
    }
    default:
      throw internal(`unknown loss '${loss as string}'`);
  }
}

const clip = (p: number) => Math.min(Math.max(p, EPSILON), ONE_MINUS_EPSILON);
/** The clip's gradient is 1 inside the bounds (inclusive, as tf.clipByValue's), else 0. */
const inside = (p: number) => p >= EPSILON && p <= ONE_MINUS_EPSILON;

const like = (t: Tensor, data: Float32Array): Tensor => ({ shape: [...t.shape], data });

function classesOf(t: Tensor): number {
  return t.shape.length === 0 ? 1 : t.shape[t.shape.length - 1];
}

/** Index of the first largest of data[start, start + n), as tf.argMax. */
function argmax(data: Float32Array, start: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (data[start + c] > data[start + best]) best = c;
  return best;
}

function sameSize(loss: LossName, predictions: Tensor, targets: Tensor): void {
  if (predictions.data.length !== targets.data.length) {
    throw internal(`${loss}: targets ${showShape(targets.shape)} do not match predictions ${showShape(predictions.shape)}`);
  }
}

/** Class ids, one per row ([B], [B, 1], or [B, T] for per-step predictions), checked to be whole numbers in [0, C). */
function classIds(targets: Tensor, rows: number, C: number): Int32Array {
  if (sizeOf(targets.shape) !== rows) {
    throw internal(`sparse_categorical_crossentropy: expected ${rows} class ids, got targets ${showShape(targets.shape)}`);
  }
  const ids = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const id = targets.data[r];
    if (!Number.isInteger(id) || id < 0 || id >= C) {
      throw internal(`sparse_categorical_crossentropy: target ${id} at row ${r} is not a class id in [0, ${C})`);
    }
    ids[r] = id;
  }
  return ids;
}
