/**
 * The code generated modules share with the rest of dlc, copied instead of
 * written twice: the runtime (src/runtime: seeded randomness, initialisers,
 * the sinusoidal table, the safetensors codec, optimizer rules, messages) and
 * this backend's support.ts. A generated module includes the declarations its
 * code names, transitively, in the order of the table.
 *
 * The table is a build artifact, support-declarations.json beside this module:
 * scripts/support.js parses those sources with the TypeScript compiler and
 * writes each top-level declaration's text (doc comment included, `export`
 * removed, formatted) and the declarations it uses. So the emitter needs only
 * the build output, never the .ts sources.
 */
import { internal } from '../../diagnostics.js';
import { platform } from '../../platform/index.js';

export interface Declaration {
  name: string;
  /** The source file, relative to the package root. */
  file: string;
  /** Its text, doc comment included, `export` removed, formatted with PRETTIER. */
  text: string;
  /** The other declarations of the table that its code uses. */
  uses: string[];
}

/** How generated modules are formatted; scripts/support.js formats the copied declarations alike. */
export const PRETTIER = { parser: 'typescript', singleQuote: true, printWidth: 100, trailingComma: 'all' } as const;

let cached: Declaration[] | undefined;

/** Every declaration a generated module may include, in module order. */
export function supportPool(): Declaration[] {
  if (cached) return cached;
  const table = new URL('./support-declarations.json', import.meta.url);
  let text: string;
  try {
    text = new TextDecoder().decode(platform.readAsset(table));
  } catch {
    throw internal(`dlc: ${table.pathname} is missing; \`npm run build\` writes it (scripts/support.js)`);
  }
  return (cached = JSON.parse(text) as Declaration[]);
}

/** The declarations `code` (a generated module's own text) needs, transitively, in pool order. */
export function declarationsFor(code: string, pool: Declaration[]): Declaration[] {
  const byName = new Map(pool.map((d) => [d.name, d]));
  const needed = new Set<Declaration>();
  const visit = (words: Iterable<string>) => {
    for (const w of words) {
      const d = byName.get(w);
      if (d && !needed.has(d)) {
        needed.add(d);
        visit(d.uses);
      }
    }
  };
  visit(wordsOf(code));
  return pool.filter((d) => needed.has(d));
}

/**
 * The identifiers generated code uses, skipping comments, the text of string
 * literals and names right after a `.` (property accesses). Template literals
 * are scanned whole, so names in `${...}` count. A superset is harmless: it
 * can only include a declaration the module does not need.
 */
export function wordsOf(code: string): Set<string> {
  const words = new Set<string>();
  const ident = /[\p{L}_$][\p{L}\p{N}_$]*/uy;
  for (let i = 0; i < code.length; ) {
    const c = code[i];
    if (c === '/' && code[i + 1] === '/') i = lineEnd(code, i);
    else if (c === '/' && code[i + 1] === '*') i = code.indexOf('*/', i + 2) < 0 ? code.length : code.indexOf('*/', i + 2) + 2;
    else if (c === "'" || c === '"') {
      for (i++; i < code.length && code[i] !== c && code[i] !== '\n'; i++) if (code[i] === '\\') i++;
      i++;
    } else {
      ident.lastIndex = i;
      const m = ident.exec(code);
      if (m) {
        if (code[i - 1] !== '.' || code[i - 2] === '.') words.add(m[0]);
        i += m[0].length;
      } else i++;
    }
  }
  return words;
}

const lineEnd = (code: string, i: number) => {
  const n = code.indexOf('\n', i);
  return n < 0 ? code.length : n;
};
