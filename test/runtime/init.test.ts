/** Seeded streams and Keras's default initialisers: determinism, independence by name, distributions, orthogonality. */
import { describe, expect, it } from 'vitest';
import { fans, initialize, orthogonal } from '../../src/runtime/init.js';
import type { Rng } from '../../src/runtime/random.js';
import { createRng } from '../../src/runtime/random.js';

const take = (n: number, f: () => number) => Array.from({ length: n }, f);

describe('random streams', () => {
  it('are reproducible from the seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    expect(take(100, () => a.uniform())).toEqual(take(100, () => b.uniform()));
    expect(take(5, () => createRng(43).uniform())).not.toEqual(take(5, () => createRng(42).uniform()));
  });

  it('have pinned values, so any change to the generator (which reseeds every model) is noticed', () => {
    const r = createRng(1);
    expect(take(3, () => r.uniform())).toEqual([0.5686059962026775, 0.753928849240765, 0.8893939366098493]);
    const child = createRng(1).child('dense/kernel');
    expect(child.uniform()).toBe(0.8102023587562144);
    expect(child.normal()).toBeCloseTo(-0.945882484769741, 12);
  });

  it('fill gives the values uniform draws (times 2^32), and continues the same stream', () => {
    const r = createRng(1);
    const block = new Uint32Array(2);
    r.fill(block);
    expect(Array.from(block, (v) => v / 2 ** 32)).toEqual([0.5686059962026775, 0.753928849240765]); // the pinned values above
    expect(r.uniform()).toBe(0.8893939366098493);
    const a = createRng(9), b = createRng(9);
    const many = new Uint32Array(5000);
    a.fill(many.subarray(0, 1234));
    a.fill(many.subarray(1234));
    expect(Array.from(many)).toEqual(take(5000, () => b.uniform() * 2 ** 32));
  });

  it('derive children from the seed and name only, not from consumption order', () => {
    const stream = (seed: number, name: string, before = (_parent: Rng) => {}) => {
      const parent = createRng(seed);
      before(parent);
      const child = parent.child(name);
      return take(10, () => child.uniform());
    };
    const first = stream(7, 'dense/kernel');
    const afterOthers = stream(7, 'dense/kernel', (parent) => {
      for (let i = 0; i < 1000; i++) parent.uniform();
      parent.child('conv/kernel').normal();
    });
    expect(afterOthers).toEqual(first);
    expect(stream(7, 'dense/bias')).not.toEqual(first);
    expect(stream(8, 'dense/kernel')).not.toEqual(first);
  });

  it('uniform is flat on [0, 1) and normal is standard', () => {
    const r = createRng(99);
    const u = take(40000, () => r.uniform());
    const n = take(40000, () => r.normal());
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = (xs: number[]) => {
      const m = mean(xs);
      return mean(xs.map((x) => (x - m) ** 2));
    };
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(mean(u)).toBeCloseTo(0.5, 2);
    expect(variance(u)).toBeCloseTo(1 / 12, 2);
    expect(mean(n)).toBeCloseTo(0, 1);
    expect(variance(n)).toBeCloseTo(1, 1);
  });
});

describe('initialisers', () => {
  it('are identical for the same seed and name, different for another name', () => {
    const init = (name: string) => initialize('glorot_uniform', [20, 30], createRng(5).child(name));
    expect(init('a')).toEqual(init('a'));
    expect(init('a')).not.toEqual(init('b'));
  });

  it.each([
    ['glorot_uniform', [20, 30]], ['orthogonal', [6, 24]], ['orthogonal', [24, 6]], ['zeros', [7]], ['ones', [7]], ['uniform', [5, 4]], ['lstm_bias', [12]], [{ normal: 0.5 }, [9]],
  ] as const)('%j written into a given array (weights pinned in the kernel memory) overwrites all of it with the values of a new one', (kind, shape) => {
    const fresh = initialize(kind, [...shape], createRng(5).child('w'));
    const given = new Float32Array(fresh.length).fill(NaN);
    expect(initialize(kind, [...shape], createRng(5).child('w'), given)).toBe(given);
    expect(given).toEqual(fresh);
  });

  it('draw uniforms a block at a time, the same values as a uniform() call each, across blocks', () => {
    const [a, b] = [createRng(9).child('w'), createRng(9).child('w')];
    const drawn = initialize('uniform', [10_001], a);
    const [min, max] = [-0.05, 0.05]; // Keras's RandomUniform for embeddings
    const oneByOne = Float32Array.from({ length: 10_001 }, () => min + (max - min) * b.uniform());
    expect(drawn.findIndex((v, i) => v !== oneByOne[i])).toBe(-1);
    expect(a.uniform()).toBe(b.uniform()); // and leave the stream where the calls would
  });

  it("compute fans as Keras does", () => {
    expect(fans([10])).toEqual({ fanIn: 10, fanOut: 10 });
    expect(fans([10, 20])).toEqual({ fanIn: 10, fanOut: 20 });
    expect(fans([3, 5, 4, 8])).toEqual({ fanIn: 60, fanOut: 120 }); // conv2d: receptive field 15
    expect(fans([3, 4, 8])).toEqual({ fanIn: 12, fanOut: 24 }); // conv1d
  });

  it.each([
    [[64, 32]],
    [[3, 3, 16, 32]],
  ])('glorot_uniform %j stays within sqrt(6 / (fan_in + fan_out)) with variance limit^2 / 3', (shape) => {
    const w = initialize('glorot_uniform', shape, createRng(1).child('w'));
    const { fanIn, fanOut } = fans(shape);
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(limit);
    const variance = w.reduce((s, x) => s + x * x, 0) / w.length;
    expect(variance / (limit ** 2 / 3)).toBeGreaterThan(0.9);
    expect(variance / (limit ** 2 / 3)).toBeLessThan(1.1);
  });

  it.each([
    [[8, 32]], // an LSTM recurrent kernel [u, 4u]: orthonormal rows
    [[16, 16]],
    [[40, 12]], // more rows than columns: orthonormal columns
    [[3, 4, 10]], // viewed as [12, 10]
  ])('orthogonal %j is orthonormal within 1e-4', (shape) => {
    const w = initialize('orthogonal', shape, createRng(2).child('u'));
    const cols = shape[shape.length - 1];
    const rows = w.length / cols;
    // Gram matrix of the shorter side: W W^T [rows, rows] if rows <= cols, else W^T W [cols, cols].
    const n = Math.min(rows, cols);
    const at = (i: number, j: number) => (rows <= cols ? w[i * cols + j] : w[j * cols + i]);
    const len = Math.max(rows, cols);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < len; k++) dot += at(i, k) * at(j, k);
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-4);
      }
    }
  });

  it('orthogonal rejects vectors', () => {
    expect(() => orthogonal([5], createRng(1))).toThrow(/at least 2 dimensions/);
  });

  it('zeros, ones, lstm_bias', () => {
    const rng = createRng(1);
    expect(Array.from(initialize('zeros', [2, 2], rng))).toEqual([0, 0, 0, 0]);
    expect(Array.from(initialize('ones', [3], rng))).toEqual([1, 1, 1]);
    // Gate order i, f, c, o: only the forget gate starts at one.
    expect(Array.from(initialize('lstm_bias', [8], rng))).toEqual([0, 0, 1, 1, 0, 0, 0, 0]);
  });

  it('uniform is U(-0.05, 0.05) and { normal: s } is N(0, s^2)', () => {
    const u = initialize('uniform', [100, 100], createRng(3).child('emb'));
    expect(Math.max(...u)).toBeLessThan(0.05);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-0.05);
    const n = initialize({ normal: 0.1 }, [100, 100], createRng(3).child('w'));
    const mean = n.reduce((s, x) => s + x, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(std).toBeGreaterThan(0.097);
    expect(std).toBeLessThan(0.103);
  });
});
