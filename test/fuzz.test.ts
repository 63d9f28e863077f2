/**
 * The fuzzer that stays (issue 16): its output rules on known good and bad
 * texts, its inputs' determinism, and a seeded slice of a run that must find
 * nothing. A failing slice lists each shrunk reproducer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { graphToDot, DEFAULT_DIAGRAM_OPTIONS } from '../src/backends/dot/index.js';
import { dotToSvg } from '../src/backends/dot/render.js';
import { emitTfjs } from '../src/backends/tfjs/index.js';
import { fuzzInput, loadCorpus, tokenize } from '../src/fuzz/inputs.js';
import { garbled } from '../src/fuzz/pipeline.js';
import { runFuzz, shrink } from '../src/fuzz/run.js';
import { checkDot, checkTypeScript, checkXml, payloadsOf } from '../src/fuzz/rules.js';
import { compileText } from './helpers.js';


describe('output rules', () => {
  const residual = readFileSync(new URL('../examples/residual.dl', import.meta.url), 'utf8');

  it("accept what dlc emits for an example: Graphviz's SVG, the DOT, the TypeScript module", async () => {
    const graph = compileText(residual, 'TinyResNet');
    const dot = graphToDot(graph, DEFAULT_DIAGRAM_OPTIONS);
    expect(checkDot(dot)).toBeUndefined();
    expect(checkXml(await dotToSvg(dot))).toBeUndefined();
    expect(checkTypeScript(await emitTfjs(graph, { sourcePath: 'examples/residual.dl' }), residual)).toBeUndefined();
  });

  it('find malformed XML: crossed tags, a raw & or <, an unquoted attribute, a control character, two roots', () => {
    expect(checkXml('<svg><g></svg></g>')).toMatch(/does not close/);
    expect(checkXml('<svg><text>a & b</text></svg>')).toMatch(/reference/);
    expect(checkXml('<svg><text x="<1">a</text></svg>')).toMatch(/quoted value/);
    expect(checkXml('<svg width=3/>')).toMatch(/quoted value/);
    expect(checkXml('<svg>\u001b[31m</svg>')).toMatch(/U\+001b/);
    expect(checkXml('<a/><b/>')).toMatch(/second root/);
    expect(checkXml('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg><!-- c --><g a="&amp;&#38;&#x26;"/></svg>')).toBeUndefined();
  });

  it('find malformed DOT: an unclosed brace or string, a broken HTML label', () => {
    expect(checkDot('digraph { a -> b')).toMatch(/unclosed \{/);
    expect(checkDot('digraph { a [label="x]; }')).toMatch(/unexpected/);
    expect(checkDot('digraph { a [label=<<b>x</i>>]; }')).toMatch(/HTML label/);
    expect(checkDot('digraph { a [label=<<b>x</b>>]; a -> b }')).toBeUndefined();
  });

  it('find values printed unformatted in a message, unless the source has them', () => {
    expect(garbled('dense: units must be a whole number, got undefined', 'model M {}')).toBe('undefined');
    expect(garbled('input x: shape [null, 3] has no size', 'model M {}')).toBe('null');
    expect(garbled('unknown name null', 'output null')).toBeUndefined();
    expect(garbled('conv2d: kernel [3, 3] does not fit [2, 2]', 'model M {}')).toBeUndefined();
  });

  it('find source text that escaped its string or comment in generated TypeScript', () => {
    const source = 'model M {\n  input x: [4] # ok */ evil(); /*\n}\n';
    expect(payloadsOf(source)).toContain('ok */ evil(); /*');
    expect(checkTypeScript('// input x: [4] # ok */ evil(); /*\nexport const a = 1;\n', source)).toBeUndefined();
    expect(checkTypeScript('/* input x: [4] # ok */ evil(); /* */\nexport const a = 1;\n', source)).toMatch(/outside a string or comment/);
    expect(checkTypeScript('export const a = "x\n";\n', source)).toMatch(/does not parse/);
  });
});

describe('inputs', () => {
  const corpus = loadCorpus(new URL('..', import.meta.url).pathname);

  it('are the same text for the same seed and index, and differ across seeds', () => {
    const texts = (seed: number) => Array.from({ length: 20 }, (_, i) => fuzzInput(corpus, seed, i).text);
    expect(texts(7)).toEqual(texts(7));
    expect(texts(8)).not.toEqual(texts(7));
  });

  it('tokenize .dl text losslessly', () => {
    for (const { text } of corpus) expect(tokenize(text).join('')).toBe(text);
  });

  it('include generated models that dlc accepts, from many ops of the registry', () => {
    const generated = Array.from({ length: 150 }, (_, i) => fuzzInput(corpus, 3, i)).filter((x) => x.family === 'generated');
    const ops = new Set(generated.flatMap((x) => [...x.text.matchAll(/(?:-> |= )(\w+)\(/g)].map((m) => m[1])));
    for (const { text } of generated) expect(() => compileText(text)).not.toThrow();
    expect(ops.size).toBeGreaterThan(15);
  });
});

describe('shrink', () => {
  it('cuts an input down to the lines and tokens the failure needs', async () => {
    const text = 'model M {\n  input x: [4]\n  h = x -> dense(3) -> relu\n  output add(h, h -> repeat(9, dense(3)))\n}\n';
    let runs = 0;
    const fails = async (t: string) => (runs++, /repeat/.test(t) && /\(9/.test(t));
    expect(await shrink(text, fails, { runs: 500 })).toBe('repeat(9');
    expect(runs).toBeLessThan(200);
  });
});

describe('a seeded slice of the fuzzer', () => {
  it(
    'finds no internal error, hang, unlocated diagnostic or broken output in 300 inputs',
    async () => {
      const { tally, findings } = await runFuzz({ seed: 16, count: 300, shrinkRuns: 150 });
      const report = findings.map((f) => `${f.count} x ${f.class} [${f.signature}] at input ${f.first.index} (${f.first.origin}), shrunk:\n${f.reproducer}`);
      expect(report, report.join('\n\n')).toEqual([]);
      expect(tally.inputs).toBe(300);
    },
    600_000,
  );
});
