/**
 * Tensor ops on one axis of each example, or on the order of its axes:
 * take (one position, the axis dropped: BERT's [CLS] vector), slice (a range,
 * the axis kept), mean and sum (over one axis), permute (Keras Permute).
 * Weightless and counted as 0 FLOPs, as Keras counts its reshaping layers.
 *
 * Axes count as Keras does: 0 is the batch (an error here), 1 the first axis
 * of an example, -1 the last. Positions count from 0; negative ones from the
 * end, as in Python. Every op but permute resolves to the layout
 * [outer, n, inner] of its axis (per example), which is all its kernels need.
 */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims, product, type OpContext } from './op.js';

/** One axis of an example seen as [outer, n, inner]; `axis` is Keras's, resolved to be positive (1 the first after the batch). */
export interface AxisLayout {
  axis: number;
  outer: number;
  n: number;
  inner: number;
}

/** The axis argument `name`, resolved; the batch or one beyond the input's rank is a located error. */
function axisLayout(ctx: OpContext, name: string): AxisLayout {
  const d = dims(ctx.input);
  const given = ctx.int(name);
  const axis = given < 0 ? d.length + 1 + given : given;
  if (axis < 1 || axis > d.length) ctx.fail(shapeRules.tensorAxis(ctx.op.name, given, axis === 0, d));
  return { axis, outer: product(d.slice(0, axis - 1)), n: d[axis - 1], inner: product(d.slice(axis)) };
}

const axisArg = (fallback: number) => ({
  name: 'axis',
  type: { kind: 'int', min: -Infinity } as const,
  default: fallback,
  doc: 'the axis, counted as Keras does: 1 is the first after the batch, -1 the last',
});

/** take and slice: positions [start, start + length) of the axis; take drops the axis (length 1). */
export interface SliceAttrs extends AxisLayout {
  start: number;
  length: number;
}

export const take = defineOp<SliceAttrs>({
  name: 'take',
  family: 'shape',
  doc: 'One position along an axis, dropping the axis (x -> take(0) on [T, d] gives [d]).',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [
    { name: 'index', type: { kind: 'int', min: -Infinity }, positional: true, doc: 'the position, from 0; negative counts from the end' },
    axisArg(1),
  ],
  infer(ctx) {
    const a = axisLayout(ctx, 'axis');
    const given = ctx.int('index');
    const start = given < 0 ? a.n + given : given;
    if (start < 0 || start >= a.n) ctx.fail(shapeRules.takeIndex(given, a.axis, dims(ctx.input)));
    const shape = dims(ctx.input).filter((_, k) => k !== a.axis - 1);
    return { type: batched(shape), attrs: { ...a, start, length: 1 } };
  },
  label: (a) => `[${a.start}] axis ${a.axis}`,
});

export const slice = defineOp<SliceAttrs>({
  name: 'slice',
  family: 'shape',
  doc: 'Positions start to end (exclusive) along an axis, keeping the axis; negatives count from the end.',
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [
    { name: 'start', type: { kind: 'int', min: -Infinity }, positional: true, doc: 'the first position kept, from 0; negative counts from the end' },
    { name: 'end', type: { kind: 'int', min: -Infinity }, positional: true, optional: true, doc: 'the position after the last kept (default: the end of the axis)' },
    axisArg(1),
  ],
  infer(ctx) {
    const a = axisLayout(ctx, 'axis');
    const d = dims(ctx.input);
    const at = (i: number) => (i < 0 ? a.n + i : i);
    const [start, end] = [at(ctx.int('start')), at(ctx.maybeInt('end') ?? a.n)];
    // Python would clamp and allow an empty slice; a model means neither, so both are errors.
    const outside = start < 0 || start > a.n || end < 0 || end > a.n;
    if (outside || end <= start) ctx.fail(shapeRules.sliceRange(ctx.int('start'), ctx.maybeInt('end'), !outside, a.axis, d));
    return { type: batched(d.map((n, k) => (k === a.axis - 1 ? end - start : n))), attrs: { ...a, start, length: end - start } };
  },
  label: (a) => `[${a.start}:${a.start + a.length}] axis ${a.axis}`,
});

export type ReduceKind = 'mean' | 'sum';

export interface ReduceAttrs extends AxisLayout {
  kind: ReduceKind;
  keepdims: boolean;
}

function reduceOp(kind: ReduceKind, doc: string) {
  return defineOp<ReduceAttrs>({
    name: kind,
    family: 'shape',
    doc,
    inputs: { min: 1, max: 1, names: ['x'] },
    attrs: [
      { ...axisArg(-1), positional: true },
      { name: 'keepdims', type: { kind: 'bool' }, default: false, doc: 'keep the axis as size 1' },
    ],
    infer(ctx) {
      const a = axisLayout(ctx, 'axis');
      const keepdims = ctx.bool('keepdims');
      const d = dims(ctx.input);
      const shape = keepdims ? d.map((n, k) => (k === a.axis - 1 ? 1 : n)) : d.filter((_, k) => k !== a.axis - 1);
      return { type: batched(shape), attrs: { ...a, kind, keepdims } };
    },
    label: (a) => `axis ${a.axis}${a.keepdims ? ' keepdims' : ''}`,
  });
}

export const mean = reduceOp('mean', 'The mean over one axis (default: the last), dropping it unless keepdims.');
export const sum = reduceOp('sum', 'The sum over one axis (default: the last), dropping it unless keepdims.');

/** permute: output axis k of an example is input axis perm[k] (0-based, batch excluded). */
export interface PermuteAttrs {
  perm: number[];
  /** The input's per-example shape. */
  in: number[];
}

export const permute = defineOp<PermuteAttrs>({
  name: 'permute',
  family: 'shape',
  doc: "Reorders the axes of each example (Keras Permute): permute([2, 1]) swaps a [T, d] input's two axes.",
  inputs: { min: 1, max: 1, names: ['x'] },
  attrs: [{ name: 'dims', type: { kind: 'ints' }, positional: true, doc: 'the input axis for each output axis, 1-based, the batch excluded' }],
  infer(ctx) {
    const d = dims(ctx.input);
    const v = ctx.attrs.dims;
    const given = typeof v === 'number' ? [v] : (v as number[]);
    const sorted = [...given].sort((p, q) => p - q);
    if (given.length !== d.length || sorted.some((k, i) => k !== i + 1)) ctx.fail(shapeRules.notPermutation(given, d));
    const perm = given.map((k) => k - 1);
    return { type: batched(perm.map((k) => d[k])), attrs: { perm, in: d } };
  },
  label: (a) => `(${a.perm.map((k) => k + 1).join(', ')})`,
});
