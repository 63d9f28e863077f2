/**
 * Tensors to and from JSON for `dlc run`: inputs and outputs are objects keyed
 * by the model's input and output names, each a nested array with the batch
 * dimension first. Inputs are checked against the model's static types, and
 * every problem names the input and the expected and actual shapes. A
 * dimension variable (T) takes any length, the same wherever it occurs.
 */
import { suggest, UserError } from '../../diagnostics.js';
import { dimName, type Graph, type TensorType } from '../../ir/types.js';
import { inputMessages, jsonInputMessages } from '../../runtime/messages.js';
import { showShape, type Tensor } from './tensor.js';

/** Bad input data: reported to the user as is, exit 1. */
export class InputError extends UserError {}

const expectedText = (type: TensorType) => `[batch, ${type.shape.slice(1).map((d) => (typeof d === 'string' ? dimName(d) : d)).join(', ')}]`;
/** The per-example shape fits the type's: equal, or any length where the type has a variable. */
const fits = (shape: number[], type: TensorType) => shape.length === type.shape.length - 1 && shape.every((d, i) => typeof type.shape[i + 1] === 'string' || d === type.shape[i + 1]);

/**
 * The size of each dimension variable in `inputs` (already checked one by one);
 * an InputError names a variable that two places give different sizes.
 */
export function dimSizes(graph: Graph, inputs: Record<string, { shape: number[] }>): Map<string, number> {
  const sizes = new Map<string, { size: number; input: string }>();
  for (const input of graph.inputs)
    input.type.shape.forEach((d, axis) => {
      if (typeof d !== 'string') return;
      const size = inputs[input.name].shape[axis];
      const seen = sizes.get(d);
      if (seen && seen.size !== size) throw new InputError(inputMessages.dimension(dimName(d), input.name, size, seen.input, seen.size));
      if (!seen) sizes.set(d, { size, input: input.name });
    });
  return new Map([...sizes].map(([d, { size }]) => [d, size]));
}
const at = (path: number[]) => path.map((p) => `[${p}]`).join('');

export function inputsFromJson(graph: Graph, json: unknown): Record<string, Tensor> {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new InputError(jsonInputMessages.notObject(graph.inputs.map((i) => `"${i.name}"`).join(', ')));
  const given = new Map(Object.entries(json));
  const names = graph.inputs.map((i) => i.name);
  for (const key of given.keys())
    if (!names.includes(key)) throw new InputError(jsonInputMessages.unknownKey(key, suggest(key, names), names.map((n) => `"${n}"`).join(', ')));
  const tensors: Record<string, Tensor> = {};
  let batch: number | undefined;
  for (const input of graph.inputs) {
    if (!given.has(input.name)) throw new InputError(inputMessages.missing(input.name, expectedText(input.type), ''));
    const t = tensorFromJson(input.name, given.get(input.name), input.type);
    if (batch !== undefined && t.shape[0] !== batch) throw new InputError(inputMessages.batchSize(input.name, t.shape[0], batch));
    batch = t.shape[0];
    tensors[input.name] = t;
  }
  dimSizes(graph, tensors);
  return tensors;
}

export function tensorFromJson(name: string, value: unknown, type: TensorType): Tensor {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const rank = type.shape.length;
  const perExample = type.shape.slice(1);
  if (shape.length === rank - 1 && shape.every((d, i) => d === perExample[i]))
    throw new InputError(inputMessages.unbatched(name, showShape(shape), expectedText(type), jsonInputMessages.batchHint));
  if (!fits(shape.slice(1), type) || shape.length !== rank || shape[0] === 0)
    throw new InputError(inputMessages.shape(name, showShape(shape), expectedText(type)));
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let i = 0;
  const walk = (v: unknown, depth: number, path: number[]): void => {
    if (depth === rank) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(jsonInputMessages.notFinite(name, at(path), JSON.stringify(v)));
      if (type.dtype === 'int32' && !Number.isInteger(v)) throw new InputError(jsonInputMessages.notWhole(name, at(path), v));
      data[i++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth])
      throw new InputError(jsonInputMessages.ragged(name, at(path), shape[depth], Array.isArray(v) ? String(v.length) : JSON.stringify(v)));
    v.forEach((x, k) => walk(x, depth + 1, [...path, k]));
  };
  walk(value, 0, []);
  return { shape, data };
}

/** Nested arrays, rounded to float32's precision so that JSON does not show noise digits. */
export function tensorToJson(t: Tensor): unknown {
  const build = (depth: number, offset: number): unknown => {
    if (depth === t.shape.length) return +t.data[offset].toPrecision(7);
    const stride = t.shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: t.shape[depth] }, (_, k) => build(depth + 1, offset + k * stride));
  };
  return build(0, 0);
}
