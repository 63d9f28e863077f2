/** The README is the user's manual: its op reference must be the registry's, and its examples must run. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../src/compile.js';

const readme = readFileSync('README.md', 'utf8');

describe('README', () => {
  it('op reference is generated from the registry (node scripts/op-reference.js)', () => {
    const r = spawnSync('node', ['scripts/op-reference.js', '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the language sample compiles', () => {
    const sample = readme.split('## The language')[1].split('```')[1];
    expect(compileSource({ path: 'README.md', text: sample }).graphs.map((g) => g.name)).toEqual(['TinyResNet', 'Sentiment', 'Seq2Class']);
  });

  it('the summary shown is what dlc prints', () => {
    const shown = readme.split('$ npx dlc summary examples/mnist_convnet.dl\n')[1].split('```')[0];
    expect(execFileSync('node', ['bin/dlc.js', 'summary', 'examples/mnist_convnet.dl'], { encoding: 'utf8' })).toBe(shown);
  });
});
