/**
 * Completion. What fits at the cursor is read from the text before it, so
 * that it works on the half-typed lines it is asked about: inside a call's
 * parentheses, the call's argument names (an op's or a block's) and, after
 * `name =`, that argument's choices; right of `->`, ops, blocks and layers;
 * elsewhere in a body, also the names in scope and the statement keywords;
 * in a train section, its settings, their choices and their calls'
 * parameters (trainItems); at top level, snippets of `model`, `block`,
 * `train` and `const`. Names in scope come from the latest version of the
 * document that parsed.
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type Position } from 'vscode-languageserver-types';
import { scan } from '../frontend/scan.js';
import { callableOps, lookupOp } from '../ops/index.js';
import type { OpDef } from '../ops/op.js';
import { TRAIN_VOCABULARY } from '../train/config.js';
import type { Analysis } from './analysis.js';
import { kindText, opDoc } from './hover.js';
import type { Sym } from './symbols.js';

/** Where the cursor is, as far as completion cares. */
export interface CompletionContext {
  /** The enclosing declaration (undefined: top level, or a declaration's header). */
  decl?: { kind: 'const' | 'block' | 'model' | 'train'; name: string };
  /** The innermost call whose parentheses are open: its callee, the argument names given, and the argument being written after `name =`. */
  call?: { callee: string; given: string[]; arg?: string };
  /** The last token before the word being typed. */
  after?: string;
  /** In a train section: the setting whose value is being written (`optimizer` in `optimizer = ad|`). */
  setting?: string;
  /** In a train section: the settings assigned on the other lines. */
  assigned?: string[];
}

const WORD = /[\p{L}\p{N}_]/u;
/** A model's, block's or train section's header, from its keyword to its `{`. */
const HEADER = /^\s*(?:#[^\n]*\n\s*)*(model|block|train)\s+([\p{L}_][\p{L}\p{N}_]*)[^{]*\{/u;

/** Undefined where nothing can be completed: a text past the size or nesting limits. */
export function completionContext(text: string, offset: number): CompletionContext | undefined {
  let wordStart = offset;
  while (wordStart > 0 && WORD.test(text[wordStart - 1])) wordStart--;
  const plan = scan({ path: '', text });
  if (!plan.ok) return undefined;
  const d = plan.decls.find((p) => p.range.start <= wordStart && wordStart <= p.range.end);
  // A declaration the scanner could not plan (a half-typed line leaves a bracket open) still has its header.
  const header = d && HEADER.exec(text.slice(d.range.start, Math.min(d.range.end, d.range.start + 1000)));
  if (!d || !header || wordStart < d.range.start + header[0].length || (d.close && wordStart > d.close.start)) {
    const c = plan.decls.find((p) => p.kind === 'const' && p.range.start < wordStart && wordStart <= p.range.end);
    return c ? { decl: { kind: 'const', name: '' }, after: '=' } : {};
  }
  const ctx: CompletionContext = { decl: { kind: header[1] as 'block' | 'model' | 'train', name: header[2] } };
  const bodyStart = d.range.start + header[0].length;
  type Open = { callee?: string; given: string[]; arg?: string; pendingName?: string };
  const stack: Open[] = [];
  let last: string | undefined;
  // A statement's first word, and the names statements assigned (`name =` at depth 0).
  let head: string | undefined;
  const assigned: string[] = [];
  for (let i = bodyStart; i < wordStart; ) {
    const ch = text[i];
    if (ch === '#') {
      while (i < wordStart && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '"') {
      for (i++; i < wordStart && text[i] !== '"' && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
      i++;
      last = 'string';
      continue;
    }
    if (ch === '\n') {
      // A new line at depth 0 starts a statement unless the line before left an operator open or the next continues a chain.
      if (stack.length === 0 && last !== '->' && last !== '=' && last !== ',' && !/^\s*->/.test(text.slice(i + 1, wordStart))) last = head = undefined;
      i++;
      continue;
    }
    if (ch <= ' ') {
      i++;
      continue;
    }
    if (WORD.test(ch)) {
      let j = i;
      while (j < wordStart && WORD.test(text[j])) j++;
      const word = text.slice(i, j);
      const top = stack.at(-1);
      if (top && (last === '(' || last === ',')) top.pendingName = word;
      else if (top) top.pendingName = undefined;
      if (!top && last === undefined) head = word;
      last = word;
      i = j;
      continue;
    }
    const two = text.slice(i, i + 2);
    const token = two === '->' || two === '**' || two === '//' ? two : ch;
    const top = stack.at(-1);
    if (token === '(') stack.push({ callee: last && WORD.test(last[0]) ? last : undefined, given: [] });
    else if (token === '[') stack.push({ given: [] });
    else if (token === ')' || token === ']') stack.pop();
    else if (token === '=' && top?.pendingName) {
      top.given.push(top.pendingName);
      top.arg = top.pendingName;
    } else if (token === '=' && !top && head !== undefined && last === head) assigned.push(head);
    else if (token === ',' && top) top.arg = undefined;
    if (top && token !== '=') top.pendingName = undefined;
    last = token;
    i += token.length;
  }
  const open = [...stack].reverse().find((s) => s.callee !== undefined);
  const top = stack.at(-1);
  // Inside a list (`[...]`) of a call, an argument's choices are not what is being written.
  if (open) ctx.call = { callee: open.callee!, given: open.given, arg: top === open ? open.arg : undefined };
  ctx.after = last;
  if (ctx.decl!.kind === 'train') {
    if (stack.length === 0 && head !== undefined && assigned.at(-1) === head && last !== head) ctx.setting = assigned.pop();
    // The lines after the cursor's, up to the section's `}`.
    const lineEnd = text.indexOf('\n', wordStart);
    const rest = lineEnd < 0 ? '' : text.slice(lineEnd, d.close ? d.close.start : d.range.end);
    for (const m of rest.matchAll(/^\s*([\p{L}_][\p{L}\p{N}_]*)\s*=/gmu)) assigned.push(m[1]);
    ctx.assigned = assigned;
  }
  return ctx;
}

const SNIPPETS: { label: string; detail: string; body: string }[] = [
  { label: 'model', detail: 'a model: inputs, layers, outputs', body: 'model ${1:Name} {\n  input ${2:x}: [${3:784}]\n  output ${4:y} = ${2:x} -> ${0:dense(10)}\n}' },
  { label: 'block', detail: 'a block: a reusable piece of a model', body: 'block ${1:name}(${2:units}) {\n  input ${3:x}\n  output ${3:x} -> ${0:dense(${2:units})}\n}' },
  { label: 'train', detail: "a model's training section", body: 'train ${1:Model} {\n  data = ${2:mnist(train = 8000, test = 2000)}\n  loss = ${3:crossentropy}\n  optimizer = ${4:adam(lr = 0.001)}\n  epochs = ${5:5}\n  batch = ${6:32}\n}' },
  { label: 'const', detail: 'a named constant', body: 'const ${1:name} = ${0:10}' },
];

export function completion(a: Analysis, position: Position): CompletionItem[] {
  const ctx = completionContext(a.source.text, a.lines.offset(position));
  if (!ctx) return [];
  const table = a.lastSymbols;
  if (!ctx.decl) return SNIPPETS.map((s) => ({ label: s.label, kind: CompletionItemKind.Snippet, detail: s.detail, insertText: s.body, insertTextFormat: InsertTextFormat.Snippet }));
  if (ctx.decl.kind === 'train') return trainItems(ctx, table);
  const items: CompletionItem[] = [];
  if (ctx.call) {
    const op = lookupOp(ctx.call.callee);
    const block = table?.globals.get(ctx.call.callee);
    if (ctx.call.arg) {
      const spec = op?.attrs.find((s) => s.name === ctx.call!.arg);
      if (spec?.type.kind === 'symbol') return spec.type.choices.map((c) => ({ label: c, kind: CompletionItemKind.EnumMember, detail: `${op!.name} ${spec.name}` }));
      if (spec?.type.kind === 'bool') return ['true', 'false'].map((c) => ({ label: c, kind: CompletionItemKind.Value }));
    } else if (op && !op.internal) {
      for (const s of op.attrs)
        if (!ctx.call.given.includes(s.name))
          items.push({ label: `${s.name} =`, filterText: s.name, insertText: `${s.name} = `, kind: CompletionItemKind.Property, detail: kindText(s.type).replace(/[`\\]/g, ''), documentation: s.doc, sortText: `0${s.name}` });
    } else if (block?.decl.kind === 'block') {
      for (const p of block.decl.params)
        if (!ctx.call.given.includes(p.name)) items.push({ label: `${p.name} =`, filterText: p.name, insertText: `${p.name} = `, kind: CompletionItemKind.Property, detail: `parameter of block ${block.name}`, sortText: `0${p.name}` });
    }
  }
  const stage = ctx.after === '->';
  if (ctx.decl.kind === 'model' || ctx.decl.kind === 'block') {
    for (const name of callableOps()) items.push(opItem(lookupOp(name)!));
    items.push({ label: 'repeat', kind: CompletionItemKind.Function, detail: 'repeat(n, block(...)): n copies of a block, chained', sortText: '2repeat' });
    for (const sym of table?.globals.values() ?? []) if (sym.kind === 'block') items.push(symItem(sym, CompletionItemKind.Module));
    const locals = table && [...table.locals].find(([decl]) => decl.kind === ctx.decl!.kind && decl.kind !== 'train' && decl.name === ctx.decl!.name)?.[1];
    for (const sym of locals?.layers.values() ?? []) items.push(symItem(sym, CompletionItemKind.Field));
    if (!stage) for (const sym of locals?.values.values() ?? []) items.push(symItem(sym, CompletionItemKind.Variable));
    if (!stage && !ctx.call && ctx.after === undefined) for (const k of ['input', 'output', 'const']) items.push({ label: k, kind: CompletionItemKind.Keyword, sortText: `3${k}` });
  }
  if (!stage) for (const sym of table?.globals.values() ?? []) if (sym.kind === 'const') items.push(symItem(sym, CompletionItemKind.Constant));
  return items;
}

/**
 * In a train section: at a line's start, the settings not assigned yet; after
 * `setting =`, what that setting's value may be; inside `sgd(`, `mnist(` and
 * the like, their parameters not given yet. Constants fit any value.
 */
function trainItems(ctx: CompletionContext, table: Analysis['lastSymbols']): CompletionItem[] {
  const constants = ctx.after === undefined ? [] : [...(table?.globals.values() ?? [])].filter((s) => s.kind === 'const').map((s) => symItem(s, CompletionItemKind.Constant));
  if (ctx.call) {
    const callee = ctx.call.callee;
    const call = Object.values(TRAIN_VOCABULARY.calls).flat().find((c) => c.name === callee);
    if (!call || ctx.call.arg) return constants;
    return [
      ...call.params
        .filter((p) => !ctx.call!.given.includes(p.name))
        .map((p) => ({ label: `${p.name} =`, filterText: p.name, insertText: `${p.name} = `, kind: CompletionItemKind.Property, detail: `${p.expected}${p.default !== undefined ? `, default ${JSON.stringify(p.default)}` : ''}`, sortText: `0${p.name}` })),
      ...constants,
    ];
  }
  if (ctx.setting !== undefined) {
    if (ctx.after !== '=') return constants;
    const calls = TRAIN_VOCABULARY.calls[ctx.setting];
    if (calls)
      return calls.map((c) => ({ label: c.name, kind: CompletionItemKind.Function, detail: `${c.name}(${c.params.map((p) => p.name).join(', ')})`, sortText: `0${c.name}` }));
    if (ctx.setting === 'loss') return TRAIN_VOCABULARY.losses.map((name) => ({ label: name, kind: CompletionItemKind.EnumMember, sortText: `0${name}` }));
    return constants;
  }
  if (ctx.after !== undefined) return constants;
  return TRAIN_VOCABULARY.settings
    .filter((s) => !ctx.assigned?.includes(s.name))
    .map((s) => ({ label: s.name, kind: CompletionItemKind.Property, detail: s.doc, insertText: `${s.name} = `, sortText: `0${s.name}` }));
}

function opItem(op: OpDef): CompletionItem {
  return { label: op.name, kind: CompletionItemKind.Function, detail: op.doc, documentation: { kind: MarkupKind.Markdown, value: opDoc(op) }, sortText: `2${op.name}` };
}

function symItem(sym: Sym, kind: CompletionItemKind): CompletionItem {
  const detail = sym.kind === 'block' && sym.decl.kind === 'block' ? `block ${sym.name}(${sym.decl.params.map((p) => p.name).join(', ')})` : sym.kind;
  return { label: sym.name, kind, detail, sortText: `1${sym.name}` };
}

