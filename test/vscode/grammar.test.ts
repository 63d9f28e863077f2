/**
 * The VS Code extension's TextMate grammar (editors/vscode/syntaxes), checked
 * three ways:
 *   - vscode-tmgrammar-test, as a process, on test/vscode/*.test.dl: every
 *     token class, with its expected scopes written under each line;
 *   - against the compiler's own parser on every example, every test case
 *     that parses, random valid models and fuzzed files that parse: each
 *     name, number and string the parser finds (with its span) carries the
 *     scope its role asks for (textmate.ts: roles), an op its op scope, and no
 *     token is marked illegal;
 *   - against the op registry and the lexer's keywords: every op .dl may call
 *     highlights as an op, every keyword as a keyword.
 * The grammar is generated (scripts/build-vscode.js --grammar, after the build).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type textmate from 'vscode-textmate';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../src/frontend/parse.js';
import { KEYWORDS } from '../../src/frontend/scan.js';
import { fuzzInput, loadCorpus } from '../../src/fuzz/inputs.js';
import { callableOps } from '../../src/ops/index.js';
import { randomModel } from '../random-models.js';
import { disagreements, loadGrammar, roles, tokenize } from './textmate.js';

let grammar: textmate.IGrammar;
beforeAll(async () => {
  const build = spawnSync('node', ['scripts/build-vscode.js', '--grammar'], { encoding: 'utf8' });
  expect(build.stderr, 'node scripts/build-vscode.js --grammar (after npm run build)').toBe('');
  expect(build.status).toBe(0);
  grammar = await loadGrammar();
});

describe('vscode-tmgrammar-test', () => {
  it('passes the syntax tests of every token class', () => {
    const run = spawnSync('node', ['node_modules/vscode-tmgrammar-test/dist/unit.js', '--compact', '--config', 'editors/vscode/package.json', 'test/vscode/*.test.dl'], {
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toContain('syntax.test.dl run successfuly');
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });
});

const sources = [
  ...readdirSync('examples').filter((f) => f.endsWith('.dl')).map((f) => `examples/${f}`),
  ...readdirSync('test/cases').filter((f) => f.endsWith('.dl')).map((f) => `test/cases/${f}`),
].sort();

describe('the grammar agrees with the parser', () => {
  it.each(sources)('%s', (path) => {
    const text = readFileSync(path, 'utf8');
    const parsed = parse({ path, text });
    if (!parsed.ok) {
      // A case about a syntax error: the parser has no roles to compare.
      expect(path.startsWith('test/cases/'), `${path}: ${parsed.diagnostic.message}`).toBe(true);
      return;
    }
    expect(disagreements(grammar, text, parsed.program)).toEqual([]);
  });

  it('on random valid models and on fuzzed files that parse (odd layouts, Unicode names)', { timeout: 180_000 }, () => {
    const corpus = loadCorpus('.');
    // The fuzzer's 'names' family draws letters from all of Unicode; those added in Unicode 16 (2024)
    // are no letters to the Oniguruma that vscode-oniguruma 1.7 builds, so it is left out.
    const inputs = [
      ...Array.from({ length: 30 }, (_, seed) => ({ origin: `randomModel(${seed})`, text: randomModel(seed) })),
      ...Array.from({ length: 120 }, (_, i) => fuzzInput(corpus, 17, i, ['names'])),
    ];
    let compared = 0;
    for (const { origin, text } of inputs) {
      if (text.length > 50_000) continue; // the fuzzer's stacked splices: slow to parse, nothing new
      const parsed = parse({ path: origin, text });
      if (!parsed.ok) continue;
      compared++;
      expect(disagreements(grammar, text, parsed.program), origin).toEqual([]);
    }
    expect(compared).toBeGreaterThan(75);
  });

  it('sees the ops, blocks and declarations of the examples (the comparison is not empty)', () => {
    const seen = new Map<string, number>();
    for (const path of sources.filter((p) => p.startsWith('examples/'))) {
      const parsed = parse({ path, text: readFileSync(path, 'utf8') });
      if (parsed.ok) for (const { scope } of roles(parsed.program)) seen.set(scope, (seen.get(scope) ?? 0) + 1);
    }
    for (const scope of ['support.function.op.dl', 'entity.name.function.call.dl', 'entity.name.type.model.dl', 'variable.parameter.argument.dl', 'variable.other.property.setting.dl'])
      expect(seen.get(scope) ?? 0, scope).toBeGreaterThan(0);
  });
});

describe('the preview', () => {
  it('draws an example as the grammar colours it, two pixels per CSS pixel', () => {
    const png = join(mkdtempSync(join(tmpdir(), 'dlc-preview-')), 'preview.png');
    const run = spawnSync('node', ['scripts/build-vscode.js', '--preview', png], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // One 19 px line per source line between 14 px margins (build-vscode.js), doubled.
    const lines = readFileSync('examples/mnist_train.dl', 'utf8').trimEnd().split('\n').length;
    expect(bytes.readUInt32BE(20)).toBe(2 * Math.ceil(2 * 14 + 19 * lines));
  });
});

describe('the grammar follows the registry and the lexer', () => {
  const OP_NAMES = new Set<string>(callableOps());
  const scopesOf = (text: string, word: string) => tokenize(grammar, text).find((t) => t.text === word)?.scopes ?? [];

  it('highlights every op .dl may call, in a call and as a bare chain stage, and no longer name that starts with one', () => {
    for (const op of OP_NAMES) {
      expect(scopesOf(`model M {\n  y = x -> ${op}(1)\n}`, op), op).toContain('support.function.op.dl');
      expect(scopesOf(`model M {\n  y = x -> ${op}\n}`, op), op).toContain('support.function.op.dl');
      expect(scopesOf(`model M {\n  y = x -> ${op}_2\n}`, `${op}_2`), op).toEqual(['source.dl', 'meta.model.dl', 'meta.body.dl', 'variable.other.dl']);
    }
    expect(scopesOf('model M {\n  y = x -> input\n}', 'input')).not.toContain('support.function.op.dl'); // internal ops are not callable
  });

  it('highlights every keyword of the lexer as a keyword, and a name that merely starts with one as a name', () => {
    for (const keyword of KEYWORDS) {
      expect(scopesOf(`model M {\n  y = ${keyword}\n}`, keyword).at(-1), keyword).toMatch(/^(storage\.type|keyword|support\.type)\./);
      expect(scopesOf(`model M {\n  y = ${keyword}s\n}`, `${keyword}s`).at(-1), keyword).toBe('variable.other.dl');
    }
  });
});
