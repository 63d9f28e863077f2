/**
 * Fully connected layer on the last axis, as Keras's Dense:
 *
 *   dense(x [..., in], kernel [in, units], bias [units] | null, act) -> [..., units]
 *
 * Leading dimensions are flattened into rows of one matmul; bias and
 * activation (softmax over `units`) are fused into its epilogue. `out`: the
 * planned output buffer (tensor.ts's outputBuffer).
 */
import type { Activation } from './activation.js';
import { matmulInto } from './matmul.js';
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape, sizeOf } from '../tensor.js';
import { internal } from '../../../diagnostics.js';

export function dense(x: Tensor, kernel: Tensor, bias: Tensor | null, activation: Activation = 'linear', out?: Float32Array): Tensor {
  const inDim = x.shape[x.shape.length - 1];
  if (x.shape.length < 1 || kernel.shape.length !== 2 || kernel.shape[0] !== inDim) {
    throw internal(`dense: input ${showShape(x.shape)} does not fit kernel ${showShape(kernel.shape)}`);
  }
  const units = kernel.shape[1];
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== units)) {
    throw internal(`dense: bias ${showShape(bias.shape)} does not match ${units} units`);
  }
  const rows = sizeOf(x.shape.slice(0, -1));
  const data = outputBuffer(out, rows * units, 'dense');
  matmulInto(data, x.data, kernel.data, rows, inDim, units, { bias: bias?.data ?? null, activation });
  return { shape: [...x.shape.slice(0, -1), units], data };
}
