/**
 * Fully connected layer on the last axis, as Keras's Dense:
 *
 *   dense(x [..., in], kernel [in, units], bias [units] | null, act) -> [..., units]
 *
 * `transposed`: the kernel is stored as [units, in] (a tied embedding's table),
 * which the matmul's packing reads at no extra cost.
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

export function dense(x: Tensor, kernel: Tensor, bias: Tensor | null, activation: Activation = 'linear', out?: Float32Array, transposed = false): Tensor {
  const inDim = x.shape[x.shape.length - 1];
  const [kIn, units] = transposed ? [kernel.shape[1], kernel.shape[0]] : kernel.shape;
  if (x.shape.length < 1 || kernel.shape.length !== 2 || kIn !== inDim) {
    throw internal(`dense: input ${showShape(x.shape)} does not fit kernel ${showShape(kernel.shape)}${transposed ? ' (transposed)' : ''}`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== units)) {
    throw internal(`dense: bias ${showShape(bias.shape)} does not match ${units} units`);
  }
  const rows = sizeOf(x.shape.slice(0, -1));
  const data = outputBuffer(out, rows * units, 'dense');
  matmulInto(data, x.data, kernel.data, rows, inDim, units, { bias: bias?.data ?? null, activation, transB: transposed });
  return { shape: [...x.shape.slice(0, -1), units], data };
}
