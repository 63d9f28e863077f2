/**
 * Table lookup, as Keras's Embedding:
 *
 *   embedding(ids [...], table [V, D]) -> [..., D],  out[..., :] = table[id, :]
 *
 * Ids arrive as float32 holding whole numbers (usually [B, T]); an id that is
 * not a whole number in [0, V) is an error, never clamped. `out`: the
 * planned output buffer (tensor.ts's outputBuffer).
 */
import type { Tensor } from '../tensor.js';
import { outputBuffer, showShape } from '../tensor.js';
import { internal, messages, UserError } from '../../../diagnostics.js';

export function embedding(ids: Tensor, table: Tensor, out?: Float32Array): Tensor {
  if (table.shape.length !== 2) throw internal(`embedding: table must be [V, D], got ${showShape(table.shape)}`);
  const [V, D] = table.shape;
  const data = outputBuffer(out, ids.data.length * D, 'embedding');
  for (let i = 0; i < ids.data.length; i++) {
    const id = ids.data[i];
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new UserError(messages.tokenOutOfRange(id, i, V));
    }
    for (let j = 0, from = id * D, to = i * D; j < D; j++) data[to + j] = table.data[from + j];
  }
  return { shape: [...ids.shape, D], data };
}
