/**
 * Compile-time constant values and their arithmetic: numbers, tensors
 * (nested lists), strings and bare symbols such as `same`. Tensor arithmetic
 * broadcasts a scalar over a tensor or combines two tensors of one shape.
 */
import type { BinaryOp } from '../frontend/ast.js';
import type { ConstTensor } from './types.js';

export type ConstValue = number | boolean | string | { symbol: string } | ConstTensor;

export const isTensor = (v: unknown): v is ConstTensor => typeof v === 'object' && v !== null && 'data' in v && 'shape' in v;

export function describeConst(v: ConstValue): string {
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  if (typeof v === 'string') return `the string "${v}"`;
  if (isTensor(v)) return `a constant tensor of shape [${v.shape.join(', ')}]`;
  return `'${v.symbol}'`;
}

/** Stacks equal-shaped items (numbers or tensors) into one tensor; returns an error text when ragged. */
export function stack(items: (number | ConstTensor)[]): ConstTensor | string {
  if (items.length === 0) return { shape: [0], data: new Float64Array(0) };
  const shapeOf = (x: number | ConstTensor) => (typeof x === 'number' ? [] : x.shape);
  const inner = shapeOf(items[0]);
  for (const x of items)
    if (shapeOf(x).join() !== inner.join()) return `a nested list must be rectangular: found rows of shapes [${inner.join(', ')}] and [${shapeOf(x).join(', ')}]`;
  const size = inner.reduce((a, b) => a * b, 1);
  const data = new Float64Array(items.length * size);
  items.forEach((x, i) => (typeof x === 'number' ? (data[i] = x) : data.set(x.data, i * size)));
  return { shape: [items.length, ...inner], data };
}

const SCALAR_OPS: Record<BinaryOp, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '//': (a, b) => Math.floor(a / b),
  '%': (a, b) => a - b * Math.floor(a / b),
  '**': (a, b) => a ** b,
};

/** Applies `op` elementwise; returns an error text for mismatched shapes or division by zero. */
export function arithmetic(op: BinaryOp, a: number | ConstTensor, b: number | ConstTensor): number | ConstTensor | string {
  const f = SCALAR_OPS[op];
  if ((op === '/' || op === '//' || op === '%') && (typeof b === 'number' ? b === 0 : b.data.some((x) => x === 0))) return 'division by zero';
  if (typeof a === 'number' && typeof b === 'number') return f(a, b);
  if (typeof a !== 'number' && typeof b !== 'number' && a.shape.join() !== b.shape.join())
    return `cannot combine constant tensors of shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`;
  const shape = typeof a === 'number' ? (b as ConstTensor).shape : a.shape;
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(typeof a === 'number' ? a : a.data[i], typeof b === 'number' ? b : b.data[i]);
  return { shape, data };
}
