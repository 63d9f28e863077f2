/**
 * Generated TensorFlow.js modules for tests: emit graphs into a fresh
 * directory under test/backends/tfjs/.generated/ (gitignored; inside the
 * project, so that the modules resolve @tensorflow/tfjs), import them, and
 * remove the directory afterwards. Vitest transpiles the .ts on import.
 */
import type * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emitTfjs, tfjsModuleNames } from '../../../src/backends/tfjs/index.js';
import type { Graph } from '../../../src/ir/types.js';
import type { WeightsFileError } from '../../../src/weights/safetensors.js';

/** The API every generated module exports, as the tests use it. */
export interface GeneratedModule {
  modelName: string;
  inputShapes: Record<string, readonly (number | null)[]>;
  outputShapes: Record<string, readonly (number | null)[]>;
  weightSpecs: Record<string, { shape: readonly number[]; init: string }>;
  predict(weights: object, inputs: object): Record<string, tf.Tensor>;
  createWeights(seed: number, options?: { normalSigma?: number }): Record<string, tf.Tensor>;
  loadWeights(bytes: Uint8Array): Record<string, tf.Tensor>;
  saveWeights(weights: object, metadata?: Record<string, string>): Uint8Array;
  WeightsFileError: typeof WeightsFileError;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** A new, empty directory of this run under .generated/; the caller removes it (removeGenerated). */
export function generatedDir(): string {
  mkdirSync(join(here, '.generated'), { recursive: true });
  return mkdtempSync(join(here, '.generated', 'run-'));
}

export const removeGenerated = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/** Emits each graph as its own module in `dir` (file names from tfjsModuleNames); returns the file paths, in order. */
export async function emitModules(dir: string, models: { graph: Graph; sourcePath: string }[]): Promise<string[]> {
  const names = tfjsModuleNames(models.map((m) => m.graph));
  return Promise.all(
    models.map(async ({ graph, sourcePath }, i) => {
      const file = join(dir, `${names[i]}.ts`);
      writeFileSync(file, await emitTfjs(graph, { sourcePath }));
      return file;
    }),
  );
}

export const loadModule = (file: string) => import(pathToFileURL(file).href) as Promise<GeneratedModule>;
