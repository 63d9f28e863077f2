/**
 * The language server parses every edit with the document's ParseMemo
 * (unchanged pieces' AST reused, moved to their new place). A parse with a
 * memo must equal a parse without one, spans included: checked on every
 * example after the memo has seen the example, an edited version of it, and
 * another example.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, ParseMemo } from '../../src/frontend/parse.js';

const examples = readdirSync('examples').filter((n) => n.endsWith('.dl')).map((n) => ({ path: n, text: readFileSync(`examples/${n}`, 'utf8') }));

/** Edits of a text that move, change, add and remove pieces. */
function edits(text: string): string[] {
  const arrow = text.indexOf('->');
  const line = text.indexOf('\n', text.indexOf('->')) + 1;
  return [
    `# a new first line\n${text}`,
    arrow < 0 ? text : text.slice(0, arrow) + '-> relu ' + text.slice(arrow),
    text.replace(/\b(\d+)\b/, (d) => `${Number(d) + 1}`),
    line > 0 ? text.slice(0, line) + text.slice(text.indexOf('\n', line) + 1) : text,
  ];
}

describe('parse with a memo', () => {
  it('equals the parse without one, after any sequence of texts', () => {
    expect(examples.length).toBeGreaterThan(20);
    const memo = new ParseMemo();
    let reused = 0;
    let previous = examples.at(-1)!;
    for (const example of examples) {
      for (const text of [example.text, ...edits(example.text), previous.text, example.text]) {
        const source = { path: example.path, text };
        const withMemo = parse(source, memo);
        expect(withMemo).toEqual(parse(source));
        reused += memo.hits;
      }
      previous = example;
    }
    // The memo was used: most pieces came back unchanged.
    expect(reused).toBeGreaterThan(1000);
  }, 120_000);

  it('a reused piece points into the new text at its new place', () => {
    const memo = new ParseMemo();
    const text = 'model M {\n  input x: [4]\n  output y = x -> dense(3)\n}\n';
    parse({ path: 'a.dl', text }, memo);
    const moved = `\n\n${text}`;
    const result = parse({ path: 'b.dl', text: moved }, memo);
    expect(memo.hits).toBeGreaterThan(0);
    if (!result.ok) throw new Error('does not parse');
    const model = result.program.decls[0] as Extract<(typeof result.program.decls)[0], { kind: 'model' }>;
    const output = model.body[1] as Extract<(typeof model.body)[1], { kind: 'output' }>;
    const stage = (output.value as Extract<typeof output.value, { kind: 'chain' }>).stages[0];
    expect(stage.span.source.path).toBe('b.dl');
    expect(moved.slice(stage.span.start, stage.span.end)).toBe('dense(3)');
  });
});
