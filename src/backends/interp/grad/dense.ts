/**
 * Backward of dense (kernels/dense.ts), given dz = d loss / d(x W + b), the
 * gradient before the activation (the caller applies activation.ts first):
 *
 *   forward   z [R, u] = x [R, in] W [in, u] + b,   R = all leading dims
 *   dW = x^T dz      db = sum over rows of dz      dx = dz W^T
 *
 * `transposed`: the kernel is stored as [u, in] (a tied embedding's table E,
 * W = E^T): dE = dz^T x, dx = dz E.
 *
 * Each product is one blocked matmul with a transposed operand.
 */
import { matmulInto } from '../kernels/matmul.js';
import type { Tensor } from '../tensor.js';
import { buffer, columnSums } from './util.js';

export interface Want {
  input: boolean;
  kernel: boolean;
  bias: boolean;
}

export interface LayerGrads {
  dx: Tensor | null;
  dKernel: Tensor | null;
  dBias: Tensor | null;
}

export function denseBackward(x: Tensor, kernel: Tensor, dz: Tensor, want: Want, transposed = false): LayerGrads {
  const [inDim, units] = transposed ? [kernel.shape[1], kernel.shape[0]] : kernel.shape;
  const rows = x.data.length / inDim;
  let dKernel: Tensor | null = null;
  let dx: Tensor | null = null;
  if (want.kernel) {
    const data = buffer(inDim * units);
    if (transposed) matmulInto(data, dz.data, x.data, units, rows, inDim, { transA: true });
    else matmulInto(data, x.data, dz.data, inDim, rows, units, { transA: true });
    dKernel = { shape: [...kernel.shape], data };
  }
  if (want.input) {
    const data = buffer(rows * inDim);
    matmulInto(data, dz.data, kernel.data, rows, units, inDim, { transB: !transposed });
    dx = { shape: [...x.shape], data };
  }
  const dBias = want.bias ? { shape: [units], data: columnSums(dz.data, rows, units) } : null;
  return { dx, dKernel, dBias };
}
