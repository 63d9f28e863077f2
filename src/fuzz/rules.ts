/**
 * What the fuzzer checks in dlc's outputs, beyond "no internal error":
 * - generated TypeScript parses, and text from the source reaches it only
 *   inside string literals or comments (identifiers are sanitized names);
 * - DOT is lexically well-formed, with HTML labels that are well-formed XML;
 * - SVG is well-formed XML.
 * Each check returns the first problem as text, or undefined.
 */
import ts from 'typescript';

/**
 * Source text that must not appear in generated code as code: string literal
 * contents, comment bodies and whole lines of 8 characters or more that hold
 * something other than letters, digits, `_` and spaces.
 */
export function payloadsOf(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/"((?:\\.|[^"\\\n])*)"|#([^\n\r]*)/g)) found.add((m[1] ?? m[2]).trim());
  for (const line of source.split(/\r\n|[\r\n\u2028\u2029]/)) found.add(line.trim());
  return [...found].filter((p) => p.length >= 8 && /[^\p{L}\p{N}_ ]/u.test(p));
}

/** The first problem of generated module `code` made from `.dl` text `source`. */
export function checkTypeScript(code: string, source: string): string | undefined {
  const file = ts.createSourceFile('generated.ts', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const syntax = (file as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics;
  if (syntax.length > 0) {
    const d = syntax[0];
    const line = code.slice(0, d.start).split('\n').length;
    return `generated TypeScript does not parse: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (line ${line}: ${code.split('\n')[line - 1]?.trim().slice(0, 120)})`;
  }
  // Where the literals and comments are: [start, end) ranges from the scanner.
  const safe: [number, number][] = [];
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, code);
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.CloseBraceToken) kind = scanner.reScanTemplateToken(false);
    if (
      kind === ts.SyntaxKind.StringLiteral ||
      kind === ts.SyntaxKind.SingleLineCommentTrivia ||
      kind === ts.SyntaxKind.MultiLineCommentTrivia ||
      kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral ||
      kind === ts.SyntaxKind.TemplateHead ||
      kind === ts.SyntaxKind.TemplateMiddle ||
      kind === ts.SyntaxKind.TemplateTail
    )
      safe.push([scanner.getTokenFullStart(), scanner.getTokenEnd()]);
  }
  const inside = (start: number, end: number) => safe.some(([s, e]) => s <= start && end <= e);
  for (const payload of payloadsOf(source))
    for (let at = code.indexOf(payload); at >= 0; at = code.indexOf(payload, at + 1))
      if (!inside(at, at + payload.length)) return `source text reaches generated code outside a string or comment: ${JSON.stringify(payload.slice(0, 80))}`;
  return undefined;
}

/** The first problem of a DOT graph: unbalanced braces or brackets, an unterminated string, a malformed HTML label. */
export function checkDot(dot: string): string | undefined {
  const stack: string[] = [];
  const token = /\s+|\/\/[^\n]*|\/\*[^]*?\*\/|"(?:\\[^]|[^"\\])*"|[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*|-?(?:\.\d+|\d+(?:\.\d*)?)|->|--|[{}[\];,=:]|</y;
  let graphs = 0;
  for (let i = 0; i < dot.length; ) {
    token.lastIndex = i;
    const m = token.exec(dot);
    if (!m) return `DOT: unexpected ${JSON.stringify(dot.slice(i, i + 20))} at offset ${i}`;
    const t = m[0];
    if (t === '<') {
      // An HTML label: balanced angle brackets, contents well-formed XML.
      let depth = 0, j = i;
      for (; j < dot.length; j++) if ((depth += dot[j] === '<' ? 1 : dot[j] === '>' ? -1 : 0) === 0) break;
      if (j >= dot.length) return `DOT: unterminated HTML label at offset ${i}`;
      const problem = checkXml(`<label>${dot.slice(i + 1, j)}</label>`, false);
      if (problem) return `DOT HTML label at offset ${i}: ${problem}`;
      i = j + 1;
      continue;
    }
    if (t === '{' || t === '[') stack.push(t);
    else if (t === '}' || t === ']') {
      if (stack.pop() !== (t === '}' ? '{' : '[')) return `DOT: unbalanced ${t} at offset ${i}`;
      if (t === '}' && stack.length === 0) graphs++;
    }
    i += t.length;
  }
  if (stack.length > 0) return `DOT: ${stack.length} unclosed ${stack.at(-1)}`;
  return graphs === 1 ? undefined : `DOT: ${graphs} top-level graphs`;
}

const NAME = /[:A-Za-z_\u00C0-\uFFFF][\w.:\-\u00B7\u00C0-\uFFFF]*/y;
/** Characters XML 1.0 forbids anywhere, and lone surrogates. */
const BAD_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BAD_REF = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);)/;

/** The first well-formedness problem of an XML document (or, with `prolog` false, an element): tags, attributes, references, characters. */
export function checkXml(xml: string, prolog = true): string | undefined {
  const bad = BAD_CHAR.exec(xml);
  if (bad) return `XML: character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')} at offset ${bad.index}`;
  const open: string[] = [];
  let roots = 0;
  let i = 0;
  const text = (s: string, at: number) => (BAD_REF.test(s) ? `XML: bad reference near offset ${at}` : s.includes(']]>') ? `XML: ]]> in text at ${at}` : undefined);
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const chunk = xml.slice(i, lt < 0 ? xml.length : lt);
    const problem = text(chunk, i);
    if (problem) return problem;
    if (open.length === 0 && chunk.trim() !== '') return `XML: text outside the root element at offset ${i}`;
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0 || xml.slice(i + 4, end).includes('--')) return `XML: bad comment at offset ${i}`;
      i = end + 3;
    } else if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end < 0) return `XML: unterminated processing instruction at ${i}`;
      i = end + 2;
    } else if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i);
      if (end < 0 || open.length === 0) return `XML: bad CDATA at ${i}`;
      i = end + 3;
    } else if (xml.startsWith('<!DOCTYPE', i)) {
      if (!prolog || roots > 0 || open.length > 0) return `XML: misplaced DOCTYPE at ${i}`;
      const end = xml.indexOf('>', i);
      if (end < 0) return `XML: unterminated DOCTYPE`;
      i = end + 1;
    } else if (xml[i + 1] === '/') {
      NAME.lastIndex = i + 2;
      const name = NAME.exec(xml)?.[0];
      const end = xml.indexOf('>', i);
      if (!name || end < 0 || xml.slice(i + 2 + name.length, end).trim() !== '') return `XML: bad end tag at ${i}`;
      if (open.pop() !== name) return `XML: </${name}> does not close the open element at ${i}`;
      i = end + 1;
    } else {
      NAME.lastIndex = i + 1;
      const name = NAME.exec(xml)?.[0];
      if (!name) return `XML: bad tag at offset ${i}: ${JSON.stringify(xml.slice(i, i + 20))}`;
      let j = i + 1 + name.length;
      const seen = new Set<string>();
      for (;;) {
        const ws = /\s*/y;
        ws.lastIndex = j;
        const spaced = ws.exec(xml)![0].length > 0;
        j += ws.lastIndex - j;
        if (xml.startsWith('/>', j) || xml[j] === '>') break;
        NAME.lastIndex = j;
        const attr = NAME.exec(xml)?.[0];
        if (!attr || !spaced) return `XML: bad attribute in <${name}> at ${j}`;
        if (seen.has(attr)) return `XML: duplicate attribute ${attr} in <${name}>`;
        seen.add(attr);
        const value = /\s*=\s*("[^"<]*"|'[^'<]*')/y;
        value.lastIndex = j + attr.length;
        const v = value.exec(xml);
        if (!v) return `XML: attribute ${attr} of <${name}> is not a quoted value without '<' (offset ${j})`;
        if (BAD_REF.test(v[1])) return `XML: bad reference in attribute ${attr} of <${name}>`;
        j = value.lastIndex;
      }
      if (open.length === 0 && roots++ > 0) return `XML: a second root element <${name}> at ${i}`;
      if (xml.startsWith('/>', j)) i = j + 2;
      else {
        open.push(name);
        i = j + 1;
      }
    }
  }
  if (open.length > 0) return `XML: <${open.at(-1)}> is not closed`;
  return roots === 1 ? undefined : 'XML: no root element';
}
