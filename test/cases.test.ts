/**
 * Golden cases: every test/cases/*.dl (and every examples/*.dl) is run
 * through the `dlc` command line in process, colour off, and what it prints
 * is compared with the expected files beside it:
 *
 *   NAME.errors          `dlc check NAME.dl` (stderr), for err_*.dl, which must fail:
 *                        each diagnostic with file:line:col, code frame and hint
 *   NAME.ir              `dlc compile --opt 0 NAME.dl`: the IR as written
 *   NAME.opt.ir          `dlc compile --stats NAME.dl`: the optimized IR, then
 *                        what each pass changed (only when it differs from NAME.ir)
 *   NAME.after-PASS.ir   `dlc compile --dump-after PASS NAME.dl`, for each
 *                        `# dump-after: PASS` line in the case
 *   NAME.summary         `dlc summary NAME.dl`: layers, shapes, params, FLOPs
 *
 * A file with several models gets each model's output in turn (`--model`).
 * The expected files of examples/X.dl live in test/cases/examples/.
 *
 * Workflow: change the compiler, run `npm test`; a failing case shows the
 * diff. If the new output is right, `npm run accept` rewrites every expected
 * file (and deletes stale ones) and prints which files changed; review that
 * diff in git before committing. Expected outputs are baselines, but they
 * were checked when first accepted: the parameter counts against Keras's
 * formulas (see test/cases/README.md), the diagnostics against the mistake
 * each case makes. To add a case, write test/cases/NAME.dl (a comment saying
 * what it shows) and run `npm run accept`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compileFile } from '../src/compile.js';
import { CompileError } from '../src/diagnostics.js';
import { callableOps } from '../src/ops/index.js';

// The CLI decides on colour when it is loaded: load it with colour off.
const noColor = process.env.NO_COLOR;
process.env.NO_COLOR = '1';
const { main } = await import('../src/cli.js');
if (noColor === undefined) delete process.env.NO_COLOR;
else process.env.NO_COLOR = noColor;

const ACCEPT = process.env.DLC_ACCEPT === '1';
const CASES = 'test/cases';

/** Runs `dlc ...argv` in process; returns what it printed on stdout and stderr, and its exit code. */
async function dlc(argv: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ') + '\n'));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ') + '\n'));
  try {
    const code = await main(argv);
    return { stdout: out.join(''), stderr: err.join(''), code };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/** What the expected files of `source` should hold, by file name. */
async function actualOutputs(source: string, dir: string): Promise<Map<string, string>> {
  const stem = join(dir, basename(source, '.dl'));
  const files = new Map<string, string>();
  const add = (suffix: string, text: string) => files.set(stem + suffix, files.has(stem + suffix) ? `${files.get(stem + suffix)}\n${text}` : text);
  const run = async (argv: string[], code = 0) => {
    const result = await dlc(argv);
    expect(result.code, `dlc ${argv.join(' ')}:\n${result.stdout}${result.stderr}`).toBe(code);
    return result;
  };

  let models: string[];
  try {
    models = compileFile(source).graphs.map((g) => g.name);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    add('.errors', (await run(['check', source], 1)).stderr);
    return files;
  }
  const passes = [...readFileSync(source, 'utf8').matchAll(/^# dump-after: (\w+)\s*$/gm)].map((m) => m[1]);
  for (const model of models) {
    const which = models.length === 1 ? [source] : [source, '--model', model];
    const written = await run(['compile', '--opt', '0', ...which]);
    add('.ir', written.stdout);
    const optimized = await run(['compile', '--stats', ...which]);
    // The optimized IR only where the optimizer changes something.
    if (optimized.stdout !== written.stdout) add('.opt.ir', optimized.stdout + optimized.stderr);
    for (const pass of passes) add(`.after-${pass}.ir`, (await run(['compile', '--dump-after', pass, ...which])).stdout);
    add('.summary', (await run(['summary', ...which])).stdout);
  }
  return files;
}

/** The expected files now on disk for `source`. */
const expectedFiles = (source: string, dir: string) =>
  (existsSync(dir) ? readdirSync(dir) : [])
    .filter((f) => !f.endsWith('.dl') && f.slice(0, f.indexOf('.')) === basename(source, '.dl'))
    .map((f) => join(dir, f));

const changed: string[] = [];
afterAll(() => {
  if (ACCEPT) process.stdout.write(changed.length ? `accepted, changed:\n${changed.map((f) => `  ${f}\n`).join('')}` : 'accepted, nothing changed\n');
});

function goldenSuite(title: string, sources: string[], dir: string): void {
  describe(title, () => {
    for (const source of sources) {
      it(basename(source), async () => {
        const actual = await actualOutputs(source, dir);
        // The name says whether the case must fail, so that a typo cannot turn a case into an error case.
        const fails = [...actual.keys()].some((f) => f.endsWith('.errors'));
        expect(fails, `${source}: only err_*.dl cases should fail to compile`).toBe(basename(source).startsWith('err_'));
        const stale = expectedFiles(source, dir).filter((f) => !actual.has(f));
        if (ACCEPT) {
          mkdirSync(dir, { recursive: true });
          for (const f of stale) rmSync(f);
          for (const [f, text] of actual) {
            if (existsSync(f) && readFileSync(f, 'utf8') === text) continue;
            writeFileSync(f, text);
            changed.push(f);
          }
          changed.push(...stale.map((f) => `${f} (deleted)`));
          return;
        }
        expect(stale, 'expected files that the case no longer produces (run `npm run accept`)').toEqual([]);
        for (const [f, text] of actual) {
          expect(existsSync(f), `${f} is missing: run \`npm run accept\` and review it`).toBe(true);
          expect(text, f).toBe(readFileSync(f, 'utf8'));
        }
      });
    }
  });
}

const dl = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.dl')).sort().map((f) => join(dir, f));

goldenSuite('golden cases', dl(CASES), CASES);
goldenSuite('golden examples', dl('examples'), join(CASES, 'examples'));

it('has a case for every op the language offers', () => {
  const compiling = dl(CASES).filter((f) => !basename(f).startsWith('err_'));
  const ops = new Set(compiling.flatMap((f) => compileFile(f).graphs.flatMap((g) => g.nodes.map((n) => n.op))));
  expect(callableOps().filter((op) => !ops.has(op))).toEqual([]);
});
