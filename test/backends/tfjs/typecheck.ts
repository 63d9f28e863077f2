/**
 * Type-checks generated modules as a user with the strictest settings would:
 * `strict` and every stricter flag a project may turn on, browser and ES2022
 * libraries only, no Node types. emit.test.ts, train.test.ts and the package
 * test use it.
 */
import ts from 'typescript';

export const STRICTEST: ts.CompilerOptions = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  noPropertyAccessFromIndexSignature: true,
  noUnusedLocals: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
  types: [],
  skipLibCheck: true,
  noEmit: true,
};

/** Each file's diagnostics as `file:line: message` (program-wide ones under the first file). */
export function typeCheck(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, STRICTEST);
  const byFile = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : 'program';
    const list = (d.file && byFile.get(d.file.fileName)) ?? byFile.get(files[0]!)!;
    list.push(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  }
  return byFile;
}
