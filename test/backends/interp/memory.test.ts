/**
 * The memory budget (plan.ts checkMemory, `--max-memory`): a run is refused
 * before it allocates when its activations, weights and inputs add up to
 * more than the limit; at exactly the limit it runs. The byte counts here are
 * worked out by hand from the model, not taken from the plan.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { DEFAULT_MEMORY_LIMIT, getMemoryLimit, setMemoryLimit } from '../../../src/backends/interp/plan.js';
import { initWeights } from '../../../src/backends/interp/weights.js';
import { parseBytes } from '../../../src/units.js';
import { totalmem } from 'node:os';
import { compileText } from '../../helpers.js';

afterEach(() => setMemoryLimit(DEFAULT_MEMORY_LIMIT));

describe('--max-memory', () => {
  it('sizes read as powers of 1024, as humanBytes prints them', () => {
    expect(parseBytes('2G')).toBe(2 * 1024 ** 3);
    expect(parseBytes('1.5GB')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('512m')).toBe(512 * 1024 ** 2);
    expect(parseBytes('64KiB')).toBe(65536);
    expect(parseBytes('1000')).toBe(1000);
    for (const bad of ['0', '', 'G', '1e9', '-1G', '2X', '1.5.5G']) expect(parseBytes(bad)).toBeUndefined();
  });

  it('defaults to half of the machine memory', () => {
    expect(getMemoryLimit()).toBe(Math.floor(totalmem() / 2));
  });

  it('refuses a run one byte over the limit, before it allocates, and runs at the limit', () => {
    // x [1000] -> dense(1000) -> relu at batch 10, as written (not fused):
    // activations 2 x 10 x 1000 x 4 = 80,000 bytes (dense's output is alive while relu writes its own),
    // weights (1000 x 1000 + 1000) x 4 = 4,004,000, inputs 10 x 1000 x 4 = 40,000; 4,124,000 in all.
    const graph = compileText('model M {\n  input x: [1000]\n  output y = x -> dense(1000) -> relu\n}\n');
    const weights = initWeights(graph, { seed: 0 });
    const x = { shape: [10, 1000], data: new Float32Array(10_000) };
    setMemoryLimit(4_124_000 - 1);
    expect(() => new Interpreter(graph, weights).run({ x })).toThrow(
      "running model 'M' at batch 10 needs 3.93 MB (activations 78.13 KB, weights 3.82 MB, inputs 39.06 KB), more than the memory limit of 3.93 MB\n" +
        '  hint: give fewer examples at once, or raise the limit with --max-memory 1G',
    );
    setMemoryLimit(4_124_000);
    expect(new Interpreter(graph, weights).run({ x }).outputs.y.shape).toEqual([10, 1000]);
  });

  it('refuses weights over the limit before initialising them', () => {
    // dense(1000) on [1000]: 1,001,000 parameters, 4,004,000 bytes.
    const graph = compileText('model M {\n  input x: [1000]\n  output y = x -> dense(1000)\n}\n');
    setMemoryLimit(4_004_000 - 1);
    expect(() => initWeights(graph, { seed: 0 })).toThrow("initialising model 'M' needs 3.82 MB (weights 3.82 MB), more than the memory limit of 3.82 MB");
    setMemoryLimit(4_004_000);
    expect(initWeights(graph, { seed: 0 }).get('dense.kernel')!.data.length).toBe(1_000_000);
  });
});
