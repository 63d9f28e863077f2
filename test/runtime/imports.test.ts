/**
 * The layering issue 11 set: the runtime (src/runtime) imports nothing outside
 * itself, the TensorFlow.js backend shares code with the interpreter and
 * training only through it, and no engine file imports a presentation file.
 * Imports are read with TypeScript's own pre-processor, not a regex.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every .ts file under `dir` (relative to the root) with the files it imports, relative to the root. */
function importsUnder(dir: string): Map<string, string[]> {
  const files = readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  return new Map(
    files.map((file) => {
      const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
      const local = importedFiles.map((i) => i.fileName).filter((name) => name.startsWith('.'));
      return [file, local.map((name) => relative(root, resolve(root, dirname(file), name)).replace(/\.js$/, '.ts'))];
    }),
  );
}

const offending = (dir: string, allowed: (target: string) => boolean) =>
  [...importsUnder(dir)].flatMap(([file, targets]) => targets.filter((t) => !allowed(t)).map((t) => `${file} -> ${t}`));

describe('imports', () => {
  it('the runtime imports only itself', () => {
    expect(offending('src/runtime', (t) => t.startsWith('src/runtime/'))).toEqual([]);
    expect(importsUnder('src/runtime').size).toBeGreaterThan(5);
  });

  it('the TensorFlow.js backend imports neither the interpreter nor training', () => {
    expect(offending('src/backends/tfjs', (t) => !t.startsWith('src/backends/interp/') && !t.startsWith('src/train/'))).toEqual([]);
  });

  it('no engine file imports a presentation file', () => {
    const presentation = (t: string) => t === 'src/summary.ts' || t === 'src/cli.ts' || t.startsWith('src/backends/dot/');
    for (const dir of ['src/backends/interp', 'src/train', 'src/runtime']) expect(offending(dir, (t) => !presentation(t))).toEqual([]);
  });
});
