/**
 * repeat_vector and its adjoint:
 *   repeatVector(x [B, d], n)     y[b, k, :] = x[b, :] for k < n    -> [B, n, d]
 *   repeatVectorBackward(dy, n)   dx[b, :] = sum over k of dy[b, k, :]
 */
import type { Tensor } from '../tensor.js';
import { outputBuffer } from '../tensor.js';

export function repeatVector(x: Tensor, n: number, out?: Float32Array): Tensor {
  const [B, d] = x.shape;
  const data = outputBuffer(out, B * n * d, 'repeat_vector');
  for (let b = 0; b < B; b++) {
    const row = x.data.subarray(b * d, (b + 1) * d);
    for (let k = 0; k < n; k++) data.set(row, (b * n + k) * d);
  }
  return { shape: [B, n, d], data };
}

export function repeatVectorBackward(dy: Tensor): Tensor {
  const [B, n, d] = dy.shape;
  const data = new Float32Array(B * d);
  for (let b = 0; b < B; b++) for (let k = 0; k < n; k++) for (let j = 0, from = (b * n + k) * d; j < d; j++) data[b * d + j] += dy.data[from + j];
  return { shape: [B, d], data };
}
