/**
 * The message tables of src/diagnostics.ts and of src/runtime/messages.ts (the
 * runtime's, which generated modules carry) against the code that uses them:
 * every entry is used somewhere in src/ outside its table's file, and no code
 * outside those two files builds a user-facing error from a string literal of
 * its own (internal invariant failures use `internal(...)`, which is not a
 * message).
 *
 * Both checks read the source text, so they count what they looked at and
 * assert those counts, so that an empty scan cannot pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { help, messages, reports, shapeRules } from '../src/diagnostics.js';
import * as runtime from '../src/runtime/messages.js';

const SRC = join(import.meta.dirname, '..', 'src');
const DIAGNOSTICS = 'diagnostics.ts';

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourcesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every TypeScript file of src/ except diagnostics.ts, by path relative to src/. */
const sources = new Map(
  sourcesUnder(SRC)
    .map((path) => [relative(SRC, path).split('\\').join('/'), readFileSync(path, 'utf8')] as const)
    .filter(([path]) => path !== DIAGNOSTICS),
);

const RUNTIME_MESSAGES = 'runtime/messages.ts';
/** The runtime's tables: the plain objects runtime/messages.ts exports (its functions, such as weightProblems, are not tables). */
const runtimeTables = Object.entries(runtime).filter(([, value]) => typeof value === 'object' && value !== null);

/** Each table by name, with the file it is defined in (whose own text does not count as a use). */
const TABLES: [name: string, entries: object, file: string][] = [
  ['messages', messages, DIAGNOSTICS],
  ['help', help, DIAGNOSTICS],
  ['reports', reports, DIAGNOSTICS],
  ['shapeRules', shapeRules, DIAGNOSTICS],
  ...runtimeTables.map(([name, entries]) => [name, entries as object, RUNTIME_MESSAGES] as [string, object, string]),
];

describe('message tables', () => {
  it('every entry of the message tables is used in src/ outside its own file', () => {
    expect(sources.has(RUNTIME_MESSAGES)).toBe(true);
    const unused: string[] = [];
    let checked = 0;
    for (const [table, entries, file] of TABLES) {
      for (const name of Object.keys(entries)) {
        checked++;
        const use = new RegExp(`\\b${table}\\.${name}\\b`);
        if (![...sources].some(([path, text]) => path !== file && use.test(text))) unused.push(`${table}.${name}`);
      }
    }
    expect(unused).toEqual([]);
    // The scan saw every table: diagnostics.ts's four and the runtime's, by name.
    expect(runtimeTables.map(([name]) => name).sort()).toEqual(['inputMessages', 'jsonInputMessages', 'safetensorsMessages', 'weightMessages']);
    expect(checked).toBe(TABLES.reduce((n, [, entries]) => n + Object.keys(entries).length, 0));
    // The tables hold well over a hundred texts; a scan that saw few of them checked nothing.
    expect(checked).toBe(Object.keys(messages).length + Object.keys(help).length + Object.keys(reports).length + Object.keys(shapeRules).length + runtimeTables.reduce((n, [, t]) => n + Object.keys(t as object).length, 0));
    expect(checked).toBeGreaterThan(180);
    expect(sources.size).toBeGreaterThan(80);
  });
});

/**
 * Files that still build user-facing errors from literals, each with the reason.
 * A listed file that no longer does fails the test, so the list only shrinks.
 */
const ALLOWED: Record<string, string> = {
  // The runtime (src/runtime) is carried into generated TensorFlow.js modules, which cannot import
  // diagnostics.ts: its messages are in runtime/messages.ts; these keep their invariant failures.
  'runtime/init.ts': 'runtime: invariant failures',
  'runtime/random.ts': 'runtime: invariant failures',
  'backends/tfjs/support.ts': 'support code of generated modules: their own training texts',
  // The fuzzer is a developer tool beside the compiler (npm run fuzz), never reached by dlc's commands.
  'fuzz/main.ts': 'developer tool: its own usage errors',
  'fuzz/run.ts': 'developer tool: its own worker errors',
};

/** The error classes a user sees the message of: UserError, CompileError and everything that extends them in src/. */
function userFacingClasses(): Set<string> {
  const classes = new Set(['UserError', 'CompileError', 'Error']);
  const extensions = [...[...sources.values(), readFileSync(join(SRC, DIAGNOSTICS), 'utf8')].join('\n').matchAll(/class (\w+) extends (\w+)/g)];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [, name, base] of extensions) if (classes.has(base) && !classes.has(name)) classes.add(name), (grew = true);
  }
  classes.delete('InternalError'); // internal(...) is the one way to throw a text that is not a message
  return classes;
}

describe('no literal messages outside diagnostics.ts', () => {
  it('no error a user sees is built from a string literal outside the allowed files', () => {
    const classes = userFacingClasses();
    // `new UserError('...')`, `new InputError(\`...\`)`, `new Error("...")`, `fail('...')`, `ctx.fail(\`...\`)`, ...
    const literal = new RegExp(`(?:\\bnew (?:${[...classes].join('|')})|\\bfail)\\(\\s*['"\`]`, 'g');
    const found = new Map<string, number>();
    for (const [path, text] of sources) {
      const n = text.match(literal)?.length ?? 0;
      if (n > 0) found.set(path, n);
    }
    const offending = [...found.keys()].filter((path) => !(path in ALLOWED));
    expect(offending).toEqual([]);
    const stale = Object.keys(ALLOWED).filter((path) => !found.has(path));
    expect(stale, 'these files no longer need an exception: remove them from ALLOWED').toEqual([]);
    // The scan found the user-facing classes through `extends` (and it saw the allowed literals: no entry is stale).
    expect([...classes]).toEqual(expect.arrayContaining(['UserError', 'CompileError', 'Error', 'UsageError', 'InputError', 'TrainError', 'WeightsFileError', 'OpError']));
    expect(sources.size).toBeGreaterThan(80);
  });

  it('the scan catches a literal message', () => {
    const classes = userFacingClasses();
    const literal = new RegExp(`(?:\\bnew (?:${[...classes].join('|')})|\\bfail)\\(\\s*['"\`]`);
    expect(literal.test("throw new UsageError('bad flag')")).toBe(true);
    expect(literal.test('throw new InputError(\n  `bad ${x}`)')).toBe(true);
    expect(literal.test("ctx.fail('too big')")).toBe(true);
    expect(literal.test('throw new UsageError(messages.optLevel(text))')).toBe(false);
    expect(literal.test("throw internal('cannot happen')")).toBe(false);
  });
});
