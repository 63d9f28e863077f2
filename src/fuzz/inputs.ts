/**
 * The fuzzer's inputs, deterministic from (seed, index): mutated corpus files
 * (examples/*.dl, test/cases/*.dl) and models generated from the op registry.
 * Not part of the compiler: nothing under src/ outside src/fuzz imports this.
 *
 * Mutation families (`Family`): token edits, edge-value numbers, structural
 * bombs (deep nesting, huge repeats, long and Unicode names, CR line endings,
 * a BOM) and line splices between files. Families whose failures belong to
 * another helper's open item can be left out of a run (`FuzzOptions.skip`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callableOps, OPS, type OpName } from '../ops/index.js';
import type { AttrSpec, OpDef } from '../ops/op.js';
import { compileSource } from '../compile.js';
import { createRng, type Rng } from '../runtime/random.js';

/** The largest source the `repeat` family makes: the size the front end's speed target (1 MB in under 5 s) is stated for. */
const HUGE_SOURCE_CHARS = 2 ** 20;

export const FAMILIES = ['token', 'number', 'nesting', 'repeat', 'names', 'text', 'splice', 'generated'] as const;
export type Family = (typeof FAMILIES)[number];

export interface FuzzInput {
  /** What made it, e.g. `number examples/mlp.dl` or `generated`. */
  origin: string;
  family: Family;
  text: string;
}

/** The seed corpus: every example and golden case, by repository-relative path. */
export function loadCorpus(root: string): { path: string; text: string }[] {
  const files: { path: string; text: string }[] = [];
  for (const dir of ['examples', 'test/cases'])
    for (const name of readdirSync(join(root, dir)).sort())
      if (name.endsWith('.dl')) files.push({ path: `${dir}/${name}`, text: readFileSync(join(root, dir, name), 'utf8') });
  return files;
}

class Random {
  constructor(readonly rng: Rng) {}
  float = (): number => this.rng.uniform();
  int = (lo: number, hi: number): number => lo + Math.floor(this.rng.uniform() * (hi - lo + 1));
  pick = <T>(xs: readonly T[]): T => xs[Math.floor(this.rng.uniform() * xs.length)];
  chance = (p: number): boolean => this.rng.uniform() < p;
}

/** .dl tokens, whitespace and comments included, so joining them gives the text back. */
export function tokenize(text: string): string[] {
  return text.match(/#[^\n\r]*|"(?:\\.|[^"\\\n])*"?|\s+|\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+|[\p{L}_][\p{L}\p{N}_]*|->|\*\*|\/\/|[^]/gu) ?? [];
}

const isWord = (t: string) => /^[\p{L}_]/u.test(t);
const isNumber = (t: string) => /^\.?\d/.test(t);
const isCode = (t: string) => !/^\s|^#/.test(t);

/** Numbers at the edges: zero, negative, overflow, 2^53, NaN and Infinity by arithmetic, huge counts. */
const EDGE_NUMBERS = ['0', '-1', '1', '0.5', '1e309', '9007199254740992', '9007199254740993', '2 ** 53', '10 ** 400', '(0 / 0)', '(1e308 * 10 - 1e308 * 10)', '1e-320', '-0', '4294967297', '1e9', '1000000000', '65536', '3.7', '1_000_000'];
/** Letters from several scripts, including ones newer than some tools' Unicode tables (Garay and Todhri are Unicode 16). */
const UNICODE_NAMES = ['größe', 'слой', '層', 'x\u0301', 'ℌ', '𝔵', 'a\u200d', '\u{10D50}\u{10D51}', '\u{105C0}', 'ʰ', 'Ⅻ', 'ǅ', '_\u{1E922}'];

/** One mutation of `text`; `other` is another corpus file to splice from. */
function mutate(r: Random, family: Family, text: string, other: string): string {
  const tokens = tokenize(text);
  const code = tokens.flatMap((t, i) => (isCode(t) ? [i] : []));
  const at = () => r.pick(code);
  switch (family) {
    case 'token': {
      const [i, j] = [at(), at()];
      const kind = r.int(0, 3);
      if (kind === 0) tokens[i] = '';
      else if (kind === 1) tokens[i] = tokens[i] + ' ' + tokens[i];
      else if (kind === 2) [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
      else tokens[i] = r.pick([...Object.keys(OPS), 'repeat', 'input', 'output', 'as', 'block', 'model', 'const', '->', '(', ')', '[', ']', ',', '=', '"s"', '**', '-', '/']);
      return tokens.join('');
    }
    case 'number': {
      const numbers = tokens.flatMap((t, i) => (isNumber(t) ? [i] : []));
      if (numbers.length === 0) return text + `\nconst k = ${r.pick(EDGE_NUMBERS)}\n`;
      for (let n = r.int(1, 3); n > 0; n--) tokens[r.pick(numbers)] = r.pick(EDGE_NUMBERS);
      return tokens.join('');
    }
    case 'nesting':
      return nest(r, tokens, code);
    case 'repeat': {
      const count = r.pick(['1000000000', '1e15', '100000', '2 ** 40', '10000']);
      const calls = tokens.flatMap((t, i) => (isWord(t) && tokens[i + 1] === '(' && t in OPS ? [i] : []));
      if (calls.length > 0 && r.chance(0.6)) {
        const i = r.pick(calls);
        tokens[i] = `repeat(${count}, ${tokens[i]}`;
        let depth = 0, k = i + 1;
        for (; k < tokens.length; k++) if ((depth += tokens[k] === '(' ? 1 : tokens[k] === ')' ? -1 : 0) === 0) break;
        if (k < tokens.length) tokens[k] = '))';
        return tokens.join('');
      }
      // A huge source: one line repeated, up to the 1 MiB that the front end's target is stated for (issue 16: under 5 s).
      const lines = text.split('\n');
      const i = r.int(0, lines.length - 1);
      const fits = Math.floor((HUGE_SOURCE_CHARS - text.length) / (lines[i].length + 1));
      lines.splice(i, 0, ...Array(Math.max(0, Math.min(r.pick([1000, 10000, 50000]), fits))).fill(lines[i]));
      return lines.join('\n');
    }
    case 'names': {
      const words = [...new Set(tokens.filter((t) => isWord(t) && !(t in OPS)))];
      if (words.length === 0) return text;
      const from = r.pick(words);
      const to = r.pick([r.pick(UNICODE_NAMES), 'n'.repeat(r.pick([64, 65, 1000, 100000])), '__proto__', 'constructor', 'toString', 'tf', 'await', 'eval', 'arguments', '$x', 'x_2', 'Infinity', 'default']);
      return tokens.map((t) => (t === from ? to : t)).join('');
    }
    case 'text': {
      const kind = r.int(0, 4);
      if (kind === 0) return text.replace(/\r?\n/g, '\r');
      if (kind === 1) return text.replace(/\r?\n/g, '\r\n');
      if (kind === 2) return '\uFEFF' + text;
      if (kind === 3) return text.slice(0, r.int(0, text.length)); // truncated
      const i = at();
      tokens[i] = tokens[i] + r.pick(['\u0000', '\u2028', '\u0085', '"', '"\\', '*/', '${', '`', '<script>', '&amp;', '\\', '\u001b[31m', '\uD800']);
      return tokens.join('');
    }
    case 'splice': {
      const lines = text.split('\n');
      const from = other.split('\n');
      const n = r.int(1, 4);
      const start = r.int(0, Math.max(0, from.length - n));
      lines.splice(r.int(0, lines.length), r.int(0, 1), ...from.slice(start, start + n));
      return lines.join('\n');
    }
    default:
      return text;
  }
}

/** Deep nesting of one construct, at a depth between 10 and 5,000 (issue 16 item 1 lists where each one overflowed). */
function nest(r: Random, tokens: string[], code: number[]): string {
  const depth = r.pick([10, 50, 70, 100, 300, 500, 800, 1200, 3000, 5000]);
  const value = code.find((i) => isNumber(tokens[i])) ?? -1;
  const kind = r.int(0, 6);
  const chain = (open: string, close: string, inner: string) => open.repeat(depth) + inner + close.repeat(depth);
  const consts = (body: (k: number) => string) => Array.from({ length: depth }, (_, k) => body(k)).join('\n');
  switch (kind) {
    case 0:
      return tokens.join('') + `\nconst deep = ${chain('(', ')', '1')}\n`;
    case 1:
      return tokens.join('') + `\nconst deep = ${chain('[', ']', '1')}\n`;
    case 2:
      return tokens.join('') + `\nconst deep = ${Array(depth).fill('1').join(' ** ')}\n`;
    case 3:
      if (value >= 0) tokens[value] = '-'.repeat(depth) + tokens[value];
      return tokens.join('') + (value < 0 ? `\nconst deep = ${'- '.repeat(depth)}1\n` : '');
    case 4:
      // Nested calls: add(add(...x, x), x) inside a model.
      return `model Deep {\n  input x: [4]\n  output ${'add('.repeat(depth)}x${', x)'.repeat(depth)}\n}\n`;
    case 5:
      // Blocks calling blocks.
      return `block b0(n) {\n  input x\n  output x -> dense(n)\n}\n${Array.from({ length: depth }, (_, k) => `block b${k + 1}(n) {\n  input x\n  output x -> b${k}(n)\n}`).join('\n')}\nmodel Deep {\n  input x: [4]\n  output x -> b${depth}(2)\n}\n`;
    default:
      // Values defined in reverse order.
      return `const c${depth} = 1\n${consts((k) => `const c${k} = c${k + 1} + 1`).split('\n').reverse().join('\n')}\n` + tokens.join('');
  }
}

// ---------------------------------------------------------------------------
// Generated models: a chain of registry ops, each kept only if dlc accepts it.

/** A plausible value for one argument of kind `spec.type`, or undefined to leave it out. */
function argument(r: Random, spec: AttrSpec, rank: number): string | undefined {
  const t = spec.type;
  switch (t.kind) {
    case 'int':
      return `${t.min !== undefined && t.min < 0 ? r.int(-3, 3) : r.int(t.min ?? 1, (t.min ?? 1) + 4)}`;
    case 'number': {
      const lo = t.min ?? 0, hi = t.max ?? 2;
      return `${Math.round((lo + r.float() * (hi - lo)) * 100) / 100}`;
    }
    case 'bool':
      return r.pick(['true', 'false']);
    case 'symbol':
      return r.pick(t.choices);
    case 'ints':
    case 'kernel': {
      const min = t.kind === 'ints' ? (t.min ?? 1) : 1;
      if (t.kind === 'kernel' && r.chance(0.1)) return r.pick(['[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]', '[1, 2, 1] / 4', '[[1, 2], [3, 4]]']);
      const n = Math.max(1, rank - 1);
      return r.chance(0.5) ? `${r.int(min, 3)}` : `[${Array.from({ length: n }, () => r.int(min, 3)).join(', ')}]`;
    }
    case 'shape':
      return r.pick(['[-1]', '[2, -1]', '[-1, 1]', '[1, -1, 1]']);
    case 'margins':
      return r.chance(0.5) ? `${r.int(0, 2)}` : `[${Array.from({ length: Math.max(1, rank - 1) }, () => r.int(0, 2)).join(', ')}]`;
    case 'op':
      return r.pick(['lstm(3)', 'rnn(2, sequences = true)', 'gru(2)', 'lstm(2, sequences = true)']);
  }
}

/** `name(args)` for one op; `tensors` (merge inputs) come first, and then every argument is named. */
function call(r: Random, name: string, op: OpDef, rank: number, tensors: string[] = []): string {
  const args: string[] = [...tensors];
  let named = tensors.length > 0;
  for (const spec of op.attrs) {
    const required = spec.default === undefined && !spec.optional;
    if (!required && r.chance(0.6)) {
      named = true; // a later positional argument must now be named
      continue;
    }
    const value = argument(r, spec, rank);
    if (value === undefined) continue;
    if (spec.positional && !named && r.chance(0.7)) args.push(value);
    else {
      args.push(`${spec.name} = ${value}`);
      named = true;
    }
  }
  return args.length === 0 && r.chance(0.5) ? name : `${name}(${args.join(', ')})`;
}

/** Compiles the model with `last` as its output; the output's per-example rank, or undefined when dlc refuses it. */
function accepted(lines: string[], last: string): number | undefined {
  try {
    const graph = compileSource({ path: 'generated.dl', text: [...lines, `  output y = ${last}`, '}', ''].join('\n') }).graphs[0];
    return graph.outputs[0].node.type.shape.length - 1;
  } catch {
    return undefined;
  }
}

/** A small model of 2 to 8 registry ops that dlc accepts; the ops are drawn from all callable ones. */
function generate(r: Random, index: number): string {
  // Family first, then an op of it: the many activations would otherwise crowd out the rest.
  const byFamily = new Map<string, OpName[]>();
  for (const name of callableOps()) byFamily.set(OPS[name].family, [...(byFamily.get(OPS[name].family) ?? []), name]);
  const families = [...byFamily.values()];
  const start = r.int(0, 3);
  const shape = start === 3 ? [r.int(3, 8)] : [[r.int(2, 12)], [r.int(3, 8), r.int(2, 5)], [r.int(4, 9), r.int(4, 9), r.int(1, 3)]][start];
  // Sequences and tokens sometimes have a symbolic length.
  const dims: (number | string)[] = start % 2 === 1 && r.chance(0.3) ? ['T', ...shape.slice(1)] : shape;
  const lines = [`# Generated model ${index}.`, `model Generated${index} {`, `  input x: [${dims.join(', ')}]${start === 3 ? ' int' : ''}`];
  let last = 'x';
  if (start === 3) {
    lines.push(`  e = x -> embedding(${r.int(5, 30)}, ${r.int(2, 5)})`);
    last = 'e';
  }
  let rank = start === 3 ? 2 : shape.length;
  const stages = r.int(2, 8);
  for (let s = 0, tries = 0; s < stages && tries < 40; tries++) {
    const name = r.pick(r.pick(families));
    const op = OPS[name] as OpDef;
    if (op.acceptsInt) continue;
    // Ops of several inputs (merges, attention's query/value/key) get 2 or 3 values of the same shape.
    const count = op.inputs.min >= 2 || (op.inputs.max >= 2 && r.chance(0.4)) ? r.int(Math.max(2, op.inputs.min), Math.min(3, op.inputs.max)) : 0;
    const tensors = Array.from({ length: count }, (_, k) => (k === 1 ? `${last} -> ${r.pick(['relu', 'tanh', 'dropout(0.1)'])}` : last));
    const text = call(r, name, op, rank, tensors);
    const expr = tensors.length > 0 ? text : r.chance(0.15) ? `add(${last}, ${last} -> ${text})` : `${last} -> ${text}`;
    const line = `  h${s} = ${expr}${r.chance(0.2) ? ` as layer${s}` : ''}`;
    const next = accepted([...lines, line], `h${s}`);
    if (next === undefined) continue;
    lines.push(line);
    last = `h${s}`;
    rank = next;
    s++;
  }
  return [...lines, `  output y = ${last}`, '}', ''].join('\n');
}

/** Input number `index` of the run seeded `seed`. */
export function fuzzInput(corpus: { path: string; text: string }[], seed: number, index: number, skip: readonly Family[] = []): FuzzInput {
  const r = new Random(createRng(seed).child(`input ${index}`));
  const families = FAMILIES.filter((f) => !skip.includes(f));
  const family = r.pick(families);
  if (family === 'generated') return { origin: 'generated', family, text: generate(r, index) };
  const file = r.pick(corpus);
  let text = file.text;
  // A few stacked mutations of the same family, then sometimes one token edit on top.
  // Stacking stops at 300 KB: tokenizing megabytes again took 19 s, past the budget, in the fuzzer's own time.
  for (let n = r.int(1, 3); n > 0 && text.length < 300_000; n--) text = mutate(r, family, text, r.pick(corpus).text);
  if (family !== 'token' && text.length < 300_000 && r.chance(0.3)) text = mutate(r, 'token', text, '');
  return { origin: `${family} ${file.path}`, family, text };
}
