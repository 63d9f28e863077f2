/**
 * `dlc fmt` and the prettier plugin as a user runs them: processes on files
 * in a scratch directory.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliSandbox } from '../cli/process.js';

const root = new URL('../..', import.meta.url).pathname;
const MESSY = 'model M{\ninput x:[8]\n  output y=x->dense(4)->relu\n}\n';
const TIDY = 'model M {\n  input x: [8]\n  output y = x -> dense(4) -> relu\n}\n';
const BROKEN = 'model M {\n  input x: [4\n  output x\n}\n';

describe('dlc fmt', () => {
  it('prints one file formatted and changes nothing', () => {
    const { dlc, file } = cliSandbox('dlc-fmt-');
    const path = file('m.dl', MESSY);
    const r = dlc('fmt', path);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(TIDY);
    expect(readFileSync(path, 'utf8')).toBe(MESSY);
    // --width: the same chain no longer fits 20 columns.
    expect(dlc('fmt', '--width', '20', path).stdout).toBe('model M {\n  input x: [8]\n  output y = x\n    -> dense(4)\n    -> relu\n}\n');
  });

  it('--check lists the files that would change and exits 1; 0 once all are formatted', () => {
    const { dlc, file } = cliSandbox('dlc-fmt-');
    const messy = file('messy.dl', MESSY);
    const tidy = file('tidy.dl', TIDY);
    const r = dlc('fmt', '--check', messy, tidy);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${messy}: not formatted\n`);
    expect(r.stderr).toBe("error: 1 file is not formatted: run 'dlc fmt --write' on it\n");
    expect(readFileSync(messy, 'utf8')).toBe(MESSY);
    const ok = dlc('fmt', '--check', tidy, join(root, 'examples/mlp.dl'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('2 files are formatted\n');
  });

  it('--write rewrites the files that change, in place, keeping permissions and symbolic links', () => {
    const { dir, dlc, file } = cliSandbox('dlc-fmt-');
    const messy = file('messy.dl', MESSY);
    const tidy = file('tidy.dl', TIDY);
    chmodSync(messy, 0o640);
    mkdirSync(join(dir, 'src'));
    const real = file('src/real.dl', MESSY);
    const link = join(dir, 'link.dl');
    symlinkSync(real, link);
    const before = statSync(tidy).mtimeMs;
    const r = dlc('fmt', '--write', messy, tidy, link);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${messy}: formatted\n${link}: formatted\n`);
    expect(readFileSync(messy, 'utf8')).toBe(TIDY);
    expect(statSync(messy).mode & 0o777).toBe(0o640);
    expect(readFileSync(real, 'utf8')).toBe(TIDY);
    expect(statSync(tidy).mtimeMs).toBe(before);
    expect(dlc('fmt', '--check', messy, tidy, link).code).toBe(0);
  });

  it('leaves a file with a syntax error untouched, reports where, exits 1, and still formats the others', () => {
    const { dlc, file } = cliSandbox('dlc-fmt-');
    const bad = file('bad.dl', BROKEN);
    const messy = file('messy.dl', MESSY);
    const r = dlc('fmt', '--write', bad, messy);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad}:3:3: error: syntax error: expected ']', ',' or an operator such as '->', found 'output'`);
    expect(r.stderr).toMatch(/1 error\n$/);
    expect(readFileSync(bad, 'utf8')).toBe(BROKEN);
    expect(readFileSync(messy, 'utf8')).toBe(TIDY);
    const printed = dlc('fmt', bad);
    expect(printed.code).toBe(1);
    expect(printed.stdout).toBe('');
  });

  it("'-' formats standard input to standard output, as an editor's format-on-save pipes it", () => {
    const fmt = (input: string | Buffer, ...args: string[]) => {
      const r = spawnSync('node', ['bin/dlc.js', 'fmt', ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    // The same text as for a file, the byte order mark dropped as readSource drops it.
    expect(fmt(MESSY, '-')).toEqual({ code: 0, stdout: TIDY, stderr: '' });
    expect(fmt(`\uFEFF${MESSY}`, '-').stdout).toBe(TIDY);
    const example = readFileSync(join(root, 'examples/residual.dl'), 'utf8');
    expect(fmt(example, '-').stdout).toBe(example);
    expect(fmt(TIDY, '--check', '-')).toMatchObject({ code: 0, stdout: '1 file is formatted\n' });
    expect(fmt(MESSY, '--check', '-')).toMatchObject({ code: 1, stdout: '<stdin>: not formatted\n' });
    // A syntax error is located in <stdin>, with its code frame; nothing is printed to stdout.
    const bad = fmt(BROKEN, '-');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain("<stdin>:3:3: error: syntax error: expected ']', ',' or an operator such as '->', found 'output'");
    expect(bad.stderr).toContain('> 3 |   output x');
    // Past the source limit (8 MiB), refused as a file is.
    const huge = fmt(Buffer.alloc(9 * 2 ** 20, 0x20), '-');
    expect(huge.code).toBe(1);
    expect(huge.stderr).toContain("cannot read '<stdin>': it is larger than the limit, 8,388,608 bytes (8 MiB)");
    expect(fmt(MESSY, '--write', '-').stderr).toBe('error: --write cannot rewrite standard input: without it, dlc fmt - prints the formatted text\n');
    expect(fmt(MESSY, '-', 'examples/mlp.dl').stderr).toBe("error: '-' (standard input) cannot be given with other files\n");
  });

  it('is listed by dlc --help', () => {
    const { dlc } = cliSandbox('dlc-fmt-');
    expect(dlc('--help').stdout.replace(/\s+/g, ' ')).toContain('fmt [options] <files...> format .dl files in the house style');
  });

  it('refuses flags that contradict each other, several files to print, and a width below 1', () => {
    const { dlc, file } = cliSandbox('dlc-fmt-');
    const a = file('a.dl', TIDY);
    const b = file('b.dl', TIDY);
    expect(dlc('fmt', '--write', '--check', a).stderr).toBe('error: give either --write or --check, not both\n');
    const several = dlc('fmt', a, b);
    expect(several.code).toBe(1);
    expect(several.stderr).toMatch(/^error: 2 files given: use --write/);
    expect(dlc('fmt', '--width', '0', a).stderr).toBe("error: expected a whole number >= 1, got '0'\n");
    const missing = dlc('fmt', join(a, '..', 'missing.dl'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read '");
  });
});

describe('the prettier plugin', () => {
  /** Prettier colours its messages when CI or FORCE_COLOR is set, as on CI runners; NO_COLOR turns that off, and the assertions read plain text. */
  const plainEnv = () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    return env;
  };
  const prettier = (cwd: string, ...args: string[]) => {
    const r = spawnSync('node', [join(root, 'node_modules/prettier/bin/prettier.cjs'), ...args], { cwd, encoding: 'utf8', env: plainEnv() });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('formats .dl files as dlc fmt does, loaded by path or as dlc/prettier', () => {
    const { dir, dlc, file } = cliSandbox('dlc-prettier-');
    const messy = file('messy.dl', MESSY);
    const resnet = file('resnet50.dl', readFileSync(join(root, 'examples/resnet50.dl')));
    const byPath = join(root, 'dist/src/format/prettier.js');
    expect(prettier(dir, `--plugin=${byPath}`, 'messy.dl').stdout).toBe(TIDY);
    expect(prettier(dir, `--plugin=${byPath}`, '--print-width', '20', 'messy.dl').stdout).toBe(dlc('fmt', '--width', '20', messy).stdout);
    // As a package: node_modules/dlc is this repository, resolved through package.json's exports.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules/dlc'));
    const check = prettier(dir, '--plugin=dlc/prettier', '--check', 'messy.dl', 'resnet50.dl');
    expect(check.code).toBe(dlc('fmt', '--check', messy, resnet).code === 0 ? 0 : 1);
    expect(check.stderr).toContain('[warn] messy.dl');
    const write = prettier(dir, '--plugin=dlc/prettier', '--write', 'messy.dl', 'resnet50.dl');
    expect(write.code).toBe(0);
    expect(readFileSync(messy, 'utf8')).toBe(TIDY);
    expect(dlc('fmt', '--check', messy, resnet).code).toBe(0);
  });

  it('reports a syntax error with its place and leaves the file alone', () => {
    const { dir, file } = cliSandbox('dlc-prettier-');
    const bad = file('bad.dl', BROKEN);
    const r = prettier(dir, `--plugin=${join(root, 'dist/src/format/prettier.js')}`, '--write', 'bad.dl');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[error] bad.dl: SyntaxError: syntax error: expected ']', ',' or an operator such as '->', found 'output'");
    expect(r.stderr).toContain('> 3 |   output x');
    expect(readFileSync(bad, 'utf8')).toBe(BROKEN);
  });
});
