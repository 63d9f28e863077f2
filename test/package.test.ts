/**
 * The published package works from its build output alone: `npm pack` (the
 * `files` of package.json, no src/), installed into a scratch project with
 * @tensorflow/tfjs, whose `dlc` compiles an example to a TensorFlow.js module
 * that predicts what the same install's `dlc run` does on the same weights.
 *
 * Needs the build (`npm test` builds first) and the npm registry or cache;
 * optional dependencies are left out (@tensorflow/tfjs-node's install
 * downloads TensorFlow). About 20-40 s, most of it npm install.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose } from './backends/interp/helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dlc-package-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the packed package', () => {
  it('compiles an example whose module predicts as its own `dlc run`', { timeout: 180_000 }, () => {
    expect(existsSync(join(root, 'dist/src/backends/tfjs/support-declarations.json')), 'build first: npm run build').toBe(true);
    const started = performance.now();
    // --ignore-scripts: pack the build as it is, without `prepare` rebuilding it.
    run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], root);
    const [tarball] = readdirSync(scratch).filter((f) => f.endsWith('.tgz'));
    const listing = run('tar', ['tzf', join(scratch, tarball!)], scratch).split('\n');
    expect(listing.filter((f) => f.startsWith('package/src/'))).toEqual([]);

    const project = join(scratch, 'project');
    run('mkdir', [project], scratch);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    const tfjs = JSON.parse(readFileSync(join(root, 'node_modules/@tensorflow/tfjs/package.json'), 'utf8')).version;
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=optional', '--silent', join(scratch, tarball!), `@tensorflow/tfjs@${tfjs}`], project);
    const installed = performance.now();

    copyFileSync(join(root, 'examples/mnist_convnet.dl'), join(project, 'model.dl'));
    const dlc = join(project, 'node_modules/.bin/dlc');
    run(dlc, ['compile', 'model.dl', '--target', 'tfjs', '-o', 'model.ts'], project);
    run(dlc, ['init', 'model.dl', '-o', 'model.safetensors', '--seed', '5'], project);
    const image = Array.from({ length: 2 }, (_, b) => Array.from({ length: 28 }, (_, i) => Array.from({ length: 28 }, (_, j) => [Math.sin(b + i * 0.3 + j * 0.7)])));
    writeFileSync(join(project, 'inputs.json'), JSON.stringify({ image }));
    const expected = JSON.parse(run(dlc, ['run', 'model.dl', '--weights', 'model.safetensors', '--input', 'inputs.json', '--json'], project));

    // The module as a user runs it: transpiled to JavaScript, importing the install's @tensorflow/tfjs.
    const code = readFileSync(join(project, 'model.ts'), 'utf8');
    expect(code.match(/^import .*$/gm)).toEqual(["import * as tf from '@tensorflow/tfjs';"]);
    const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(project, 'model.js'), js);
    writeFileSync(
      join(project, 'main.js'),
      `import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import * as model from './model.js';
const weights = model.loadWeights(readFileSync('model.safetensors'));
const { image } = JSON.parse(readFileSync('inputs.json', 'utf8'));
const outputs = model.predict(weights, { image: tf.tensor(image) });
console.log(JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, t.arraySync()]))));`,
    );
    const actual = JSON.parse(run('node', ['main.js'], project).trim().split('\n').at(-1)!);
    const finished = performance.now();

    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    for (const name of Object.keys(expected)) {
      const flat = (v: unknown) => Float32Array.from((v as number[]).flat(Infinity as 1) as number[]);
      const [want, got] = [flat(expected[name]), flat(actual[name])];
      expect(got.length).toBe(want.length);
      expectClose({ shape: [got.length], data: got }, { shape: [want.length], data: want }, 1e-4);
    }
    console.log(`package test: pack and install ${((installed - started) / 1000).toFixed(1)} s, compile and run ${((finished - installed) / 1000).toFixed(1)} s`);
  });
});
