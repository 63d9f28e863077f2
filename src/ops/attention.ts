/**
 * attention: multi-head scaled dot-product attention (Keras MultiHeadAttention).
 * Inputs: query [T, dq], value [S, dv] (default: the query, i.e. self-attention),
 * key [S, dk] (default: the value). With H heads, key size K, value size V and
 * output width O (default dq) the parameters are H K (dq + 1) for the query,
 * H K (dk + 1) for the key, H V (dv + 1) for the value and H V O + O for the
 * output projection. `causal` hides later steps from earlier ones.
 * Masks, as Keras's MultiHeadAttention: query t attends to value s when the
 * query's padding mask keeps t, the value's and key's keep s (ir/mask.ts),
 * `mask =` (a model input, [T, S] or [S]) is nonzero there, and not s > t
 * when causal; hidden scores become -1e9 before the softmax (a query step
 * with nothing to attend to spreads evenly). The output carries the query's mask.
 */
import { shapeRules } from '../diagnostics.js';
import { batched, defineOp, dims } from './op.js';

/**
 * Attention's resolved attributes: steps T (query) and S (key and value),
 * input widths dq, dv, dk, and the geometry H heads of key size K and value
 * size V, output width O.
 */
export interface AttentionAttrs {
  T: number;
  S: number;
  dq: number;
  dv: number;
  dk: number;
  H: number;
  K: number;
  V: number;
  O: number;
  causal: boolean;
  /** The `mask =` argument: none, one flag per value step [S], or one per pair [T, S]. */
  maskArg: 'none' | 'keys' | 'pairs';
}

export default defineOp<AttentionAttrs>({
  name: 'attention',
  family: 'attention',
  doc: 'Multi-head attention: self-attention when chained, cross-attention with explicit query and value.',
  inputs: { min: 1, max: 3, names: ['query', 'value', 'key'] },
  maskArg: 'mask',
  attrs: [
    { name: 'heads', type: { kind: 'int' }, doc: 'number of heads (Keras num_heads)' },
    { name: 'key_dim', type: { kind: 'int' }, doc: 'size of each head for query and key' },
    { name: 'value_dim', type: { kind: 'int' }, optional: true, doc: 'size of each head for value (default: key_dim)' },
    { name: 'output_dim', type: { kind: 'int' }, optional: true, doc: 'output width (default: the query width)' },
    { name: 'causal', type: { kind: 'bool' }, default: false, doc: 'mask out later steps (for decoders)' },
  ],
  infer(ctx) {
    for (const t of ctx.inputs)
      if (t.shape.length !== 3) ctx.fail(shapeRules.attentionInput(dims(t)));
    const [query, value = query, key = value] = ctx.inputs.map(dims);
    if (key[0] !== value[0]) ctx.fail(shapeRules.keyValueSteps(key, value));
    const causal = ctx.bool('causal');
    if (causal && ctx.inputs.length > 1 && value[0] !== query[0]) ctx.fail(shapeRules.causalLengths());
    const K = ctx.int('key_dim');
    const [T, S] = [query[0], value[0]];
    const m = ctx.maskArg && dims(ctx.maskArg);
    const maskArg = !m ? 'none' : m.length === 1 && m[0] === S ? 'keys' : m.length === 2 && m[0] === T && m[1] === S ? 'pairs' : ctx.fail(shapeRules.attentionMaskShape(m, T, S));
    const a: AttentionAttrs = {
      T, S, dq: query[1], dv: value[1], dk: key[1],
      H: ctx.int('heads'), K, V: ctx.maybeInt('value_dim') ?? K, O: ctx.maybeInt('output_dim') ?? query[1], causal, maskArg,
    };
    return { type: batched([a.T, a.O]), attrs: a };
  },
  params({ dq, dv, dk, H, K, V, O }) {
    const proj = (name: string, inW: number, outW: number) => [
      { name: `${name}.kernel`, shape: [inW, outW], init: 'glorot_uniform' as const, trainable: true },
      { name: `${name}.bias`, shape: [outW], init: 'zeros' as const, trainable: true },
    ];
    return [...proj('query', dq, H * K), ...proj('key', dk, H * K), ...proj('value', dv, H * V), ...proj('output', H * V, O)];
  },
  flops({ T, S, dq, dv, dk, H, K, V, O }) {
    const projections = T * dq * H * K + S * dk * H * K + S * dv * H * V + T * H * V * O;
    const products = T * S * H * K + T * S * H * V;
    return 2 * (projections + products);
  },
  label: (a) => `${a.H} heads x ${a.K}${a.causal ? ' causal' : ''}`,
});
