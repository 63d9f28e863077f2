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

const IDENTIFIER = /^[\p{ID_Start}_$][\p{ID_Continue}$]*$/u;

/** `name` as an identifier: letters, digits, `_` and `$` kept, anything else (`/`, `-`, ...) becomes `_`. */
export function identifier(name: string): string {
  const id = name.normalize('NFC').replace(/[^\p{ID_Continue}$]/gu, '_');
  return /^[\p{ID_Start}_$]/u.test(id) ? id : `_${id}`;
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
export const key = (name: string): string => (name === '__proto__' ? `[${str(name)}]` : IDENTIFIER.test(name) && !RESERVED.has(name) ? name : str(name));

/** `object.name` or `object["name"]`. */
export const member = (object: string, name: string): string =>
  IDENTIFIER.test(name) && name !== '__proto__' ? `${object}.${name}` : `${object}[${str(name)}]`;

/** One `//` comment line; line terminators in user text become spaces, so it cannot end early. */
export const comment = (text: string): string => `// ${text.replace(/[\r\n\u2028\u2029\u0085]+/g, ' ').trimEnd()}`;
