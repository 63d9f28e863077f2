/**
 * The generated TextMate grammar loaded as VS Code loads it: vscode-textmate
 * with the Oniguruma regular-expression engine (vscode-oniguruma's
 * WebAssembly build), both from vscode-tmgrammar-test's dependencies.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import oniguruma from 'vscode-oniguruma';
import textmate from 'vscode-textmate';

export const GRAMMAR = 'editors/vscode/syntaxes/dl.tmLanguage.json';

/** One token: its text, where it starts (0-based offset into the text, line and column), and its scopes, outermost first. */
export interface Token {
  text: string;
  offset: number;
  line: number;
  column: number;
  scopes: string[];
}

export async function loadGrammar(path = GRAMMAR): Promise<textmate.IGrammar> {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) => (scopeName === 'source.dl' ? textmate.parseRawGrammar(readFileSync(path, 'utf8'), path) : null),
  });
  const grammar = await registry.loadGrammar('source.dl');
  if (!grammar) throw new Error(`no grammar source.dl in ${path}`);
  return grammar;
}

/** Every token of `text`, line by line, carrying the rule stack across lines as the editor does. */
export function tokenize(grammar: textmate.IGrammar, text: string): Token[] {
  const tokens: Token[] = [];
  let stack = textmate.INITIAL;
  let offset = 0;
  text.split(/(?<=\n)/).forEach((withBreak, line) => {
    const lineText = withBreak.replace(/\r?\n$/, '');
    const result = grammar.tokenizeLine(lineText, stack);
    for (const t of result.tokens)
      tokens.push({ text: lineText.slice(t.startIndex, t.endIndex), offset: offset + t.startIndex, line, column: t.startIndex, scopes: t.scopes });
    stack = result.ruleStack;
    offset += withBreak.length;
  });
  return tokens;
}
