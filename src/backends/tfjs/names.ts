/**
 * User text in generated code. Layer, input, output and model names, file
 * names and source lines reach a generated module only as identifiers made
 * here (sanitized, then de-duplicated), as string literals (`str`), as
 * property keys (`key`, `member`) or inside `//` comments with every line
 * terminator removed (`comment`): never as code.
 */

/** Words an identifier may not be in a strict-mode module, plus the globals generated code relies on. */
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'import in instanceof new null return super switch this throw true try typeof var void while with yield let static ' +
    'implements interface package private protected public await arguments eval undefined NaN Infinity globalThis ' +
    'Math Number Object Array JSON Error Map Set String Boolean Symbol BigInt Promise DataView Float32Array Float64Array ' +
    'Int32Array Uint8Array TextEncoder TextDecoder console tf'
  ).split(' '),
);

/**
 * The letters an identifier may keep besides ASCII: Node's Unicode tables
 * are newer than those of TypeScript and prettier, so a letter Unicode added
 * lately (U+1C89, a Cyrillic letter of Unicode 16) passes `check`, then
 * crashed the formatter. Kept: identifier characters of scripts whose blocks
 * were filled long ago (Latin-1 and Latin Extended-A/B, Greek, Cyrillic,
 * Hebrew, Arabic, Devanagari, kana, CJK ideographs, Hangul syllables); any
 * other becomes `_`, and the layer's comment gives its name as written.
 */
const SAFE_LETTER = /[\u00C0-\u024F\u0370-\u06FF\u0900-\u097F\u3040-\u30FF\u4E00-\u9FFF\uAC00-\uD7A3]/u;
const kept = (c: string, first: boolean) =>
  /[A-Za-z_$]/.test(c) || (!first && /[0-9]/.test(c)) || (SAFE_LETTER.test(c) && (first ? /\p{ID_Start}/u : /\p{ID_Continue}/u).test(c));

const isIdentifier = (name: string) => name !== '' && [...name].every((c, i) => kept(c, i === 0));

/** `name` as an identifier: letters, digits, `_` and `$` kept, anything else (`/`, `-`, a letter newer than the tools, ...) becomes `_`. */
export function identifier(name: string): string {
  const id = [...name.normalize('NFC')].map((c) => (kept(c, false) ? c : '_')).join('');
  return id !== '' && kept([...id][0], true) ? id : `_${id}`;
}

/** Hands out unique identifiers in one scope; a clash after sanitizing gets `_2`, `_3`, ... */
export class Namer {
  private readonly used: Set<string>;

  constructor(taken: Iterable<string> = []) {
    this.used = new Set([...RESERVED, ...taken]);
  }

  take(name: string): string {
    const base = identifier(name);
    let id = base;
    for (let k = 2; this.used.has(id); k++) id = `${base}_${k}`;
    this.used.add(id);
    return id;
  }

  /** A type name: `image_2d` -> `Image2d` + suffix. */
  takeType(name: string, suffix: string): string {
    const pascal = identifier(name)
      .split('_')
      .filter(Boolean)
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('');
    return this.take(`${pascal}${suffix}`);
  }
}

/** A string literal: JSON, with the two line terminators JSON leaves raw escaped too. */
export const str = (s: string): string => JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** A property key for an object literal or type: bare when it can be, quoted otherwise; `__proto__` computed, so it stays an own property. */
export const key = (name: string): string => (name === '__proto__' ? `[${str(name)}]` : isIdentifier(name) && !RESERVED.has(name) ? name : str(name));

/** `object.name` or `object["name"]`. */
export const member = (object: string, name: string): string =>
  isIdentifier(name) && name !== '__proto__' ? `${object}.${name}` : `${object}[${str(name)}]`;

/** One `//` comment line; line terminators in user text become spaces, so it cannot end early. */
export const comment = (text: string): string => `// ${text.replace(/[\r\n\u2028\u2029\u0085]+/g, ' ').trimEnd()}`;
