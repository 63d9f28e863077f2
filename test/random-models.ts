/**
 * Random valid .dl models for differential tests: the optimizer preserves
 * outputs, the memory plan matches an allocating run, the generated
 * TensorFlow.js module matches the interpreter. Deterministic per seed.
 *
 * A model is a chain of 3 to 8 stages from a start of rank 1 ([features]),
 * 2 ([steps, width]), 3 ([height, width, channels]) or integer tokens through
 * an embedding. Each stage is an op that fits the current shape, with random
 * attributes (kernel sizes as a number or a list, strides, dilations, paddings,
 * biases, fixed kernels, recurrent directions and activations, attention
 * geometry), sometimes followed by an activation (what the fuse rule
 * rewrites), sometimes as a branch: add(h, h -> op), add(h -> op, h -> op)
 * (two equal weight-free nodes, what cse merges) or concat(h, h -> op).
 *
 * The generator tracks the per-example shape itself, with TensorFlow's rule
 * for windows (tf.nn.convolution / pooling: 'same' gives ceil(n / stride),
 * 'valid' gives ceil((n - dilation * (kernel - 1)) / stride)), not with the
 * compiler's: a disagreement makes the model fail to compile or mismatch.
 */
import { createRng } from '../src/runtime/random.js';
import type { Tensor } from '../src/backends/interp/tensor.js';
import type { Graph } from '../src/ir/types.js';

interface Stage {
  text: string;
  shape: number[];
  /** No weights: the same text twice computes the same value. */
  pure?: boolean;
}

/** The output length of a window of `kernel` taps along `n`, as TensorFlow defines it. */
function windowLength(n: number, kernel: number, stride: number, dilation: number, padding: string): number {
  return padding === 'same' ? Math.ceil(n / stride) : Math.ceil((n - dilation * (kernel - 1)) / stride);
}

export function randomModel(seed: number, name = `Random${seed}`): string {
  const rng = createRng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)];
  const chance = (p: number) => rng.uniform() < p;
  const padding = () => pick(['valid', 'same']);
  /** One number or a list of two, as the .dl source may write a 2-d size. */
  const pair = (xs: number[]) => (xs[0] === xs[1] && chance(0.5) ? `${xs[0]}` : `[${xs.join(', ')}]`);

  const anyRank = (shape: number[]): Stage[] => [
    { text: pick(['relu', 'sigmoid', 'tanh', 'softmax']), shape, pure: true },
    { text: `dropout(${pick([0.1, 0.25, 0.5])})`, shape, pure: true },
    { text: chance(0.5) ? 'layernorm' : `layernorm(epsilon = ${pick(['1e-3', '0.01'])})`, shape },
  ];
  /** A layer with weights, sometimes followed by an activation the fuse rule can take. */
  const activated = (s: Stage): Stage => (chance(0.4) ? { ...s, text: `${s.text} -> ${pick(['relu', 'sigmoid', 'tanh', 'softmax'])}` } : s);

  function image([H, W, C]: number[]): Stage | undefined {
    switch (int(0, 6)) {
      case 0:
      case 1: {
        const F = int(1, 4);
        const k = chance(0.6) ? [int(1, 3), int(1, 3)] : [int(1, 3)].flatMap((n) => [n, n]);
        const stride = [int(1, 2), int(1, 2)];
        const dilation = chance(0.5) ? [1, 1] : [int(1, 2), int(1, 2)];
        const pad = padding();
        const [oh, ow] = [H, W].map((n, i) => windowLength(n, k[i], stride[i], dilation[i], pad));
        if (oh < 1 || ow < 1) return undefined;
        const args = [`${F}`, `kernel = ${pair(k)}`, `stride = ${pair(stride)}`, `dilation = ${pair(dilation)}`, `padding = ${pad}`, ...(chance(0.2) ? ['bias = false'] : [])];
        return activated({ text: `conv2d(${args.join(', ')})`, shape: [oh, ow, F] });
      }
      case 2: {
        // A fixed kernel (constant weights, no bias) on a one-channel image.
        if (C !== 1 || H < 3 || W < 3) return undefined;
        const kernel = pick(['[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]', '[[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16', '[[-1, 1]]']);
        const [kh, kw] = kernel.startsWith('[[-1') ? [1, 2] : [3, 3];
        const pad = padding();
        const shape = pad === 'same' ? [H, W, 1] : [H - kh + 1, W - kw + 1, 1];
        return { text: `conv2d(kernel = ${kernel}, padding = ${pad})`, shape };
      }
      case 3: {
        const size = [int(1, 3), int(1, 3)];
        const stride = chance(0.5) ? undefined : [int(1, 3), int(1, 3)];
        const pad = padding();
        const [oh, ow] = [H, W].map((n, i) => windowLength(n, size[i], (stride ?? size)[i], 1, pad));
        if (oh < 1 || ow < 1) return undefined;
        return { text: `${pick(['maxpool', 'avgpool'])}(${pair(size)}${stride ? `, stride = ${pair(stride)}` : ''}, padding = ${pad})`, shape: [oh, ow, C], pure: true };
      }
      case 4:
        return chance(0.5) ? { text: pick(['global_maxpool', 'global_avgpool']), shape: [C], pure: true } : { text: 'flatten', shape: [H * W * C], pure: true };
      case 5:
        return { text: `reshape([${H * W}, ${C}])`, shape: [H * W, C], pure: true };
      default:
        return pick(anyRank([H, W, C]));
    }
  }

  function sequence([L, C]: number[]): Stage | undefined {
    const u = int(1, 5);
    const seq = chance(0.6);
    const out = (units: number) => (seq ? [L, units] : [units]);
    switch (int(0, 10)) {
      case 0: {
        const [k, stride, dilation, pad] = [int(1, 3), int(1, 2), int(1, 2), padding()];
        const n = windowLength(L, k, stride, dilation, pad);
        if (n < 1) return undefined;
        const bias = chance(0.2) ? ', bias = false' : '';
        return activated({ text: `conv1d(${u}, kernel = ${k}, stride = ${stride}, dilation = ${dilation}, padding = ${pad}${bias})`, shape: [n, u] });
      }
      case 1: {
        const [size, pad] = [int(1, 3), padding()];
        const stride = chance(0.5) ? undefined : int(1, 2);
        const n = windowLength(L, size, stride ?? size, 1, pad);
        if (n < 1) return undefined;
        return { text: `${pick(['maxpool', 'avgpool'])}(${size}${stride ? `, stride = ${stride}` : ''}, padding = ${pad})`, shape: [n, C], pure: true };
      }
      case 2:
        return activated({ text: `dense(${u}${chance(0.3) ? ', bias = false' : ''})`, shape: [L, u] });
      case 3:
        return { text: `rnn(${u}, sequences = ${seq}, activation = ${pick(['tanh', 'relu', 'sigmoid'])})`, shape: out(u) };
      case 4:
        return { text: `lstm(${u}, sequences = ${seq})`, shape: out(u) };
      case 5:
        return { text: `bidirectional(${pick(['lstm', 'rnn'])}(${u}, sequences = ${seq}))`, shape: out(2 * u) };
      case 6: {
        const O = chance(0.5) ? int(1, 5) : C;
        const value = chance(0.4) ? int(1, 4) : undefined;
        const args = [`heads = ${int(1, 3)}`, `key_dim = ${int(1, 4)}`, ...(value ? [`value_dim = ${value}`] : []), ...(O !== C ? [`output_dim = ${O}`] : []), `causal = ${chance(0.5)}`];
        return { text: `attention(${args.join(', ')})`, shape: [L, O] };
      }
      case 7: {
        const kind = pick(['sinusoidal', 'learned']);
        return { text: chance(0.5) ? `positional(${kind})` : `positional(kind = ${kind})`, shape: [L, C], pure: kind === 'sinusoidal' };
      }
      case 8:
        return chance(0.5) ? { text: pick(['global_maxpool', 'global_avgpool']), shape: [C], pure: true } : { text: 'flatten', shape: [L * C], pure: true };
      case 9:
        return chance(0.5) ? { text: `reshape([${L}, ${C}])`, shape: [L, C], pure: true } : { text: `reshape([${C}, ${L}])`, shape: [C, L], pure: true };
      default:
        return pick(anyRank([L, C]));
    }
  }

  function flat([F]: number[]): Stage | undefined {
    switch (int(0, 4)) {
      case 0:
      case 1: {
        const u = int(1, 8);
        return activated({ text: `dense(${u}${chance(0.2) ? ', bias = false' : ''})`, shape: [u] });
      }
      case 2: {
        const a = [2, 3, 4].find((d) => F % d === 0 && F > d);
        if (chance(0.5)) return { text: `reshape([${F}, 1])`, shape: [F, 1], pure: true };
        return a ? { text: `reshape([${a}, -1])`, shape: [a, F / a], pure: true } : undefined;
      }
      case 3:
        // Flattening a vector or reshaping it to itself changes nothing: what simplify removes.
        return chance(0.5) ? { text: 'flatten', shape: [F], pure: true } : { text: `reshape([${F}])`, shape: [F], pure: true };
      default:
        return pick(anyRank([F]));
    }
  }

  const stage = (shape: number[]): Stage | undefined => [flat, sequence, image][shape.length - 1](shape);

  const start = int(0, 3);
  const lines = [`# Random model, seed ${seed}.`, `model ${name} {`];
  let shape: number[];
  let previous = 'x';
  if (start === 3) {
    const [L, vocab, dim] = [int(3, 8), int(5, 30), int(2, 5)];
    lines.push(`  input x: [${L}] int`, `  e = x -> embedding(${vocab}, ${dim})`);
    [shape, previous] = [[L, dim], 'e'];
  } else {
    shape = [[int(3, 10)], [int(4, 8), int(2, 5)], [int(5, 9), int(5, 9), int(1, 3)]][start];
    lines.push(`  input x: [${shape.join(', ')}]`);
  }
  const stages = int(3, 8);
  for (let i = 0; i < stages; i++) {
    let s: Stage | undefined;
    for (let tries = 0; !s && tries < 20; tries++) s = stage(shape);
    if (!s) break;
    const same = s.shape.join() === shape.join();
    const lastOnly = s.shape.length === shape.length && s.shape.slice(0, -1).join() === shape.slice(0, -1).join();
    let expr = `${previous} -> ${s.text}`;
    const branch = rng.uniform();
    if (same && s.pure && branch < 0.15) expr = `add(${previous} -> ${s.text}, ${previous} -> ${s.text})`;
    else if (same && branch < 0.3) expr = `add(${previous}, ${previous} -> ${s.text})`;
    else if (lastOnly && branch < 0.45) {
      expr = `concat(${previous}, ${previous} -> ${s.text})`;
      s = { ...s, shape: [...s.shape.slice(0, -1), s.shape.at(-1)! + shape.at(-1)!] };
    } else if (branch > 0.95) expr = `concat(${expr})`;
    lines.push(`  s${i} = ${expr}`);
    previous = `s${i}`;
    shape = s.shape;
  }
  lines.push(`  output y = ${previous}`, '}', '');
  return lines.join('\n');
}

/** Random inputs, batch `batch`: token ids below the smallest vocabulary reading them, normal floats otherwise. */
/** Random inputs; a dimension variable (T) gets `length` steps. */
export function randomInputs(graph: Graph, batch: number, seed: number, length = 6): Record<string, Tensor> {
  const rng = createRng(seed);
  return Object.fromEntries(
    graph.inputs.map((input) => {
      const shape = [batch, ...input.type.shape.slice(1).map((d) => (typeof d === 'number' ? d : length))];
      const n = shape.reduce((a, b) => a * b, 1);
      const vocab = Math.min(50, ...graph.nodes.filter((n) => n.op === 'embedding' && n.inputs.includes(input)).map((n) => n.attrs.vocab as number));
      const data = Float32Array.from({ length: n }, () => (input.type.dtype === 'int32' ? Math.floor(rng.uniform() * vocab) : rng.normal()));
      return [input.name, { shape, data }];
    }),
  );
}
