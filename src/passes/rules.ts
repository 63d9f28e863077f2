/**
 * The optimizer's rewrite rules, as data: each has a name, a one-line pattern
 * -> replacement, and its match. Folding evaluates with the interpreter's own
 * kernels, so an op's meaning is defined once.
 */
import { evaluateNode } from '../backends/interp/execute.js';
import { sinusoidalTable } from '../runtime/positional.js';
import { windowAxis } from '../runtime/window.js';
import { layerStats } from '../ir/infer.js';
import type { Node } from '../ir/types.js';
import { type Activation, type ActivationAttrs, FUSABLE_ACTIVATIONS, isNameArgs } from '../ops/activations.js';
import type { AttrsOf, OpName } from '../ops/index.js';
import type { Rule, RuleContext } from './rewrite.js';

const sameShape = (a: Node, b: Node) => a.type.shape.join() === b.type.shape.join();

/**
 * The most values a fold may produce. A folded constant is written out in
 * full, into the IR and into a generated module as text (about 20 bytes a
 * value): a sinusoidal table of [2000, 500] made a 21 MB .ts file and one of
 * [10000, 500] exhausted the heap. Above this the node stays an op, which the
 * interpreter and the generated module compute at run time. 16,384 values
 * (a [128, 128] table) keep a module's constants under about 350 KB.
 */
export const MAX_FOLDED_VALUES = 16_384;

/** The values per example of a node's output (its type without the batch); Infinity over a symbolic length. */
const valuesOf = (n: Node) => n.type.shape.slice(1).reduce((a: number, d) => a * (typeof d === 'number' ? d : Infinity), 1);

/** Identity numbers for nodes, for common-subexpression keys. */
let nextIdentity = 0;
const identities = new WeakMap<Node, number>();
const identity = (n: Node) => identities.get(n) ?? (identities.set(n, ++nextIdentity), nextIdentity);
const key = (n: Node) => `${n.op}(${n.inputs.map(identity).join(',')})${JSON.stringify(n.attrs, (_, v) => (v instanceof Float64Array ? Array.from(v) : v))}`;

export const FOLD: Rule[] = [
  {
    name: 'fold-sinusoidal',
    doc: 'positional(x, sinusoidal) -> add(x, constant(table)), for tables of at most MAX_FOLDED_VALUES',
    apply(node, cx) {
      if (node.op !== 'positional' || (node.resolved as AttrsOf<'positional'>).kind !== 'sinusoidal') return undefined;
      const [, steps, width] = node.type.shape;
      // A symbolic length, or a table too large to hold in the graph: it is made at run time.
      if (typeof steps !== 'number' || typeof width !== 'number' || steps * width > MAX_FOLDED_VALUES) return undefined;
      const table = sinusoidalTable(steps, width);
      const constant = cx.make({ ...node, name: `${node.name}/table`, op: 'constant', inputs: [], attrs: { value: { shape: [steps, width], data: Float64Array.from(table.data) } } });
      return cx.make({ ...node, op: 'add', inputs: [node.inputs[0], constant], attrs: {} });
    },
  },
  {
    name: 'fold-constant',
    doc: 'op(constant, ...) -> constant, evaluated by the interpreter, for results of at most MAX_FOLDED_VALUES',
    apply(node, cx) {
      if (node.op === 'constant' || node.inputs.length === 0 || !node.inputs.every((i) => i.op === 'constant')) return undefined;
      if (valuesOf(node) > MAX_FOLDED_VALUES) return undefined;
      if (layerStats(node).params.some((p) => !p.value)) return undefined; // learned weights are not constants
      const value = evaluateNode(node);
      return cx.make({ ...node, op: 'constant', inputs: [], attrs: { value } });
    },
  },
];

export const SIMPLIFY: Rule[] = [
  { name: 'drop-dropout', doc: 'dropout(x) -> x (inference)', inferenceOnly: true, apply: (n) => (n.op === 'dropout' ? n.inputs[0] : undefined) },
  {
    name: 'drop-identity-reshape',
    doc: 'reshape(x) or flatten(x) to the shape x has -> x',
    apply: (n) => ((n.op === 'reshape' || n.op === 'flatten') && sameShape(n, n.inputs[0]) ? n.inputs[0] : undefined),
  },
  { name: 'drop-single-concat', doc: 'concat(x) -> x', apply: (n) => (n.op === 'concat' && n.inputs.length === 1 ? n.inputs[0] : undefined) },
  {
    name: 'fold-zero-padding',
    doc: "conv|depthwise|separable(zero_padding(x), padding = valid) -> the same op(x, padding = same), where the margins are the ones 'same' adds",
    // Keras's MobileNetV2 pads [[0, 1], [0, 1]] before each stride-2 depthwise convolution: on even sizes, what
    // 'same' pads (TF puts the odd zero after). The layer then reads x in place instead of a padded copy.
    apply(node, cx) {
      const pad = node.inputs[0];
      if (!pad || pad.op !== 'zero_padding' || !PADDED_WINDOWS.has(node.op)) return undefined;
      const conv = node.resolved as AttrsOf<'conv2d'>;
      const margins = (pad.resolved as AttrsOf<'zero_padding'>).margins;
      if (conv.padding !== 'valid' || margins.length !== conv.rank || cx.uses(pad) !== 1 || cx.isOutput(pad)) return undefined;
      if (node.shared) return undefined; // a shared layer is one layer in generated code: its other calls keep 'valid'
      const unpadded = (pad.inputs[0].type.shape as (number | string)[]).slice(1, 1 + conv.rank);
      const same = unpadded.map((n, i) => (typeof n === 'number' ? windowAxis(n, conv.window[i], conv.stride[i], conv.dilation[i], 'same') : null));
      const matches = same.every((a, i) => a && a.padBefore === margins[i][0] && a.padAfter === margins[i][1] && a.out === conv.axes[i].out);
      return matches ? cx.make({ ...node, inputs: [pad.inputs[0], ...node.inputs.slice(1)], attrs: { ...node.attrs, padding: { symbol: 'same' } } }) : undefined;
    },
  },
];

/** The sliding-window layers whose padding fold-zero-padding may change. */
const PADDED_WINDOWS = new Set<OpName>(['conv1d', 'conv2d', 'depthwise_conv2d', 'separable_conv2d']);

/** Common subexpressions: a second parameter-free node computing the same thing as an earlier one. */
export function cseRules(): Rule[] {
  const seen = new Map<string, Node>();
  return [
    {
      name: 'cse',
      doc: 'f(x) twice -> one f(x), for ops without weights',
      apply(node) {
        if (node.op === 'input' || node.op === 'constant' || layerStats(node).params.length > 0) return undefined;
        const k = key(node);
        const earlier = seen.get(k);
        if (earlier && earlier !== node) return earlier;
        seen.set(k, node);
        return undefined;
      },
    },
  ];
}

/** The layers a fusable activation folds into, and the fused op each becomes (a fused one while it has no activation: a batchnorm folded in). */
const FUSED: Partial<Record<OpName, OpName>> = {
  dense: 'fused_dense', conv1d: 'fused_conv1d', conv2d: 'fused_conv2d',
  depthwise_conv2d: 'fused_depthwise_conv2d', separable_conv2d: 'fused_separable_conv2d',
  fused_dense: 'fused_dense', fused_conv1d: 'fused_conv1d', fused_conv2d: 'fused_conv2d',
  fused_depthwise_conv2d: 'fused_depthwise_conv2d', fused_separable_conv2d: 'fused_separable_conv2d',
};

/** The layers a batchnorm folds into; a fused one only before its activation (one activation per layer, after the batchnorm). */
const FOLDABLE = new Set<OpName>([
  'dense', 'conv1d', 'conv2d', 'depthwise_conv2d', 'separable_conv2d',
  'fused_dense', 'fused_conv1d', 'fused_conv2d', 'fused_depthwise_conv2d', 'fused_separable_conv2d',
]);

export const BATCHNORM: Rule[] = [
  {
    name: 'fold-batchnorm',
    doc: 'batchnorm(dense|conv|depthwise|separable(x)) on the channel axis -> fused_<op>(x, batchnorm) (inference)',
    inferenceOnly: true, // training needs the batch statistics, and the separate gradients
    apply(node, cx) {
      const base = node.inputs[0];
      if (node.op !== 'batchnorm' || !base || !FOLDABLE.has(base.op)) return undefined;
      const bn = node.resolved as AttrsOf<'batchnorm'>;
      const layer = base.resolved as { activation: Activation; fixed?: unknown; batchnorm?: unknown };
      // Not the channel (last) axis: the scale is not per output channel (one scale per step cannot go into 1 unit).
      if (!bn.last) return undefined;
      if (layer.activation !== 'linear' || layer.batchnorm || layer.fixed) return undefined; // after a nonlinearity, a second batchnorm, or a source-written kernel
      if (cx.uses(base) !== 1 || cx.isOutput(base)) return undefined; // the unnormalised value is needed elsewhere
      if (base.shared || node.shared) return undefined; // a shared layer's weights serve its other calls unfolded
      if (layerStats(base).params.some((p) => p.shared)) return undefined; // a tied kernel is the embedding's table too: scaling it would change the embedding
      const op = FUSED[base.op]!;
      const folded = { call: 'batchnorm', attrs: { layer: node.name, epsilon: bn.epsilon, center: bn.center, scale: bn.scale }, span: node.span };
      return cx.make({ ...base, op, attrs: { ...base.attrs, activation: { symbol: 'linear' }, batchnorm: folded } });
    },
  },
];

export const FUSE: Rule[] = [
  {
    name: 'fuse-activation',
    doc: 'relu|sigmoid|tanh(dense|conv1d|conv2d|depthwise_conv2d|separable_conv2d(x)) -> fused_<op>(x, activation)',
    apply(node, cx: RuleContext) {
      const base = node.inputs[0];
      const fused = base && FUSED[base.op];
      if (!fused || !(FUSABLE_ACTIVATIONS as string[]).includes(node.op)) return undefined;
      if ((base.resolved as { activation: Activation }).activation !== 'linear') return undefined; // it has one
      if (cx.uses(base) !== 1 || cx.isOutput(base)) return undefined; // the unactivated value is needed elsewhere
      if ((base.resolved as { activation: Activation }).activation !== 'linear') return undefined; // dense(activation = a) -> b: a stays the layer's
      // A fused layer carries its activation by name, as Keras's string form does (and tf.fused and
      // the GEMM epilogue take only a name): an activation called with other arguments stays a node.
      const { activation, args } = node.resolved as ActivationAttrs;
      if (!isNameArgs(activation, args)) return undefined;
      return cx.make({ ...base, op: fused, attrs: { ...base.attrs, activation: { symbol: node.op as Activation } } });
    },
  },
];
