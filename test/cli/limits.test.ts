/**
 * Issue 16's front-end reproducers through the command line, as a user meets
 * them: a clear message and exit 1, never a hang, a stack trace or
 * "Maximum call stack size exceeded".
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { cliSandbox } from './process.js';
import { describe, expect, it } from 'vitest';

const { dir, dlc, file } = cliSandbox('dlc-limits-', { timeout: 20_000 });
const model = file('m.dl', 'model M {\n  input x: [2]\n  output y = x -> dense(1)\n}\n');
const fifo = join(dir, 'fifo');
const made = spawnSync('mkfifo', [fifo]).status === 0;

describe('inputs must be regular files of bounded size', () => {
  const cases: [string, string[], string][] = [
    ['check /dev/zero', ['check', '/dev/zero'], "error: cannot read '/dev/zero': it is a character device, not a regular file"],
    ['check a directory', ['check', dir], `error: cannot read '${dir}': it is a directory, not a regular file`],
    ['run --weights /dev/zero', ['run', model, '--input', file('in.json', '{"x": [[1, 2]]}'), '--weights', '/dev/zero'], "/dev/zero: cannot read: it is a character device, not a regular file"],
    ['run --input /dev/zero', ['run', model, '--input', '/dev/zero'], "cannot read '/dev/zero': it is a character device, not a regular file"],
  ];
  for (const [what, args, message] of cases)
    it(what, () => {
      const r = dlc(...args);
      expect(r).toMatchObject({ code: 1, timedOut: false, stdout: '' });
      expect(r.stderr).toContain(message);
    });

  it('check a FIFO with no writer: an error, not a wait', () => {
    expect(made, 'mkfifo made the FIFO').toBe(true);
    const r = dlc('check', fifo);
    expect(r).toMatchObject({ code: 1, timedOut: false });
    expect(r.stderr).toContain(`cannot read '${fifo}': it is a FIFO (named pipe), not a regular file`);
  });

  it('a source over 8 MiB is refused before reading it', () => {
    const big = file('big.dl', `model M {\n  input x: [2]\n  output y = x\n}\n#${'-'.repeat(8 * 2 ** 20)}\n`);
    const r = dlc('check', big);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read '${big}': it is ${statSync(big).size.toLocaleString('en-US')} bytes; the limit is 8,388,608 bytes (8 MiB)`);
  });
});

describe('one piece of source is at most 128 KiB (Ohm holds a memo table of its size)', () => {
  // The repeat family's finding: mobilenet_v2.dl with one call's `bias = false,` repeated to 750 KB took 1 GB to check.
  const call = (args: number) => `model M {\n  input x: [8, 8, 3]\n  output y = x\n    -> conv2d(\n      4,\n${'      bias = false,\n'.repeat(args)}    )\n}\n`;

  it('a 732 KiB call is the located limit error, at its first token', () => {
    const path = file('long-call.dl', call(37_500));
    const r = dlc('check', path);
    expect(r).toMatchObject({ code: 1, timedOut: false, stdout: '' });
    expect(r.stderr).toContain(`${path}:4:8: error: this statement, or this stage of its '->' chain, is 732.4 KiB: one may be at most 128 KiB`);
  });

  it("a call just under the limit is parsed, and gets the checker's errors", () => {
    const r = dlc('check', file('under.dl', call(6_000)));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: conv2d: argument 'bias' is given twice");
  });

  it('a declaration the scanner cannot cut is bounded too', () => {
    const path = file('stray.dl', `model M {\n  input x: [2]\n  y = x -> dense(1)) ${'-> relu '.repeat(20_000)}\n  output y\n}\n`);
    const r = dlc('check', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:1:1: error: this declaration is 156.3 KiB and could not be cut into statements (a bracket or brace out of place): dlc parses at most 128 KiB in one piece`);
  });
});

describe('deep nesting is a located error', () => {
  it('100 nested calls', () => {
    const path = file('calls.dl', `model M {\n  input x: [4]\n  output y = ${'add('.repeat(100)}x${', x)'.repeat(100)}\n}\n`);
    const r = dlc('check', path);
    expect(r.code).toBe(1);
    // At the 41st call's parenthesis: 1-based, after the line's prefix, 40 `add(` and `add`.
    expect(r.stderr).toContain(`${path}:3:${'  output y = '.length + 40 * 4 + 3 + 1}: error: expressions nest more than 40 deep here`);
  });

  it('1,000 blocks calling blocks', () => {
    const blocks = Array.from({ length: 1000 }, (_, i) => `block b${i}() {\n  input x\n  output y = x -> ${i < 999 ? `b${i + 1}()` : 'relu'}\n}`);
    const path = file('blocks.dl', `${blocks.join('\n')}\nmodel M {\n  input x: [4]\n  output y = x -> b0()\n}\n`);
    const r = dlc('check', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:255:19: error: blocks call blocks more than 64 deep`);
  });

  it('3,000 values defined in reverse order check', () => {
    const lines = Array.from({ length: 2999 }, (_, k) => `  v${2999 - k} = v${2998 - k} -> relu`);
    const path = file('reverse.dl', `model M {\n  input x: [4]\n  output y = v2999\n${lines.join('\n')}\n  v0 = x -> relu\n}\n`);
    expect(dlc('check', path)).toMatchObject({ code: 0, stdout: `${path}: ok (M)\n` });
  });

  it('repeat(1000000000, dense(8))', () => {
    const path = file('repeat.dl', 'model M {\n  input x: [4]\n  output y = x -> repeat(1000000000, dense(8))\n}\n');
    const r = dlc('check', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:3:26: error: the model would have at least 1,000,000,000 layers; the limit is 100,000`);
  });

  it('a 100,000-deep JSON array as an input', () => {
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const r = dlc('run', model, '--input', file('deep.json', `{"x": [[1, ${deep}]]}`));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('input "x"[0][1] must be a finite number, got a list');
    expect(r.stderr).not.toContain('Maximum call stack');
  });
});
