/**
 * Sliding-window geometry for the kernels: TensorFlow's rule for one spatial
 * axis (windowAxis in src/ops/op.ts, the one definition shapes, kernels,
 * gradients and emitters share), checked, since kernels are also called
 * directly with sizes no shape rule has seen.
 */
import { windowAxis, type Padding, type WindowAxis } from '../../../ops/op.js';
import { internal } from '../../../diagnostics.js';

export type { Padding } from '../../../ops/op.js';
export type Window = WindowAxis;

export function slidingWindow(input: number, size: number, stride: number, dilation: number, padding: Padding, who: string): Window {
  if (!(size >= 1 && stride >= 1 && dilation >= 1)) {
    throw internal(`${who}: size ${size}, stride ${stride} and dilation ${dilation} must be positive`);
  }
  if (padding !== 'valid' && padding !== 'same') throw internal(`${who}: unknown padding '${padding as string}'`);
  const w = windowAxis(input, size, stride, dilation, padding);
  if (w.out < 1) throw internal(`${who}: window of extent ${dilation * (size - 1) + 1} does not fit input of size ${input}`);
  return w;
}
