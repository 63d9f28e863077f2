/**
 * The sliding-window rule of TensorFlow, shared by the shape rules
 * (src/ops), the interpreter's kernels and gradients, and generated
 * TensorFlow.js modules (which carry it as support code).
 */
export type Padding = 'valid' | 'same';

/** A sliding window along one spatial axis: its output length and the zero cells added before and after the input. */
export interface WindowAxis {
  out: number;
  padBefore: number;
  padAfter: number;
}

/**
 * Sliding-window geometry along one spatial axis, exactly as TensorFlow
 * computes it; the one definition that shapes, kernels, gradients and the
 * emitters share:
 *
 *   effective kernel  e   = dilation * (size - 1) + 1
 *   valid             out = floor((input - e) / stride) + 1,   no padding
 *   same              out = ceil(input / stride),
 *                     total padding = max((out - 1) * stride + e - input, 0),
 *                     padBefore = floor(total / 2)   (an odd extra cell goes at the end)
 *
 * Window `o` covers input cells o*stride - padBefore + t*dilation, t in [0, size).
 * `out` may come out below 1 for valid padding; shape rules report that.
 */
export function windowAxis(input: number, size: number, stride: number, dilation: number, padding: Padding): WindowAxis {
  const effective = dilation * (size - 1) + 1;
  if (padding === 'valid') return { out: Math.floor((input - effective) / stride) + 1, padBefore: 0, padAfter: 0 };
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + effective - input, 0);
  return { out, padBefore: Math.floor(total / 2), padAfter: total - Math.floor(total / 2) };
}
