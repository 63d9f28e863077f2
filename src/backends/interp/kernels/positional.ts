/**
 * Adding a fixed position encoding:
 *
 *   addPositional(x [B, T, d], table [T', d]) -> x + table[:T]   (T' >= T)
 *
 * The table itself, sinusoidalTable, is the runtime's (shared with generated
 * modules) and re-exported here as one of the kernels. `out`: the planned
 * output buffer (tensor.ts's outputBuffer).
 */
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { internal } from '../../../diagnostics.js';

export { sinusoidalTable } from '../../../runtime/positional.js';

export function addPositional(x: Tensor, table: Tensor, out?: Float32Array): Tensor {
  if (x.shape.length !== 3 || table.shape.length !== 2 || table.shape[1] !== x.shape[2] || table.shape[0] < x.shape[1]) {
    throw internal(`addPositional: table ${showShape(table.shape)} does not cover input ${showShape(x.shape)}`);
  }
  const [B, T, d] = x.shape;
  const span = T * d;
  const data = outputBuffer(out, B * span, 'addPositional');
  const xd = x.data, td = table.data;
  for (let b = 0; b < B; b++) {
    for (let i = 0, o = b * span; i < span; i++, o++) data[o] = xd[o] + td[i];
  }
  return { shape: [B, T, d], data };
}
