/**
 * Hover: on a layer (an op's call or `-> op` stage), its op, arguments,
 * input and output shapes, parameters and FLOPs, then the op's documentation;
 * on a block call, each instance's parameters and output; on `repeat`, its
 * copies' rows and their total; on a name, where
 * it is defined and its shape; on a model's name, its totals. The numbers are
 * those of `dlc summary` (src/summary.ts, layerStats).
 */
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver-types';
import { layerStats } from '../ir/infer.js';
import type { Expr, Span } from '../frontend/ast.js';
import type { AttrValue, Node } from '../ir/types.js';
import { lookupOp } from '../ops/index.js';
import type { AttrKind, OpDef } from '../ops/op.js';
import { grouped, polyText, shapeCell, summarize } from '../summary.js';
import type { Analysis } from './analysis.js';
import type { Instance } from './layers.js';
import { occurrenceAt, type Sym } from './symbols.js';

/** Instances listed in a hover on a block's line, at most. */
const MAX_LISTED = 8;

export function hover(a: Analysis, position: Position): Hover | null {
  const symbols = a.symbols;
  if (!symbols) return null;
  const o = occurrenceAt(symbols, a.lines.offset(position));
  if (!o) return null;
  const range = a.lines.range(o.span.start, o.span.end);
  const md = (parts: (string | undefined)[]): Hover => ({ contents: { kind: MarkupKind.Markdown, value: parts.filter((p) => p !== undefined).join('\n\n') }, range });
  if (o.arg) {
    const spec = lookupOp(o.arg.op)?.attrs.find((s) => s.name === o.arg!.name);
    return spec ? md([`\`${o.arg.op}\` argument \`${spec.name}\`: ${kindText(spec.type)}`, spec.doc]) : null;
  }
  if (o.op) {
    const op = lookupOp(o.op)!;
    const nodes = o.call ? a.layers.nodesAt(o.call.span) : [];
    return md([...(nodes.length > 0 ? [layersText(nodes)] : []), opDoc(op)]);
  }
  if (o.repeat) {
    // repeat(n, block(...)): the copies are the instances of the inner call.
    const inner = o.repeat.args[1]?.value;
    const instances = inner ? a.layers.instancesAt(inner.span) : [];
    const params = instances.reduce((n, i) => n + instanceTotals(i).params, 0);
    return md([
      '**repeat** `(n, block(...))`: `n` copies of a block, chained, each with weights of its own',
      instances.length > 0 ? `${instances.length} copies in all · ${grouped(params)} params` : undefined,
      instanceTable(instances),
    ]);
  }
  const sym = o.sym!;
  if (sym.kind === 'block' && o.call) {
    const instances = a.layers.instancesAt(o.call.span);
    const lines = sym.decl.kind === 'block' ? sym.decl.body.filter((s) => s.kind !== 'input' && s.kind !== 'output').length : 0;
    return md([`**block** \`${signature(sym)}\` (${lines} ${lines === 1 ? 'line' : 'lines'})`, instanceTable(instances)]);
  }
  return md(symbolText(a, sym));
}

function instanceTotals(i: Instance): { params: number; flops: number } {
  const stats = i.nodes.map(layerStats);
  return { params: stats.reduce((n, s) => n + s.paramCount, 0), flops: stats.reduce((n, s) => n + s.flops, 0) };
}

/** A block call's instances, a row each (at most MAX_LISTED); undefined when there are none. */
function instanceTable(instances: Instance[]): string | undefined {
  if (instances.length === 0) return undefined;
  const rows = instances.slice(0, MAX_LISTED).map((i) => {
    const { params, flops } = instanceTotals(i);
    return `| ${i.frame.instance} | ${i.outputs.map((n) => shapeCell(n.type.shape)).join(', ')} | ${grouped(params)} | ${Number.isNaN(flops) ? 'depends on sizes' : grouped(flops)} |`;
  });
  const more = instances.length > MAX_LISTED ? [`| and ${instances.length - MAX_LISTED} more | | | |`] : [];
  return ['| instance | output | params | FLOPs |', '|---|---|---:|---:|', ...rows, ...more].join('\n');
}

function symbolText(a: Analysis, sym: Sym): (string | undefined)[] {
  const line = a.lines.line(sym.def.start) + 1;
  const where = `defined on line ${line}`;
  switch (sym.kind) {
    case 'model': {
      const graph = a.checked.graphs.find((g) => g.span === sym.decl.span);
      const s = graph && summarize(graph);
      return [`**model** \`${sym.name}\` — ${where}`, s && `${s.layers.length} layers · ${grouped(s.totalParams)} params · ${polyText(s.flopsTerms, grouped)} FLOPs per example`];
    }
    case 'block':
      return [`**block** \`${signature(sym)}\` — ${where}`];
    case 'const': {
      const decl = sym.decl as Extract<Sym['decl'], { kind: 'const' }>;
      return [`**const** \`${sym.name} = ${a.source.text.slice(decl.value.span.start, decl.value.span.end)}\` — ${where}`];
    }
    case 'param':
      return [`**parameter** \`${sym.name}\` of block \`${sym.decl.name}\` — ${where}`];
    case 'layer': {
      const nodes = sym.stmt ? a.layers.nodesAt(layerCall(a, sym) ?? sym.def) : [];
      return [`**layer** \`${sym.name}\` — ${where}`, nodes.length > 0 ? layersText(nodes) : undefined];
    }
    case 'value': {
      const nodes = sym.stmt ? a.layers.symbolNodes(sym.stmt, sym.part, a.symbols) : [];
      const shapes = [...new Set(nodes.map((n) => shapeCell(n.type.parts?.[0]?.shape ?? n.type.shape)))];
      return [`**value** \`${sym.name}\`${shapes.length > 0 ? `: \`${shapes.join(' | ')}\`` : ''} — ${where} in ${sym.decl.kind} \`${sym.decl.name}\``];
    }
  }
}

/** The call an `as` name names: the expression just before ` as NAME`. */
function layerCall(a: Analysis, sym: Sym) {
  let found: Span | undefined;
  const visit = (e: Expr): void => {
    if (e.kind === 'as' && e.nameSpan.start === sym.def.start) found = e.expr.kind === 'chain' ? e.expr.stages.at(-1)!.span : e.expr.span;
    else if (e.kind === 'as') visit(e.expr);
    else if (e.kind === 'chain') [e.head, ...e.stages].forEach(visit);
    else if (e.kind === 'call') e.args.forEach((x) => visit(x.value));
  };
  const stmt = sym.stmt!;
  if ('value' in stmt && stmt.value) visit(stmt.value);
  return found && (a.layers.nodesAt(found).length > 0 ? found : undefined);
}

const signature = (sym: Sym) => (sym.decl.kind === 'block' ? `${sym.name}(${sym.decl.params.map((p) => p.name + (p.default ? ` = ${p.default.span.source.text.slice(p.default.span.start, p.default.span.end)}` : '')).join(', ')})` : sym.name);

/** One layer in detail; several (a block's line in several instances) as a table. */
function layersText(nodes: Node[]): string {
  const shape = (n: Node) => (n.type.parts ? n.type.parts.map((p) => shapeCell(p.shape)).join(', ') : shapeCell(n.type.shape));
  const flops = (n: Node) => polyText(layerStats(n).flopsTerms, grouped);
  if (nodes.length === 1) {
    const n = nodes[0];
    const args = Object.entries(n.attrs).map(([k, v]) => `${k} = ${valueText(v)}`);
    return [
      `**layer** \`${n.name}\` (${n.op})`,
      '',
      `- input: ${n.inputs.map((i) => `\`${shape(i)}\``).join(', ') || 'none'}`,
      `- output: \`${shape(n)}\``,
      `- params: ${grouped(layerStats(n).paramCount)}${n.shared && n.shared.use > 0 ? ` (shared with \`${n.shared.layer}\`)` : ''}`,
      `- FLOPs: ${flops(n)}`,
      ...(args.length > 0 ? [`- arguments: ${args.map((x) => `\`${x}\``).join(', ')}`] : []),
    ].join('\n');
  }
  const rows = nodes.slice(0, MAX_LISTED).map((n) => `| ${n.name} | ${n.inputs.map(shape).join(', ')} | ${shape(n)} | ${grouped(layerStats(n).paramCount)} | ${flops(n)} |`);
  return [`**${nodes.length} layers** (${nodes[0].op}), one per instance`, '', '| layer | input | output | params | FLOPs |', '|---|---|---|---:|---:|', ...rows, ...(nodes.length > MAX_LISTED ? [`| and ${nodes.length - MAX_LISTED} more | | | | |`] : [])].join('\n');
}

/** An op's documentation and its argument table. */
export function opDoc(op: OpDef): string {
  const rows = op.attrs.map((s) => `| \`${s.name}\`${s.positional ? ' (positional)' : ''} | ${kindText(s.type)} | ${s.default !== undefined ? `\`${valueText(s.default)}\`` : s.optional ? 'optional' : 'required'} | ${s.doc} |`);
  return [`**${op.name}** — ${op.doc}`, ...(rows.length > 0 ? ['', '| argument | type | default | |', '|---|---|---|---|', ...rows] : [])].join('\n');
}

export function kindText(k: AttrKind): string {
  switch (k.kind) {
    case 'symbol':
      return k.choices.map((c) => `\`${c}\``).join(' \\| ');
    case 'ints':
      return 'int or list of ints';
    case 'kernel':
      return 'int, list of ints, or a constant tensor';
    case 'shape':
      return 'list of ints';
    case 'margins':
      return 'int, list, or [[before, after], ...]';
    case 'op':
      return 'op call';
    case 'values':
      return 'list of values';
    default:
      return k.kind;
  }
}

export function valueText(v: AttrValue): string {
  if (typeof v !== 'object') return typeof v === 'string' ? JSON.stringify(v) : String(v);
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if ('symbol' in v) return v.symbol;
  if ('data' in v) return `tensor [${v.shape.join(', ')}]`;
  if ('call' in v) return `${v.call}(${Object.entries(v.attrs).map(([k, x]) => `${k} = ${valueText(x)}`).join(', ')})`;
  return '?';
}
