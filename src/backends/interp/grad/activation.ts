/**
 * Backward of the activations, by their row in the activation table
 * (src/ops/activations.ts), which gives each derivative as a function of the
 * forward's output y or its input x; the row's wasm kernel runs where it has one.
 */
import { activationDef, backwardFrom, isNameArgs, nameArgs, type Activation, type ActivationArgs } from '../../../ops/activations.js';
import { reluGradWasm } from '../wasm/index.js';
import { buffer } from './util.js';

/** What `act`'s backward reads with arguments `p` (default: its bare name's): the forward's output ('y') or input ('x'). */
export const gradientFrom = (act: Activation, p?: ActivationArgs): 'x' | 'y' => backwardFrom(act, p);

/** dx[offset, offset + rows*width) from v (y or x, see gradientFrom) and dy over the same range; dx may alias dy. `p` as for gradientFrom. */
export function activationGradInto(
  dx: Float32Array,
  v: Float32Array,
  dy: Float32Array,
  act: Activation,
  width: number,
  offset = 0,
  rows = width === 0 ? 0 : (v.length - offset) / width,
  p: ActivationArgs = nameArgs(act),
): void {
  const end = offset + rows * width;
  if (end === offset) return;
  const row = activationDef(act);
  if (row.wasm?.backward === 'relu_grad' && isNameArgs(act, p) && reluGradWasm(dx.subarray(offset, end), v.subarray(offset, end), dy.subarray(offset, end))) return;
  row.backward.into(dx, v, dy, offset, end, width, p);
}

/** A fresh dx for y = act(x) over a whole tensor's data, rows of `width` (the last axis); `v` and `p` as for activationGradInto. */
export function activationGrad(v: Float32Array, dy: Float32Array, act: Activation, width: number, p?: ActivationArgs): Float32Array {
  const dx = buffer(v.length);
  activationGradInto(dx, v, dy, act, width, 0, undefined, p);
  return dx;
}
