/**
 * The command line as a user meets it: exit codes, what goes to stdout and
 * stderr, and that no input makes it print a stack trace.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cliSandbox } from './process.js';
import { describe, expect, it } from 'vitest';

const { dir, dlc, file } = cliSandbox('dlc-cli-');

describe('dlc check', () => {
  it('exits 0 on a good file', () => {
    expect(dlc('check', 'examples/mnist_convnet.dl')).toMatchObject({ code: 0, stdout: 'examples/mnist_convnet.dl: ok (MnistConvNet)\n' });
  });
  it('exits 1 with located diagnostics and a count', () => {
    const path = file('bad.dl', 'model M {\n  input x: [4]\n  output y = x -> dens(2)\n}\n');
    const r = dlc('check', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:3:19: error: unknown op or block 'dens'`);
    expect(r.stderr).toContain("hint: did you mean 'dense'?");
    expect(r.stderr.trim().endsWith('1 error')).toBe(true);
  });
  it('prints the first 50 diagnostics in full and counts the rest', () => {
    const lines = Array.from({ length: 120 }, (_, i) => `  v${i} = x -> nosuchop${i}`);
    const r = dlc('check', file('many.dl', `model M {\n  input x: [4]\n${lines.join('\n')}\n  output y = x -> relu\n}\n`));
    expect(r.code).toBe(1);
    expect(r.stderr.match(/error: unknown op or block/g)).toHaveLength(50);
    expect(r.stderr).toContain("many.dl:52:14: error: unknown op or block 'nosuchop49'");
    expect(r.stderr).not.toContain("unknown op or block 'nosuchop50'");
    expect(r.stderr.trim().split('\n').slice(-2)).toEqual(['... and 70 more errors not shown', '120 errors']);
  });
  it('a UTF-8 byte order mark is not part of the program', () => {
    expect(dlc('check', file('bom.dl', '\uFEFFmodel M {\n  input x: [4]\n  output y = x -> relu\n}\n'))).toMatchObject({ code: 0 });
    const r = dlc('check', file('bom-bad.dl', '\uFEFFmodel M {\n  input x: [4]\n  output y = x -> rel\n}\n'));
    expect(r.stderr).toContain('bom-bad.dl:3:19: error:');
  });
  it('a missing file is an error, not a crash', () => {
    expect(dlc('check', join(dir, 'nope.dl'))).toMatchObject({ code: 1, stderr: `error: cannot read '${join(dir, 'nope.dl')}': no such file or directory\n\n1 error\n` });
  });
  it('binary garbage is a syntax error, not a crash', () => {
    const r = dlc('check', file('garbage.dl', '\u0000\u0001\u00ff{{{'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/garbage\.dl:1:\d+: error: syntax error/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('unknown commands and options exit 1 with help', () => {
    expect(dlc('frobnicate').code).toBe(1);
    expect(dlc('summary', 'examples/mlp.dl', '--bogus').code).toBe(1);
  });
});

describe('an output never replaces an input or another output', () => {
  const source = readFileSync('examples/xor.dl', 'utf8');
  it('compile, init and diagram refuse -o on the source file, by any name for it, and leave it as it was', () => {
    const path = file('keep.dl', source);
    const link = join(dir, 'keep-link.dl');
    if (!existsSync(link)) symlinkSync(path, link);
    for (const args of [['compile', path, '--target', 'tfjs', '-o', path], ['init', path, '-o', join(dir, '.', 'keep.dl')], ['compile', path, '--target', 'tfjs', '-o', link]]) {
      const r = dlc(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`error: -o '${args.at(-1)}' would replace the input '${path}'`);
      expect(r.stderr).toContain('hint: write each output to its own new path');
    }
    expect(dlc('diagram', path, '-o', join(dir, 'keep.dl.svg')).code).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(source);
  });
  it('an output that is a directory is refused before any work', () => {
    const r = dlc('init', file('dir.dl', source), '-o', dir);
    expect(r).toMatchObject({ code: 1, stderr: `error: cannot write '${dir}': is a directory\n` });
  });
  it('train refuses --metrics on the weights path before it trains', () => {
    const path = file('train.dl', source);
    const weights = join(dir, 'trained.safetensors');
    const r = dlc('train', path, '-o', weights, '--metrics', weights);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toContain(`error: --metrics '${weights}' would replace the -o output '${weights}'`);
    expect(existsSync(weights)).toBe(false);
  });
});

describe('dlc diagram --scale', () => {
  it('a PNG too large to allocate is a clear error, not an abort', () => {
    const path = file('scaled.dl', readFileSync('examples/xor.dl', 'utf8'));
    for (const scale of ['1e300', '1000000']) {
      const r = dlc('diagram', path, '-o', join(dir, 'scaled.png'), '--scale', scale);
      expect(r.code, scale).toBe(1);
      expect(r.stderr).toMatch(/^error: the PNG would be .+ x .+ pixels, more than 268,435,456 in all\n  hint: use --scale [0-9.]+ or less, or write \.svg\n$/);
    }
    expect(existsSync(join(dir, 'scaled.png'))).toBe(false);
  });
});

describe('dlc run', () => {
  it('an output named __proto__ is printed like any other', () => {
    const path = file('proto.dl', 'model M {\n  input x: [4]\n  output __proto__ = x -> relu\n}\n');
    const r = dlc('run', path, '--input', file('proto.json', '{"x": [[1, -2, 3, -4]]}'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse('{"__proto__": [[1, 0, 3, 0]]}'));
  });
});

describe('dlc summary', () => {
  it('prints a Keras-like table with totals', () => {
    const r = dlc('summary', 'examples/mnist_convnet.dl');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('conv2d_1 (conv2d)     (batch, 11, 11, 64)   18,496');
    expect(r.stdout).toContain('Total params: 34,826 (136.04 KB)');
  });
  it('--json has the documented fields with null for the batch', () => {
    const json = JSON.parse(execFileSync('node', ['bin/dlc.js', 'summary', 'examples/perceptron.dl', '--json'], { encoding: 'utf8' }));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['model', 'layers', 'totalParams', 'trainableParams', 'flops']));
    expect(json.layers[1]).toEqual({ name: 'neuron', op: 'dense', outputShape: [null, 1], params: 4, flops: 6 });
  });
  it('--model picks a model; an unknown one is an error with a suggestion', () => {
    expect(dlc('summary', 'test/fixtures/issue-sample.dl', '--model', 'Sentiment').stdout).toContain('Model: "Sentiment"');
    const r = dlc('summary', 'test/fixtures/issue-sample.dl', '--model', 'Sentimen');
    expect(r).toMatchObject({ code: 1 });
    expect(r.stderr).toContain("error: no model named 'Sentimen' (models: MnistConvNet, TinyResNet, Sentiment, Seq2Class)\n  hint: did you mean 'Sentiment'?");
  });
});

describe('dlc compile --emit ir', () => {
  it('prints the IR as written with --opt 0', () => {
    const r = dlc('compile', 'examples/perceptron.dl', '--emit', 'ir', '--opt', '0');
    expect(r.stdout).toContain('%neuron: [1] = dense(%x, units=1, bias=true)  # 6:19');
  });
  it('prints the optimized IR by default, and pass statistics', () => {
    const r = dlc('compile', 'examples/perceptron.dl', '--stats');
    expect(r.stdout).toContain('%neuron: [1] = fused_dense(%x, units=1, bias=true, activation=sigmoid)  # 6:19');
    expect(r.stderr).toContain('fuse          3 -> 3  fuse-activation x1');
    expect(r.stderr).toContain('dce           3 -> 2  dead x1');
  });
  it('--dump-after shows one pass; an unknown pass is an error', () => {
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--dump-after', 'simplify').stdout).not.toContain('dropout(');
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--dump-after', 'fold').stdout).toContain('dropout(');
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--dump-after', 'fusion')).toMatchObject({ code: 1, stderr: 'error: unknown pass \'fusion\' (passes: fold, simplify, cse, bnfold, fuse, dce)\n' });
  });
});

describe('dlc compile --target tfjs', () => {
  it('writes a module and says so', () => {
    const out = join(dir, 'Mnist.ts');
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--target', 'tfjs', '-o', out)).toMatchObject({ code: 0, stdout: `${out}: TensorFlow.js module of MnistConvNet\n` });
    expect(readFileSync(out, 'utf8')).toContain("import * as tf from '@tensorflow/tfjs';");
  });
  it('an unknown target, a missing -o, an unknown model and an unwritable path are errors that leave no file', () => {
    const out = join(dir, 'never.ts');
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--target', 'tflite', '-o', out)).toMatchObject({ code: 1, stderr: "error: unknown --target 'tflite' (targets: tfjs, onnx)\n" });
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--target', 'tfjs')).toMatchObject({ code: 1, stderr: 'error: --target tfjs needs -o FILE.ts\n' });
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--target', 'tfjs', '--model', 'Nope', '-o', out).stderr).toContain("error: no model named 'Nope' (models: MnistConvNet)");
    expect(dlc('compile', 'examples/mnist_convnet.dl', '--target', 'tfjs', '-o', join(dir, 'missing/dir/M.ts')).stderr).toBe(`error: cannot write '${join(dir, 'missing/dir/M.ts')}': no such file or directory\n`);
    expect(existsSync(out)).toBe(false);
  });
});

describe('dlc diagram', () => {
  it('writes SVG, PNG and DOT by extension', () => {
    for (const ext of ['svg', 'png', 'dot']) {
      const out = join(dir, `mnist.${ext}`);
      expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', out)).toMatchObject({ code: 0, stdout: `${out}: ${ext.toUpperCase()} of MnistConvNet\n` });
    }
    expect(readFileSync(join(dir, 'mnist.svg'), 'utf8')).toContain('conv2d_1');
    expect(readFileSync(join(dir, 'mnist.png')).subarray(1, 4).toString()).toBe('PNG');
  });
  it('bad flags and views are errors that leave no file', () => {
    const out = join(dir, 'bad.svg');
    expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', join(dir, 'x.jpg')).stderr).toBe(`error: -o must end in .svg, .png, .pdf, .tex or .dot, got '${join(dir, 'x.jpg')}'\n`);
    expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', out, '--theme', 'neon').stderr).toBe("error: --theme must be one of light, dark, print, paper, got 'neon'\n");
    const r = dlc('diagram', 'examples/mnist_convnet.dl', '-o', out, '--detail', 'neurons');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the neuron view draws a chain of dense layers');
    expect(existsSync(out)).toBe(false);
    expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', join(dir, 'no/such/dir.svg')).stderr).toBe(`error: cannot write '${join(dir, 'no/such/dir.svg')}': no such file or directory\n`);
  });
});

describe('dlc diagram for slides', () => {
  it('draws the layer view where it fits, and otherwise a coarser one with a note on stderr', () => {
    expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', join(dir, 'm.svg'))).toMatchObject({ code: 0, stderr: '' });
    const r = dlc('diagram', 'examples/resnet50.dl', '-o', join(dir, 'r.svg'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^note: ResNet50's layer view fitted to a 1920x1080 slide would have about \d+ px text, under the 21 px aimed for \(18 px at least, with room for the estimate's error\): drawing the block view \(repeats collapsed\) instead, at about \d+ px; --detail layers draws every layer\n$/);
    expect(readFileSync(join(dir, 'r.svg'), 'utf8')).toContain('>stage(256, 6)</text>'); // argument values, not parameter names
    for (const flags of [['--detail', 'layers'], ['--fit', 'none']]) expect(dlc('diagram', 'examples/resnet50.dl', '-o', join(dir, 'r.svg'), ...flags)).toMatchObject({ code: 0, stderr: '' });
  });

  it('draws the source graph by default and the optimized one with --opt 1, fused layers marked', () => {
    const source = join(dir, 'source.dot');
    const optimized = join(dir, 'optimized.dot');
    expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', source).code).toBe(0);
    expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', optimized, '--opt', '1').code).toBe(0);
    const [a, b] = [readFileSync(source, 'utf8'), readFileSync(optimized, 'utf8')];
    expect(a).toContain('label="dropout');
    expect(a).not.toContain('peripheries=2');
    expect(b).not.toContain('label="dropout');
    expect(b).toContain('label="conv2d + relu');
    expect(b).toContain('peripheries=2');
    expect(b).toContain('label="fused layer"');
  });

  it('puts shapes where --shapes says, and none with --no-shapes', () => {
    const arrows = (...flags: string[]) => {
      const out = join(dir, 'shapes.dot');
      expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', out, ...flags).code).toBe(0);
      return readFileSync(out, 'utf8');
    };
    expect(arrows()).toContain('&#8594; 26&#215;26&#215;32'); // → 26×26×32 inside the node
    expect(arrows('--shapes', 'edges')).toMatch(/n\d+ -> n\d+ \[label="26&#215;26&#215;32"/);
    for (const flags of [['--shapes', 'none'], ['--no-shapes']]) expect(arrows(...flags)).not.toContain('26&#215;26&#215;32');
  });

  it('refuses an unknown fit, place for shapes or detail, and writes nothing', () => {
    const out = join(dir, 'refused.svg');
    for (const [flag, value, choices] of [
      ['fit', '5:4', '16:9, 4:3, a4, column, none'],
      ['shapes', 'sides', 'edges, nodes, none'],
      ['detail', 'everything', 'layers, blocks, outline, neurons, params'],
    ])
      expect(dlc('diagram', 'examples/mnist_convnet.dl', '-o', out, `--${flag}`, value)).toMatchObject({ code: 1, stderr: `error: --${flag} must be one of ${choices}, got '${value}'\n` });
    expect(existsSync(out)).toBe(false);
  });
});

describe('flags the CLI cannot use', () => {
  // Each is one line on stderr and exit 1, before any file is read or written.
  it.each([
    [['compile', 'examples/perceptron.dl', '--emit', 'onnx'], "error: unknown --emit 'onnx' (expected: ir)"],
    [['compile', 'examples/perceptron.dl', '--target', 'tfjs', '--emit', 'ir', '-o', 'x.ts'], 'error: give either --target tfjs or --emit ir, not both'],
    [['compile', 'examples/perceptron.dl', '--opt', '2'], "error: --opt must be 0 or 1, got '2'"],
    [['run', 'examples/perceptron.dl', '--input', 'x.json', '--kernels', 'gpu'], "error: --kernels must be auto, wasm or js, got 'gpu'"],
    [['init', 'examples/perceptron.dl', '-o', 'x.safetensors', '--seed', '-3'], "error: --seed must be a whole number >= 0, got '-3'"],
    [['train', 'examples/xor.dl', '-o', 'x.safetensors', '--epochs', '1.5'], "error: expected a whole number >= 1, got '1.5'"],
    [['train', 'examples/xor.dl', '-o', 'x.safetensors', '--lr', '0'], "error: expected a positive number, got '0'"],
  ])('dlc %j', (args, line) => {
    expect(dlc(...args)).toMatchObject({ code: 1, stdout: '', stderr: `${line}\n` });
  });
});

describe('dlc --help', () => {
  it('shows the program description, every command, and the options with their descriptions', () => {
    const commands = ['check', 'summary', 'compile', 'init', 'run', 'train', 'eval', 'diagram'];
    // Commander wraps descriptions to the terminal width: compare with whitespace collapsed.
    const flat = (text: string) => text.replace(/\s+/g, ' ');
    const main = flat(dlc('--help').stdout);
    expect(main).toContain('A compiler for .dl model files: check, summarize, compile, run, train and draw neural networks.');
    for (const c of commands) expect(main).toMatch(new RegExp(`\\b${c}\\b`));
    const compile = flat(dlc('compile', '--help').stdout);
    expect(compile).toContain('--dump-after <pass> print the IR after one pass (fold, simplify, cse, bnfold, fuse, dce)');
    expect(compile).toContain('--target <target> tfjs: a typed TensorFlow.js module; onnx: an ONNX model with its weights (both need -o)');
    expect(flat(dlc('run', '--help').stdout)).toContain('--engine <engine> interp: the built-in interpreter; ort: ONNX Runtime (onnxruntime-node) on the model exported as by --target onnx (default: "interp")');
    const diagram = flat(dlc('diagram', '--help').stdout);
    expect(diagram).toContain('--detail <level> layers, blocks (one cluster per block call, repeats collapsed), outline (a node per block), params (layers with their weight shapes) or neurons (small dense nets); by default layers, or blocks or outline when the layers cannot fit --fit');
    expect(diagram).toContain('--shapes <where> where output shapes go: edges, nodes (default) or none (default: "nodes")');
    expect(diagram).toContain('--fit <target> lay out for 16:9 (default), 4:3, a4, column or none (one strip) (default: "16:9")');
    expect(diagram).toContain('--no-shapes the same as --shapes none');
  });
});
