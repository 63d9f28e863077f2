/**
 * The activation functions applied to a row-major block of `rows x width`
 * floats, by their row in the activation table (src/ops/activations.ts).
 * Softmax normalises each row of `width` (the last axis); every other
 * activation is elementwise. Used by the elementwise kernels and as the fused
 * epilogue of matmul, dense and conv. With the WebAssembly kernels loaded, an
 * activation whose row names a wasm kernel runs there (gemm.wat's activate
 * and softmax_rows: float32, exp within 2 ulp), wherever the data lives, so
 * that results depend on the kernel choice only; else the row's TypeScript
 * forward runs, in float64 per element.
 */
import { activationDef, isNameArgs, nameArgs, type Activation, type ActivationArgs } from '../../../ops/activations.js';
import { activateWasm } from '../wasm/index.js';

export type { Activation, ActivationArgs } from '../../../ops/activations.js';
export { logistic } from '../../../ops/activations.js';

/** Apply `act` (with its bare name's arguments) to `data[offset, offset + rows * width)`. */
export function activateInPlace(
  data: Float32Array,
  act: Activation,
  width: number,
  offset = 0,
  rows = width === 0 ? 0 : (data.length - offset) / width,
): void {
  activateInto(data, data, act, width, offset, rows);
}

/**
 * dst = act(src) over `[offset, offset + rows * width)` of both; dst may be
 * src. `p`: the activation's arguments (default: its bare name's, which the
 * WebAssembly kernels compute; other arguments run the table's forward).
 */
export function activateInto(
  dst: Float32Array,
  src: Float32Array,
  act: Activation,
  width: number,
  offset = 0,
  rows = width === 0 ? 0 : (src.length - offset) / width,
  p: ActivationArgs = nameArgs(act),
): void {
  const end = offset + rows * width;
  if (end === offset) return;
  const row = activationDef(act);
  const kernel = row.wasm && (isNameArgs(act, p) ? row.wasm.forward : row.wasm.forArgs?.(p));
  if (kernel !== undefined && activateWasm(dst.subarray(offset, end), src === dst ? dst.subarray(offset, end) : src.subarray(offset, end), kernel, width)) return;
  row.forward(dst, src, offset, end, width, p);
}
