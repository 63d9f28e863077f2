/**
 * Inlay hints: the output shape (per example, as `dlc summary` writes it
 * without the batch) at the end of each line of a model or block body, and
 * of each chain stage that ends a line. A block's line shows the shapes of
 * all its instances (`[8, 8, 16] | [4, 4, 32]`) when they differ.
 */
import { InlayHintKind, type InlayHint, type Range } from 'vscode-languageserver-types';
import type { Expr } from '../frontend/ast.js';
import { exampleShape } from '../diagnostics.js';
import type { Node } from '../ir/types.js';
import type { Analysis } from './analysis.js';

export function inlayHints(a: Analysis, range: Range): InlayHint[] {
  const program = a.checked.program;
  if (!program) return [];
  const [from, to] = [a.lines.offset(range.start), a.lines.offset(range.end)];
  const hints: InlayHint[] = [];
  const hint = (end: number, nodes: Node[]) => {
    if (end < from || end > to || nodes.length === 0) return;
    const shapes = [...new Set(nodes.map((n) => (n.type.parts ? `(${n.type.parts.map((p) => exampleShape(p.shape)).join(', ')})` : exampleShape(n.type.shape))))];
    hints.push({ position: a.lines.position(end), label: `: ${shapes.join(' | ')}`, kind: InlayHintKind.Type, paddingLeft: true });
  };
  for (const decl of program.decls) {
    if (decl.kind !== 'model' && decl.kind !== 'block') continue;
    if (decl.span.end < from || decl.span.start > to) continue;
    for (const stmt of decl.body) {
      if (stmt.kind === 'input' || stmt.kind === 'const') continue;
      const value: Expr = stmt.value;
      if (value.kind === 'chain') {
        value.stages.forEach((stage, i) => {
          const next = value.stages[i + 1];
          if (next && a.lines.line(next.span.start) === a.lines.line(stage.span.end)) return;
          hint(stage.span.end, a.layers.valueNodes(stage, a.symbols));
        });
      } else if (value.kind === 'call' || value.kind === 'as') hint(value.span.end, a.layers.valueNodes(value, a.symbols));
    }
  }
  return hints;
}
