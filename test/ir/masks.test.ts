/**
 * Keras's mask propagation (src/ir/mask.ts): which values carry the padding
 * mask of embedding(mask_zero = true), through the optimizer's rewrites too,
 * and the located errors of masks that cannot work.
 */
import { describe, expect, it } from 'vitest';
import { layerInfo } from '../../src/backends/dot/layer.js';
import type { Graph } from '../../src/ir/types.js';
import { printGraph } from '../../src/ir/print.js';
import { optimize } from '../../src/passes/pipeline.js';
import { compileText, errorsOf } from '../helpers.js';

const model = (body: string) => compileText(`model M {\n${body}\n}\n`);
/** Each layer's mask as the names of its sources ('' when unmasked). */
const masks = (g: Graph) => Object.fromEntries(g.nodes.filter((n) => n.op !== 'input').map((n) => [n.name, (n.mask ?? []).map((m) => m.name).join(',')]));

describe('propagation', () => {
  it('passes through dense, dropout, layernorm, activations and positional; ends at flatten and global pooling', () => {
    const g = model(`input t: [6] int
  x = t -> embedding(10, 8, mask_zero = true) -> positional(learned) -> dense(8) -> relu -> dropout(0.1) -> layernorm
  output pooled = x -> global_avgpool
  output flat = x -> flatten
  output conv = x -> conv1d(4, 3)`);
    expect(masks(g)).toEqual({
      embedding: 't', positional: 't', dense: 't', relu: 't', dropout: 't', layernorm: 't',
      global_avgpool: '', flatten: '', conv1d: '',
    });
  });

  it('recurrent layers pass it on with sequences only; attention passes the query mask', () => {
    const g = model(`input t: [6] int
  input s: [4] int
  x = t -> embedding(10, 8, mask_zero = true)
  m = s -> embedding(10, 8, mask_zero = true)
  output a = x -> lstm(4, sequences = true) -> gru(3)
  output b = x -> bidirectional(rnn(2, sequences = true))
  output c = attention(m, x, heads = 2, key_dim = 4)`);
    expect(masks(g)).toMatchObject({ lstm: 't', gru: '', bidirectional: 't', attention: 's' });
  });

  it('elementwise merges AND the masks; concat on the last axis keeps a shared mask and drops differing ones', () => {
    const g = model(`input t: [6] int
  input u: [6] int
  input f: [6, 8]
  x = t -> embedding(10, 8, mask_zero = true)
  y = u -> embedding(10, 8, mask_zero = true)
  output sum = add(x, y)
  output half = multiply(x, f)
  output same = concat(x, x -> dense(8))
  output mixed = concat(x, y)
  output steps = concat(x, x, axis = 1)`);
    expect(masks(g)).toMatchObject({ add: 't,u', multiply: 't', concat: 't', concat_1: '', concat_2: '' });
  });

  it('an embedding without mask_zero masks nothing; the IR prints masks and mask arguments', () => {
    const g = model(`input t: [6] int
  input pad: [6] int
  output y = t -> embedding(10, 8) -> lstm(4, sequences = true) -> attention(mask = pad, heads = 1, key_dim = 2)`);
    expect(masks(g)).toEqual({ embedding: '', lstm: '', attention: '' });
    expect(printGraph(g)).toContain('= attention(%lstm, mask=%pad, heads=1, key_dim=2, causal=false)');
    const masked = model('input t: [6] int\n  output y = t -> embedding(10, 8, mask_zero = true) -> lstm(4, sequences = true)');
    expect(printGraph(masked)).toContain('%lstm: [6, 4] mask(%t) = lstm(%embedding, units=4, sequences=true)');
  });

  it('diagrams label the layers that read a mask', () => {
    const g = model(`input t: [6] int
  input pad: [6] int
  x = t -> embedding(10, 8, mask_zero = true) -> dense(8)
  output y = x -> lstm(4, sequences = true) -> global_avgpool
  output z = x -> global_maxpool
  output w = t -> embedding(10, 8) -> attention(mask = pad, heads = 2, key_dim = 4)`);
    const detail = Object.fromEntries(g.nodes.map((n) => [n.name, layerInfo(n).detail]));
    expect(detail).toMatchObject({ dense: '8', lstm: '4 seq masked', global_avgpool: 'masked', global_maxpool: '', attention: '2 heads x 4 masked', embedding: '10 x 8 mask 0', embedding_1: '10 x 8' });
  });

  it('survives the optimizer: fused and folded layers keep the mask, and it names the rebuilt graph\'s input', () => {
    const g = model(`input t: [6] int
  input pad: [6] int
  output y = t -> embedding(10, 8, mask_zero = true) -> positional -> dense(8) -> relu -> dropout(0.5) -> attention(mask = pad, heads = 2, key_dim = 4) -> lstm(3)`);
    const { graph } = optimize(g);
    const byOp = Object.fromEntries(graph.nodes.map((n) => [n.op, n]));
    expect(Object.keys(byOp)).toEqual(expect.arrayContaining(['fused_dense', 'add', 'attention', 'lstm']));
    expect(byOp.attention.inputs[0].mask).toEqual([graph.inputs[0]]);
    expect(byOp.attention.maskArg).toBe(graph.inputs[1]);
    expect(byOp.lstm.inputs[0].mask).toEqual([graph.inputs[0]]);
  });
});

describe('located errors', () => {
  const brief = (text: string) => errorsOf(text).map(({ at, message, hint }) => ({ at, message, hint }));

  it('a mask of the wrong shape names both shapes attention takes', () => {
    expect(brief('model M {\n  input x: [5, 8]\n  input pad: [4] int\n  output y = attention(x, mask = pad, heads = 2, key_dim = 4)\n}\n')).toEqual([
      {
        at: '4:14',
        message: 'attention: mask [4] fits neither [5, 5] (query steps x value steps, Keras\'s attention_mask) nor [5] (one flag per value step)',
        hint: 'give the mask input the shape [5] for key padding or [5, 5] for a full mask; 0 hides a step, any other value attends',
      },
    ]);
    expect(brief('model M {\n  input q: [3, 8]\n  input kv: [5, 8]\n  input pad: [5, 3] int\n  output y = attention(q, kv, mask = pad, heads = 2, key_dim = 4)\n}\n')[0].message).toBe(
      "attention: mask [5, 3] fits neither [3, 5] (query steps x value steps, Keras's attention_mask) nor [5] (one flag per value step)",
    );
  });

  it('mask = must be a model input, and only attention takes it', () => {
    const computed = brief('model M {\n  input x: [5, 8]\n  m = x -> dense(5)\n  output y = attention(x, mask = m, heads = 2, key_dim = 4)\n}\n');
    expect(computed).toEqual([{ at: '4:27', message: "attention: 'mask' must name a model input, got layer 'dense'", hint: expect.stringContaining("'input padding: [128] int'") }]);
    const dense = brief('model M {\n  input x: [5, 8]\n  input pad: [5] int\n  output y = dense(x, 4, mask = pad)\n}\n');
    expect(dense).toEqual([{ at: '4:26', message: "dense takes no 'mask' argument", hint: expect.stringContaining('mask_zero = true') }]);
  });

  it('mask_zero needs ids of one [steps] axis', () => {
    expect(brief('model M {\n  input t: [4, 3] int\n  output y = t -> embedding(10, 8, mask_zero = true)\n}\n')).toEqual([
      { at: '3:19', message: 'embedding: mask_zero needs token ids of one [steps] axis, got [4, 3]', hint: expect.stringContaining('reshape the ids to [steps]') },
    ]);
  });
});
