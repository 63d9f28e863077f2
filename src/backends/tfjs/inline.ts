/**
 * Code that generated modules share with the rest of dlc, copied from dlc's
 * own TypeScript sources instead of being written twice: the interpreter's
 * seeded initialisers (random.ts, init.ts) and sinusoidal table, the
 * safetensors codec, the training loop's shuffle and its rule for which
 * weights decay, and this backend's support.ts.
 *
 * Each source file is cut into its top-level declarations, each with the doc
 * comment directly above it; imports are dropped and `export` removed. A
 * generated module includes the declarations its code names, transitively,
 * in source order. The sources must therefore keep to prettier-formatted
 * top-level declarations (anything else at column 0 is reported), and may
 * import only names that are themselves inlined here, or `tf`.
 *
 * The .ts files are read at emit time, from src/ beside this module or, when
 * running from dist/, from the package root's src/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { internal, messages, UserError } from '../../diagnostics.js';

export interface Declaration {
  name: string;
  /** The source file, relative to the package root. */
  file: string;
  /** Its text, doc comment included, `export` removed. */
  text: string;
  /** Identifiers its code uses (comments, strings and property names excluded). */
  words: Set<string>;
}

/** The files, in the order their declarations appear in a generated module. */
const SOURCES: { file: string; take?: string[]; rename?: Record<string, string> }[] = [
  // init.ts imports this type as OpInitKind.
  { file: 'src/ops/op.ts', take: ['InitKind'], rename: { InitKind: 'OpInitKind' } },
  { file: 'src/backends/interp/tensor.ts', take: ['Tensor', 'sizeOf', 'showShape'] },
  { file: 'src/backends/interp/random.ts' },
  { file: 'src/backends/interp/init.ts' },
  { file: 'src/backends/interp/kernels/positional.ts', take: ['sinusoidalTable'] },
  { file: 'src/weights/safetensors-codec.ts' },
  { file: 'src/backends/interp/losses.ts', take: ['LossName'] },
  { file: 'src/train/config.ts', take: ['OptimizerSpec'] },
  { file: 'src/train/data.ts', take: ['shuffled'] },
  { file: 'src/train/optimizers.ts', take: ['isDecayed'] },
  { file: 'src/backends/tfjs/support.ts' },
];

let cached: Declaration[] | undefined;

/** Every declaration a generated module may include. */
export function supportPool(): Declaration[] {
  if (cached) return cached;
  const root = packageRoot();
  const pool: Declaration[] = [];
  for (const { file, take, rename = {} } of SOURCES) {
    const all = declarationsOf(file, readFileSync(fileURLToPath(new URL(file, root)), 'utf8'));
    for (const want of take ?? []) if (!all.some((d) => d.name === want)) throw internal(`inline: ${file} has no declaration '${want}'`);
    for (const d of all.filter((d) => !take || take.includes(d.name))) {
      const name = rename[d.name];
      pool.push(name ? { ...d, name, text: d.text.replace(new RegExp(`(\\b(?:type|interface|function|class|const)\\s+)${d.name}\\b`), `$1${name}`) } : d);
    }
  }
  const seen = new Set<string>();
  for (const d of pool) {
    if (seen.has(d.name)) throw internal(`inline: '${d.name}' is declared twice among ${SOURCES.map((s) => s.file).join(', ')}`);
    seen.add(d.name);
  }
  return (cached = pool);
}

/** The declarations `code` needs, transitively, in pool order. */
export function declarationsFor(code: string, pool: Declaration[]): Declaration[] {
  const byName = new Map(pool.map((d) => [d.name, d]));
  const needed = new Set<Declaration>();
  const visit = (words: Iterable<string>) => {
    for (const w of words) {
      const d = byName.get(w);
      if (d && !needed.has(d)) {
        needed.add(d);
        visit(d.words);
      }
    }
  };
  visit(wordsOf(code));
  return pool.filter((d) => needed.has(d));
}

/** The package root: src/backends/tfjs/ -> ../../../ from sources, one more from dist/src/backends/tfjs/. */
function packageRoot(): URL {
  for (const up of ['../../../', '../../../../']) {
    const root = new URL(up, import.meta.url);
    if (existsSync(fileURLToPath(new URL('src/backends/interp/random.ts', root)))) return root;
  }
  throw new UserError(messages.sourcesMissing());
}

const DECLARATION = /^(?:export\s+)?(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\*?|class|interface|type|const|let|var|enum)\s+([\p{L}_$][\p{L}\p{N}_$]*)/u;
const IMPORT = /^(?:import\b|export\s*(?:type\s*)?[{*])/;

/** Cuts a prettier-formatted file into top-level declarations. */
export function declarationsOf(file: string, text: string): Declaration[] {
  const lines = text.split('\n');
  const out: Declaration[] = [];
  let comment = -1; // first line of the comment block directly above, if any
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    if (line.trim() === '') {
      comment = -1;
      i++;
    } else if (line.startsWith('/*')) {
      if (comment < 0) comment = i;
      while (!lines[i].includes('*/')) i++;
      i++;
    } else if (line.startsWith('//')) {
      if (comment < 0) comment = i;
      i++;
    } else if (DECLARATION.test(line) || IMPORT.test(line)) {
      const start = comment >= 0 ? comment : i;
      let end = i + 1;
      while (end < lines.length && (lines[end] === '' || /^[\s})\]]/.test(lines[end]))) end++;
      const next = end;
      while (lines[end - 1].trim() === '') end--;
      if (!IMPORT.test(line)) {
        const body = lines.slice(start, end);
        body[i - start] = line.replace(/^export\s+/, '');
        const code = body.join('\n');
        out.push({ name: DECLARATION.exec(line)![1], file, text: code, words: wordsOf(code) });
      }
      comment = -1;
      i = next;
    } else {
      throw internal(`inline: ${file}:${i + 1} is not a top-level declaration: ${line}`);
    }
  }
  return out;
}

/**
 * The identifiers TypeScript `code` uses, skipping comments, the text of
 * string literals and names right after a `.` (property accesses). Template
 * literals are scanned whole, so names in `${...}` count.
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
