/**
 * Random valid models as .dl text, for differential tests: a chain of 3 to 7
 * stages from a start of rank 1 ([features]), 2 ([steps, width]) or 3
 * ([height, width, channels]), with random attributes (strides, dilations,
 * paddings, biases, recurrent directions, attention geometry) and some skip
 * connections through add and concat. The per-example shape is tracked with
 * the ops' own window rule, so every model compiles.
 */
import type { Rng } from '../../../src/runtime/random.js';
import { windowOut } from '../../../src/ops/op.js';

interface Stage {
  text: string;
  shape: number[];
}

export function randomModel(rng: Rng, name: string): string {
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)];
  const chance = (p: number) => rng.uniform() < p;
  const activation = () => pick(['relu', 'sigmoid', 'tanh', 'softmax']);
  const padding = () => pick(['valid', 'same']);

  const anyRank = (shape: number[]): Stage[] => [
    { text: activation(), shape },
    { text: `dropout(${pick([0.1, 0.5])})`, shape },
    { text: chance(0.5) ? 'layernorm' : 'layernorm(epsilon = 0.01)', shape },
  ];

  function image([H, W, C]: number[]): Stage | undefined {
    switch (int(0, 5)) {
      case 0:
      case 1: {
        const F = int(1, 4);
        // Square kernels: the interpreter cannot yet run a kernel size given as a list (execute.ts takes it for fixed weights).
        const k = [int(1, 3)].flatMap((n) => [n, n]);
        const stride = [int(1, 2), int(1, 2)];
        const dilation = [int(1, 2), int(1, 2)];
        const pad = padding();
        const [oh, ow] = [H, W].map((n, i) => windowOut(n, k[i], stride[i], dilation[i], pad));
        if (oh < 1 || ow < 1) return undefined;
        const bias = chance(0.8) ? '' : ', bias = false';
        return { text: `conv2d(${F}, kernel = ${k[0]}, stride = [${stride}], dilation = [${dilation}], padding = ${pad}${bias})`, shape: [oh, ow, F] };
      }
      case 2: {
        const size = [int(1, 3), int(1, 3)];
        const stride = chance(0.5) ? undefined : [int(1, 3), int(1, 3)];
        const pad = padding();
        const [oh, ow] = [H, W].map((n, i) => windowOut(n, size[i], (stride ?? size)[i], 1, pad));
        if (oh < 1 || ow < 1) return undefined;
        return { text: `${pick(['maxpool', 'avgpool'])}([${size}]${stride ? `, stride = [${stride}]` : ''}, padding = ${pad})`, shape: [oh, ow, C] };
      }
      case 3:
        return chance(0.5) ? { text: pick(['global_maxpool', 'global_avgpool']), shape: [C] } : { text: 'flatten', shape: [H * W * C] };
      case 4:
        return { text: `reshape([${H * W}, ${C}])`, shape: [H * W, C] };
      default:
        return pick(anyRank([H, W, C]));
    }
  }

  function sequence([L, C]: number[]): Stage | undefined {
    const u = int(1, 5);
    const seq = chance(0.6);
    const out = (units: number) => (seq ? [L, units] : [units]);
    switch (int(0, 9)) {
      case 0: {
        const [k, stride, dilation, pad] = [int(1, 3), int(1, 2), int(1, 2), padding()];
        const n = windowOut(L, k, stride, dilation, pad);
        if (n < 1) return undefined;
        return { text: `conv1d(${u}, kernel = ${k}, stride = ${stride}, dilation = ${dilation}, padding = ${pad})`, shape: [n, u] };
      }
      case 1: {
        const [size, pad] = [int(1, 3), padding()];
        const n = windowOut(L, size, size, 1, pad);
        return n < 1 ? undefined : { text: `${pick(['maxpool', 'avgpool'])}(${size}, padding = ${pad})`, shape: [n, C] };
      }
      case 2:
        return { text: `dense(${u}${chance(0.3) ? ', bias = false' : ''})`, shape: [L, u] };
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
      case 7:
        return { text: `positional(${pick(['sinusoidal', 'learned'])})`, shape: [L, C] };
      case 8:
        return chance(0.5) ? { text: pick(['global_maxpool', 'global_avgpool']), shape: [C] } : { text: 'flatten', shape: [L * C] };
      default:
        return pick(anyRank([L, C]));
    }
  }

  function flat([F]: number[]): Stage | undefined {
    switch (int(0, 3)) {
      case 0:
      case 1: {
        const u = int(1, 8);
        return { text: `dense(${u}${chance(0.2) ? ', bias = false' : ''})`, shape: [u] };
      }
      case 2: {
        const a = [2, 3, 4].find((d) => F % d === 0 && F > d);
        return a ? { text: `reshape([${a}, -1])`, shape: [a, F / a] } : undefined;
      }
      default:
        return pick(anyRank([F]));
    }
  }

  const stage = (shape: number[]): Stage | undefined => [flat, sequence, image][shape.length - 1](shape);

  let shape = pick([
    [int(5, 9), int(5, 9), int(1, 3)],
    [int(4, 8), int(2, 5)],
    [int(3, 10)],
  ]);
  const lines = [`# A random chain.`, `model ${name} {`, `  input x: [${shape.join(', ')}]`];
  let previous = 'x';
  const stages = int(3, 7);
  for (let i = 0; i < stages; i++) {
    let s: Stage | undefined;
    for (let tries = 0; !s && tries < 20; tries++) s = stage(shape);
    if (!s) break;
    const same = s.shape.join() === shape.join();
    const lastOnly = s.shape.length === shape.length && s.shape.slice(0, -1).join() === shape.slice(0, -1).join();
    let expr = `${previous} -> ${s.text}`;
    if (same && chance(0.3)) expr = `add(${previous}, ${previous} -> ${s.text})`;
    else if (lastOnly && chance(0.3)) {
      expr = `concat(${previous}, ${previous} -> ${s.text})`;
      s = { ...s, shape: [...s.shape.slice(0, -1), s.shape.at(-1)! + shape.at(-1)!] };
    }
    lines.push(`  s${i} = ${expr}`);
    previous = `s${i}`;
    shape = s.shape;
  }
  lines.push(`  output y = ${previous}`, '}', '');
  return lines.join('\n');
}
