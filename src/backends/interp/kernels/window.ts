/**
 * Sliding-window geometry shared by convolution and pooling, exactly as
 * TensorFlow computes it for one spatial axis:
 *
 *   effective kernel  e   = dilation * (size - 1) + 1
 *   valid             out = floor((input - e) / stride) + 1,   no padding
 *   same              out = ceil(input / stride),
 *                     total padding = max((out - 1) * stride + e - input, 0),
 *                     padBefore = floor(total / 2)   (an odd extra cell goes at the end)
 *
 * Window `o` covers input cells o*stride - padBefore + t*dilation, t in [0, size).
 */
import { internal } from '../../../diagnostics.js';

export type Padding = 'valid' | 'same';

export interface Window {
  out: number;
  padBefore: number;
}

export function slidingWindow(
  input: number,
  size: number,
  stride: number,
  dilation: number,
  padding: Padding,
  who: string,
): Window {
  if (!(size >= 1 && stride >= 1 && dilation >= 1)) {
    throw internal(`${who}: size ${size}, stride ${stride} and dilation ${dilation} must be positive`);
  }
  const effective = dilation * (size - 1) + 1;
  if (padding === 'valid') {
    const out = Math.floor((input - effective) / stride) + 1;
    if (out < 1) throw internal(`${who}: window of extent ${effective} does not fit input of size ${input}`);
    return { out, padBefore: 0 };
  }
  if (padding === 'same') {
    const out = Math.ceil(input / stride);
    const total = Math.max((out - 1) * stride + effective - input, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  throw internal(`${who}: unknown padding '${padding as string}'`);
}
