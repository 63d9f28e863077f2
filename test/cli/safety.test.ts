/**
 * Issue 16's run-time and output reproducers as a user meets them: the
 * command run as a process, its exit code, what it prints, and the files it
 * leaves. Memory budgets, data-set sizes, large constants, interrupted
 * training, unwritable outputs and temporary files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliSandbox } from './process.js';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/weights/safetensors.js';

const { dir, dlc, file } = cliSandbox('dlc-safety-');
/** Files in `folder` that writes left behind (`.<name>.<hex>.tmp`). */
const temporaries = (folder: string) => readdirSync(folder).filter((f) => f.endsWith('.tmp'));

describe('run-time memory (--max-memory)', () => {
  // [64, 64, 3] upsampled 10,000 times is [640000, 640000, 3]: 4.9 TB of float32, more than any machine's half.
  const huge = file('huge.dl', 'model Huge {\n  input x: [64, 64, 3]\n  output y = x -> upsampling(size = 10000) -> global_avgpool\n}\n');
  const input = file('huge.json', JSON.stringify({ x: [Array.from({ length: 64 }, () => Array.from({ length: 64 }, () => [0, 0, 0]))] }));

  it('a run whose activations need terabytes is refused by default before it allocates, with the need, the limit and a hint', () => {
    const r = dlc('run', huge, '--input', input);
    expect(r.code).toBe(1);
    // 640000 x 640000 x 3 x 4 bytes = 4,915,200,000,000 = 4.47 TB, the upsampled activation (the pooled one is 12 bytes).
    expect(r.stderr).toMatch(/^error: running model 'Huge' at batch 1 needs 4\.47 TB \(activations 4\.47 TB, inputs 48\.00 KB\), more than the memory limit of [\d.]+ GB\n  hint: give fewer examples at once, or raise the limit with --max-memory 4578G \(this machine has [\d.]+ GB\)\n$/);
  });
  it('--max-memory takes sizes like 512K; a bad size is a usage error', () => {
    const small = file('small.dl', 'model Small {\n  input x: [64, 64, 3]\n  output y = x -> upsampling(size = 4) -> global_avgpool\n}\n');
    // [256, 256, 3] float32 = 786,432 bytes = 768 KB of activations (and 12 of the pooled output).
    expect(dlc('run', small, '--input', input, '--max-memory', '512K').stderr).toContain("error: running model 'Small' at batch 1 needs 816.06 KB (activations 768.06 KB, inputs 48.00 KB), more than the memory limit of 512.00 KB");
    expect(dlc('run', small, '--input', input, '--max-memory', '1M')).toMatchObject({ code: 0 });
    expect(dlc('run', small, '--input', input, '--max-memory', 'lots')).toMatchObject({ code: 1, stderr: expect.stringContaining("--max-memory must be a size such as 512M, 2G or 1.5G, got 'lots'") });
  });
  it('train checks its estimate before the first step and writes nothing', () => {
    const out = join(dir, 'mem', 'xor.safetensors');
    const r = dlc('train', 'examples/xor.dl', '-o', out, '--max-memory', '1K');
    expect(r.code).toBe(1);
    // Trained fused: dense+tanh [8] and dense+sigmoid [1] at batch 4 are 36 floats, 144 bytes, kept and with a gradient each: 288;
    // evaluation's arena holds both at once at 64-byte alignment: 128 + 64 = 192; 480 in all.
    // 33 parameters x 4 bytes x 5 (weights, last good copy, gradients, Adam's two slots) = 660; xor's 4 points twice (train and test), 12 floats each: 96.
    expect(r.stderr).toContain("error: training model 'XorNet' with batch 4 needs 1.21 KB (activations and gradients 480 B, weights and optimizer state 660 B, data 96 B), more than the memory limit of 1.00 KB\n  hint: use a smaller 'batch' in the train section, or raise the limit with --max-memory 1G");
    expect(r.stdout).not.toMatch(/^epoch/m); // no step ran
    expect(existsSync(out)).toBe(false);
  });
});

describe('data-set sizes', () => {
  it('spirals(1e15) is a located error naming the limit', () => {
    const source = file('spirals.dl', 'model S {\n  input x: [2]\n  output y = x -> dense(1) -> sigmoid\n}\ntrain S {\n  data = spirals(1e15)\n  loss = binary_crossentropy\n}\n');
    const r = dlc('train', source, '-o', join(dir, 'spirals.safetensors'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${source}:6:10: error: spirals: n = 1.00e+15 makes 3.00e+15 values, more than the 50,000,000 a data set may hold in memory`);
    expect(r.stderr).toContain('hint: use n = 16,666,666 or less');
  });
});

describe('large constants are not folded', () => {
  it('a [10000, 500] sinusoidal table compiles to a small module that computes it at run time', () => {
    const source = file('table.dl', 'model Table {\n  input x: [10000, 500]\n  output y = x -> positional(kind = sinusoidal)\n}\n');
    const out = join(dir, 'table.ts');
    expect(dlc('compile', source, '--target', 'tfjs', '-o', out)).toMatchObject({ code: 0 });
    const module = readFileSync(out, 'utf8');
    expect(module).toContain('positionEncoding(10000, 500)');
    expect(statSync(out).size).toBeLessThan(100_000); // folded, the table alone was 5,000,000 numbers as text
  });
});

describe('dlc train: outputs', () => {
  const long = file('long.dl', 'model S {\n  input x: [2]\n  output y = x -> dense(16) -> tanh -> dense(1) -> sigmoid\n}\ntrain S {\n  data = spirals(400)\n  loss = binary_crossentropy\n  optimizer = adam(lr = 0.01)\n  epochs = 100000\n  batch = 8\n}\n');

  it('an unwritable output is an error before the first step, and no directory is left half made', () => {
    const plain = file('plain', 'a file, not a directory');
    for (const [flag, path] of [['-o', join(plain, 'w.safetensors')], ['--metrics', join(plain, 'm.json')], ['--plot', join(plain, 'c.svg')]]) {
      const args = flag === '-o' ? ['-o', path] : ['-o', join(dir, 'w.safetensors'), flag, path];
      const r = dlc('train', long, ...args);
      expect(r).toMatchObject({ code: 1, stderr: `error: cannot write '${path}': not a directory\n` });
      expect(r.stdout).toBe(''); // nothing trained
    }
    expect(temporaries(dir)).toEqual([]);
  });

  it('SIGINT saves the last completed step weights atomically, says where on stderr and exits 130', async () => {
    const out = join(dir, 'interrupted', 'w.safetensors');
    const child = spawn('node', ['bin/dlc.js', 'train', long, '-o', out], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '', stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (/epoch +1\/100000/.test(stdout) && !child.killed) child.kill('SIGINT'); // after the first epoch's line
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    const m = /^interrupted in epoch (\d+) at batch (\d+)\/40: wrote the weights after (\d+) steps to (.*)\n$/.exec(stderr);
    expect(m).not.toBeNull();
    // 400 points, 20% held out: 320 training points in batches of 8, 40 batches an epoch; each completed batch is a step.
    const [epoch, batch, steps] = [Number(m![1]), Number(m![2]), Number(m![3])];
    expect(m![4]).toBe(out);
    expect(steps).toBe((epoch - 1) * 40 + batch);
    const weights = decodeSafetensors(readFileSync(out));
    expect(weights.metadata).toMatchObject({ model: 'S', updates: `${steps}` });
    expect([...weights.tensors.keys()].sort()).toEqual(['dense.bias', 'dense.kernel', 'dense_1.bias', 'dense_1.kernel']);
    expect(temporaries(join(dir, 'interrupted'))).toEqual([]);
  });
});

describe('temporary files', () => {
  // A script that starts writing a temporary file as writeFileAtomic does, then is stopped.
  const stopped = (how: string) => {
    const folder = mkdtempSync(join(dir, 'tmp-'));
    const script = `import { temporaryPath } from './dist/src/files.js'; import { writeFileSync } from 'node:fs';
      writeFileSync(temporaryPath(${JSON.stringify(join(folder, 'out.bin'))}), 'half');
      ${how}; setTimeout(() => {}, 10000);`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8' });
    return { status: r.status, left: temporaries(folder) };
  };
  it('are removed on SIGINT, SIGTERM and SIGHUP, with the exit code the signal implies', () => {
    expect(stopped("process.kill(process.pid, 'SIGINT')")).toEqual({ status: 130, left: [] });
    expect(stopped("process.kill(process.pid, 'SIGTERM')")).toEqual({ status: 143, left: [] });
    expect(stopped("process.kill(process.pid, 'SIGHUP')")).toEqual({ status: 129, left: [] });
  });
  it('are removed on an exit and an uncaught error', () => {
    expect(stopped('process.exit(3)')).toEqual({ status: 3, left: [] });
    expect(stopped("throw new Error('boom')")).toEqual({ status: 1, left: [] });
  });
});

describe('text from outside never reaches the terminal raw', () => {
  const model = file('m.dl', 'model M {\n  input x: [2]\n  output y = x -> dense(1)\n}\n');
  const ESC = '\u001b';

  it('an input JSON key with an escape sequence is shown escaped', () => {
    const r = dlc('run', model, '--input', file('esc.json', '{"x\\u001b[31mRED": [[1, 2]]}'));
    expect(r).toMatchObject({ code: 1, stderr: 'error: inputs have an unknown key "x\\u001b[31mRED"; the model\'s inputs are "x"\n' });
  });
  it('1e400 in inputs, and a value float32 cannot hold, are too large, not null', () => {
    expect(dlc('run', model, '--input', file('inf.json', '{"x": [[1e400, 1]]}')).stderr).toBe(
      'error: input "x"[0][0] is too large: a number beyond +-1.8e308 is outside float32\'s range of +-3.4e38\n',
    );
    // float32's largest value is (2 - 2^-23) x 2^127 = 3.4028234663852886e38.
    expect(dlc('run', model, '--input', file('f32.json', '{"x": [[1, -3.5e38]]}')).stderr).toBe(
      'error: input "x"[0][1] is too large: -3.5e+38 is outside float32\'s range of +-3.4e38\n',
    );
    expect(dlc('run', model, '--input', file('f32max.json', '{"x": [[1, -3.4028234663852886e38]]}')).code).toBe(0);
  });
  it('tensor names from a weights file are shown escaped, C1 controls too', () => {
    const bytes = encodeSafetensors(new Map([
      ['dense.kernel', { shape: [2, 1], data: new Float32Array(2) }],
      [`evil${ESC}]0;pwned\u0007\u009b2J`, { shape: [1], data: new Float32Array(1) }],
    ]), { model: `M${ESC}[2J` });
    const weights = join(dir, 'evil.safetensors');
    writeFileSync(weights, bytes);
    const r = dlc('run', model, '--input', file('ok.json', '{"x": [[1, 2]]}'), '--weights', weights);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('weights file has tensors this model does not use: "evil\\u001b]0;pwned\\u0007\\u009b2J"');
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
  it('a weights file over 2 GB, or not a regular file, is a clear error', () => {
    const ok = file('ok-input.json', '{"x": [[1, 2]]}');
    const big = join(dir, 'big.safetensors');
    spawnSync('truncate', ['-s', '2200000000', big]); // sparse: no disk used
    expect(dlc('run', model, '--input', ok, '--weights', big).stderr).toBe(
      `error: ${big}: cannot read: it is 2,200,000,000 bytes; the limit is 2,147,483,647 bytes (2 GiB)\n`,
    );
    expect(dlc('run', model, '--input', ok, '--weights', dir).stderr).toBe(`error: ${dir}: cannot read: it is a directory, not a regular file\n`);
    expect(dlc('run', model, '--input', ok, '--weights', '/dev/zero').stderr).toBe('error: /dev/zero: cannot read: it is a character device, not a regular file\n'); // read forever before
  });
  it('a CSV header with controls and markup is escaped in messages and leaves the curves SVG valid XML', () => {
    file('bad.csv', `a,b${ESC}[31m,c\u0001&<\n1,2,0\n3,4,1\n5,6,1\n7,8,0\n9,1,1\n`);
    const source = file('csv.dl', 'model C {\n  input x: [2]\n  output y = x -> dense(1) -> sigmoid\n}\ntrain C {\n  data = csv("bad.csv")\n  loss = binary_crossentropy\n  epochs = 1\n}\n');
    const r = dlc('train', source, '-o', join(dir, 'csv.safetensors'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('training C on csv: 5 rows of bad.csv, features a, b\\u001b[31m -> c\\u0001&<\n');
    const svg = readFileSync(join(dir, 'csv.curves.svg'), 'utf8');
    expect(svg).toContain('>C: csv: 5 rows of bad.csv, features a, b\\u001b[31m -&gt; c\\u0001&amp;&lt;</text>');
    expect(svg).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]|&(?!amp;|lt;|gt;|quot;)/);
    file('cell.csv', `a,b,c\n1,x${ESC}[2J,0\n`);
    const cell = dlc('train', file('cell.dl', 'model C {\n  input x: [2]\n  output y = x -> dense(1) -> sigmoid\n}\ntrain C {\n  data = csv("cell.csv")\n  loss = binary_crossentropy\n}\n'), '-o', join(dir, 'cell.safetensors'));
    expect(cell.stderr).toBe("error: cell.csv, line 2, column 'b': 'x\\u001b[2J' is not a number\n");
  });
  it('code frames show an astral character whole and a control character as its picture', () => {
    const astral = dlc('check', file('astral.dl', 'model M {\n  input x: [2]\n  output y = x -> \u{1F600}\n}\n'));
    expect(astral.stderr).toContain("error: syntax error: expected an expression, found '\u{1F600}'");
    expect(astral.stderr).not.toContain('\uFFFD');
    const control = dlc('check', file('control.dl', `model M {\n  input x: [2] # ${ESC}[2J\n  output y = x -> nope\n}\n`));
    expect(control.stderr).toContain('  2 |   input x: [2] # \u241B[2J\n');
    expect(control.stderr).not.toContain(ESC);
    const found = dlc('check', file('found.dl', 'model M {\n  input x: [2]\n  output y = x -> \u202Eevil\n}\n')); // a right-to-left override
    expect(found.stderr).toContain('found "\\u202e"');
    expect(found.stderr).not.toContain('\u202E');
  });
  it('init -o a directory names the directory, not a temporary file', () => {
    expect(dlc('init', model, '-o', dir)).toMatchObject({ code: 1, stderr: `error: cannot write '${dir}': is a directory\n` });
    const missing = join(dir, 'no', 'such', 'w.safetensors');
    expect(dlc('init', model, '-o', missing)).toMatchObject({ code: 1, stderr: `error: cannot access '${missing}': no such file or directory\n` });
  });
  it('duplicate output lines are a located error', () => {
    const r = dlc('check', file('dup.dl', 'model M {\n  input x: [4]\n  output y = x -> relu\n  output y = x -> tanh\n}\n'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("dup.dl:4:10: error: 'y' is already defined (at line 3)");
  });
});
