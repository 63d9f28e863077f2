/**
 * Checking a source without files: parse -> index -> build every model's
 * graph -> infer shapes -> resolve the train sections, collecting every
 * diagnostic instead of throwing.
 * compile.ts throws them as a CompileError; the language service
 * (src/service) keeps the partial results, so an editor shows shapes even
 * where other lines have errors. No Node APIs here (the service runs in
 * browsers too).
 */
import type { Program, Source } from './frontend/ast.js';
import { parse, type ParseMemo } from './frontend/parse.js';
import { buildGraph, checkConstants, indexProgram, type ProgramIndex } from './ir/build.js';
import { inferShapes } from './ir/infer.js';
import type { Graph } from './ir/types.js';
import { type Diagnostic, messages } from './diagnostics.js';
import { checkTrainSections } from './train/config.js';

export interface CheckedSource {
  /** Absent when the source does not parse (its one syntax diagnostic is then the only one). */
  program?: Program;
  index?: ProgramIndex;
  /** Every model's graph, built as far as its errors allow. */
  graphs: Graph[];
  /** Sorted by position; blocks inlined several times report one problem at one place once. */
  diagnostics: Diagnostic[];
}

/** `memo` keeps Ohm's matches of unchanged pieces from the previous check of the same document. */
export function checkSource(source: Source, memo?: ParseMemo): CheckedSource {
  const parsed = parse(source, memo);
  if (!parsed.ok) return { graphs: [], diagnostics: [parsed.diagnostic] };
  const diagnostics: Diagnostic[] = [];
  const index = indexProgram(parsed.program, diagnostics);
  if (index.models.size === 0 && diagnostics.length === 0)
    diagnostics.push(messages.noModel({ source, start: 0, end: Math.min(1, source.text.length) }));
  const graphs: Graph[] = [];
  for (const model of index.models.values()) {
    // Every node that was built has valid inputs and arguments, so shapes can
    // be checked even when other parts of the model had errors.
    const graph = buildGraph(index, model, diagnostics);
    inferShapes(graph, diagnostics);
    graphs.push(graph);
  }
  checkConstants(index, diagnostics);
  if (parsed.program.decls.some((d) => d.kind === 'train')) checkTrainSections({ program: parsed.program, index, graphs }, diagnostics, diagnostics.length === 0);
  return { program: parsed.program, index, graphs, diagnostics: dedupe(diagnostics).sort((a, b) => (a.span?.start ?? -1) - (b.span?.start ?? -1)) };
}

/** Blocks inlined several times report the same problem at the same place once. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.span?.source.path}:${d.span?.start}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
