import { createRng } from '../src/runtime/random.js';
import type { Tensor } from '../src/backends/interp/tensor.js';
import type { Graph } from '../src/ir/types.js';

/**
 * Random valid .dl models for differential tests: chains that track their own
 * shape and pick, at each step, an op that fits it (images, sequences or
 * vectors), with occasional residual branches. Deterministic per seed.
 */
export function randomModel(seed: number, length = 8): string {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

  const kind = pick(['image', 'sequence', 'vector'] as const);
  let shape = kind === 'image' ? [int(6, 10), int(6, 10), int(1, 3)] : kind === 'sequence' ? [int(4, 8), int(2, 6)] : [int(3, 12)];
  const lines: string[] = [];
  let current = 'x';
  const input = `input x: [${shape.join(', ')}]`;
  for (let i = 0; i < length; i++) {
    const rank = shape.length;
    const last = shape[rank - 1];
    const options: [string, number[]][] = [
      ['relu', shape], ['sigmoid', shape], ['tanh', shape], [`dropout(0.${int(1, 5)})`, shape], [`layernorm(epsilon = 1e-3)`, shape],
    ];
    if (rank === 3) {
      const [h, w] = shape;
      const k = int(1, Math.min(3, h, w));
      const f = int(1, 4);
      const stride = pick([1, 1, 2]);
      const pad = pick(['valid', 'same']);
      const out = (n: number) => (pad === 'same' ? Math.ceil(n / stride) : Math.floor((n - k) / stride) + 1);
      options.push([`conv2d(${f}, kernel = ${k}, stride = ${stride}, padding = ${pad})`, [out(h), out(w), f]]);
      if (h >= 2 && w >= 2) options.push(['maxpool(2)', [Math.floor(h / 2), Math.floor(w / 2), last]], [`avgpool(2, padding = same)`, [Math.ceil(h / 2), Math.ceil(w / 2), last]]);
      options.push(['flatten', [h * w * last]], ['global_avgpool', [last]]);
    } else if (rank === 2) {
      const [t] = shape;
      const u = int(2, 6);
      options.push(
        [`conv1d(${u}, kernel = ${int(1, Math.min(3, t))}, padding = same)`, [t, u]],
        [`lstm(${u}, sequences = true)`, [t, u]], [`rnn(${u})`, [u]], [`bidirectional(lstm(${u}, sequences = true))`, [t, 2 * u]],
        [`dense(${u})`, [t, u]], [`attention(heads = ${int(1, 2)}, key_dim = ${int(2, 4)})`, shape],
        ['positional(kind = sinusoidal)', shape], ['global_maxpool', [last]],
      );
    } else {
      const u = int(2, 10);
      options.push([`dense(${u})`, [u]], [`dense(${u}) -> softmax`, [u]], [`reshape([${last}, 1])`, [last, 1]]);
    }
    const [op, next] = pick(options);
    const name = `h${i}`;
    if (rand() < 0.2 && next.join() === shape.join()) lines.push(`${name} = add(${current}, ${current} -> ${op})`);
    else lines.push(`${name} = ${current} -> ${op}`);
    current = name;
    shape = next;
  }
  return `model Random${seed} {\n  ${input}\n  ${lines.join('\n  ')}\n  output y = ${current}\n}\n`;
}

/** Random inputs for a graph: normal floats, or token ids below 50 for integer inputs. */
export function randomInputs(graph: Graph, batch: number, seed: number): Record<string, Tensor> {
  const rng = createRng(seed);
  return Object.fromEntries(
    graph.inputs.map((input) => {
      const shape = [batch, ...(input.type.shape.slice(1) as number[])];
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, () => (input.type.dtype === 'int32' ? Math.floor(rng.uniform() * 50) : rng.normal()));
      return [input.name, { shape, data }];
    }),
  );
}
