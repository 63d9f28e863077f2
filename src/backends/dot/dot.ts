/**
 * Writing DOT text safely: escaping, attribute lists, number and shape formats,
 * and how a view refuses a request it cannot draw. Every view builds its DOT with these, so
 * no user text (model, layer and block names) reaches the output unescaped and
 * every node ID is generated (n0, n1, ...).
 *
 * Not here: layout decisions (emit.ts, neurons.ts, unroll.ts) or rendering (render.ts).
 */
import { CompileError, Diagnostic } from '../../diagnostics.js';
import { dimName, type Dim } from '../../ir/types.js';

/** A label already escaped for a DOT string (escString), written between quotes as is. */
export interface Label {
  escaped: string;
}
export type DotValue = string | number | boolean | Label;
export type Attrs = Record<string, DotValue | undefined>;

/**
 * One line of user or diagram text for a label. The renderer (Graphviz in
 * WebAssembly, without HTML-like labels) reads labels in two passes: entities
 * (`&amp;`, `&#215;`), then escapes (`\n`, `\N`). So a backslash is doubled,
 * and `& < > " { } |`, controls and every non-ASCII character become entities:
 * the DOT stays ASCII and no name can end the string, start an escape or a
 * record field.
 */
export function escapeText(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (ch === '{' || ch === '}' || ch === '|') out += `&#${code};`;
    else if (code < 0x20 || code === 0x7f) out += ' ';
    else if (code < 0x7f) out += ch;
    else if ((code >= 0xd800 && code <= 0xdfff) || code === 0xfffe || code === 0xffff) out += '&#65533;';
    else out += `&#${code};`;
  }
  return out;
}

/** A label of centred lines; `left` justifies every line to the left instead. */
export const label = (lines: string[], justify: 'center' | 'left' = 'center'): Label => {
  const end = justify === 'left' ? '\\l' : '\\n';
  // An empty first line crashes the WebAssembly Graphviz; a space draws the same.
  const body = lines.map((line) => escapeText(line) || ' ').join(end);
  return { escaped: justify === 'left' ? body + end : body };
};

/** A DOT double-quoted string for our own attribute values (colours, styles): backslashes and quotes escaped. */
export function quoteDot(text: string): string {
  const body = text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n').replace(/[\x00-\x1f\x7f]/g, ' ');
  return `"${body}"`;
}

const value = (v: DotValue): string =>
  typeof v === 'object' ? `"${v.escaped}"` : typeof v === 'number' ? `${v}` : typeof v === 'boolean' ? `${v}` : quoteDot(v);

const SUBSCRIPTS: Record<string, string> = { '0': '₀', '1': '₁', '2': '₂', '3': '₃', '4': '₄', '5': '₅', '6': '₆', '7': '₇', '8': '₈', '9': '₉', t: 'ₜ', '+': '₊', '-': '₋' };

/** `x` with index `t-1` as `xₜ₋₁` (Arimo has these glyphs); other characters stay as they are. */
export const sub = (name: string, index: string | number): string => name + Array.from(`${index}`, (c) => SUBSCRIPTS[c] ?? c).join('');

/** `[key=value, ...]` in insertion order; undefined values are left out. Keys are ours, never user text. */
export function attrList(attrs: Attrs): string {
  const parts = Object.entries(attrs)
    .filter((e): e is [string, DotValue] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

/** Lines of DOT with indentation. */
export class DotWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text: string): this {
    this.lines.push('  '.repeat(this.depth) + text);
    return this;
  }
  open(header: string): this {
    this.line(`${header} {`);
    this.depth++;
    return this;
  }
  close(): this {
    this.depth--;
    return this.line('}');
  }
  /** `graph`, `node` or `edge` defaults, or a node statement. */
  stmt(head: string, attrs: Attrs): this {
    return this.line(`${head}${attrList(attrs)};`);
  }
  /** `key=value;` lines for a graph or subgraph. */
  set(attrs: Attrs): this {
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) this.line(`${k}=${value(v)};`);
    return this;
  }
  toString(): string {
    return this.lines.join('\n') + '\n';
  }
}

/** 18496 -> `18,496`, independent of the machine's locale. */
export const grouped = (n: number): string => `${n}`.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export const plural = (n: number, word: string): string => `${grouped(n)} ${word}${n === 1 ? '' : 's'}`;

/** A per-example shape as diagrams print it: `26×26×32`; the batch dimension is left out. */
/** A per-example shape as `T×64`: dimension variables by name, an anonymous one as `None`. */
export const shapeLabel = (shape: readonly Dim[]): string =>
  shape.length <= 1 ? 'scalar' : shape.slice(1).map((d) => (typeof d === 'string' ? dimName(d) : d)).join('×');

/** Inches for neato's pinned `pos`, fixed to two decimals so the DOT is stable. */
export const pos = (x: number, y: number): string => `${x.toFixed(2)},${y.toFixed(2)}!`;

/** Refuses a request a diagram view cannot draw: a CompileError the CLI prints like any other (texts in diagnostics.ts). */
export function fail(diagnostic: Diagnostic): never {
  throw new CompileError([diagnostic]);
}
