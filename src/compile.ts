/**
 * The front half of the pipeline, top to bottom: read -> check (check.ts:
 * parse -> index -> build every model's graph -> infer shapes). Every failure
 * comes back as diagnostics; nothing here prints or exits.
 */
import type { Program, Source } from './frontend/ast.js';
import type { ProgramIndex } from './ir/build.js';
import type { Graph } from './ir/types.js';
import { CompileError, messages, suggest } from './diagnostics.js';
import { checkSource } from './check.js';
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
  const { program, index, graphs, diagnostics } = checkSource(source);
  if (diagnostics.length > 0) throw new CompileError(diagnostics);
  return { program: program!, index: index!, graphs };
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
