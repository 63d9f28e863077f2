/**
 * The front half of the pipeline, top to bottom: read -> parse -> index ->
 * build the graph of the chosen model -> infer shapes. Every failure comes back
 * as diagnostics; nothing here prints or exits.
 */
import type { Program, Source } from './frontend/ast.js';
import { parse } from './frontend/parse.js';
import { buildGraph, checkConstants, indexProgram, ProgramIndex } from './ir/build.js';
import { inferShapes } from './ir/infer.js';
import type { Graph } from './ir/types.js';
import { CompileError, Diagnostic, messages, suggest } from './diagnostics.js';
import { readTextBounded } from './files.js';
import { MAX_SOURCE_CHARS } from './frontend/scan.js';

export interface CompiledFile {
  program: Program;
  index: ProgramIndex;
  /** Every model in the file, checked. */
  graphs: Graph[];
}

export function readSource(path: string): Source {
  try {
    // Bytes bound characters from above, so the file limit is the text limit; a UTF-8 byte order mark is not part of the program.
    return { path, text: readTextBounded(path, MAX_SOURCE_CHARS).replace(/^\uFEFF/, '') };
  } catch (e) {
    throw new CompileError([messages.readFile(path, (e as Error).message)]);
  }
}

/** Parses and checks every model of a source; throws CompileError with all diagnostics found. */
export function compileSource(source: Source): CompiledFile {
  const parsed = parse(source);
  if (!parsed.ok) throw new CompileError([parsed.diagnostic]);
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
  if (diagnostics.length > 0) throw new CompileError(dedupe(diagnostics).sort((a, b) => (a.span?.start ?? -1) - (b.span?.start ?? -1)));
  return { program: parsed.program, index, graphs };
}

export function compileFile(path: string): CompiledFile {
  return compileSource(readSource(path));
}

/** The model named `name`, or else the file's last model. */
export function selectModel(file: CompiledFile, name?: string): Graph {
  if (name === undefined) return file.graphs.at(-1)!;
  const graph = file.graphs.find((g) => g.name === name);
  const names = file.graphs.map((g) => g.name);
  if (!graph) throw new CompileError([messages.unknownModel(name, names, suggest(name, names))]);
  return graph;
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
