/**
 * The messages that dlc's interpreter (`dlc run`, backends/interp/io.ts and
 * weights.ts) and generated TensorFlow.js modules give about the same
 * mistakes: inputs of the wrong shape or type, and weights files that do not
 * fit the model. One text per mistake; the two differ only in the hint on how
 * to fix it, since `dlc run` reads JSON arrays and a module tf.Tensors. The
 * interpreter's own input and weights messages are here too, beside them.
 * (The safetensors format's own errors are the codec's, safetensors.ts.)
 */
import { showShape } from './tensor.js';

/** Inputs; `needs` and `has` are shapes as text, the batch shown as `batch`. */
export const inputMessages = {
  missing: (name: string, needs: string, hint: string) => `missing input "${name}" of shape ${needs}${hint}`,
  unbatched: (name: string, has: string, needs: string, hint: string) => `input "${name}" has shape ${has} but needs ${needs}: ${hint}`,
  shape: (name: string, has: string, needs: string) => `input "${name}" has shape ${has} but the model needs ${needs}`,
  batchSize: (name: string, size: number, others: number) => `input "${name}" has batch size ${size}, other inputs have ${others}`,
  /** Hints for a generated module's tf.Tensor inputs. */
  tensorHint: (dtype: string) => ` (a ${dtype} tf.Tensor)`,
  tensorBatchHint: 'add the batch dimension, e.g. tf.expandDims(x, 0)',
  dtype: (name: string, has: string, needs: string) =>
    `input "${name}" is ${has} but the model needs ${needs}${needs === 'int32' ? ' token ids' : ''}: convert it with tf.cast(x, '${needs}')`,
};

/** `dlc run`'s JSON inputs only (backends/interp/io.ts); `at` is an index path such as `[0][3]`, `names` the quoted input names. */
export const jsonInputMessages = {
  notObject: (names: string) => `inputs must be a JSON object keyed by input name (${names})`,
  unknownKey: (key: string, suggestion: string | undefined, names: string) =>
    `inputs have an unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; the model's inputs are ${names}`,
  batchHint: 'wrap one example in [ ] to make a batch of one',
  notFinite: (name: string, at: string, value: string) => `input "${name}"${at} must be a finite number, got ${value}`,
  notWhole: (name: string, at: string, value: number) => `input "${name}"${at} must be a whole number (integer token id), got ${value}`,
  ragged: (name: string, at: string, expected: number, got: string) => `input "${name}" is ragged at ${at}: expected ${expected} entries, got ${got}`,
};

/** What is wrong with a weights file's tensors for a model; empty when they fit. Each problem is one line. */
export function weightProblems(specs: Iterable<{ readonly name: string; readonly shape: readonly number[] }>, tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>): string[] {
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const { name, shape } of specs) {
    expected.add(name);
    const t = tensors.get(name);
    if (!t) problems.push(`weights file has no tensor "${name}" (expected shape ${showShape(shape)})`);
    else if (t.shape.join() !== shape.join()) problems.push(`tensor "${name}" has shape ${showShape(t.shape)} but the model needs ${showShape(shape)}`);
    else if (t.data.some((x) => !Number.isFinite(x))) problems.push(`tensor "${name}" contains NaN or infinite values`);
  }
  const extra = [...tensors.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) problems.push(`weights file has tensors this model does not use: ${extra.slice(0, 5).map((n) => `"${n}"`).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
  return problems;
}

/** The interpreter's weights messages (backends/interp/weights.ts). */
export const weightMessages = {
  tooMany: (model: string, count: string, bytes: string, limit: string) =>
    `model '${model}' has ${count} parameters (${bytes} at fp32): too many to allocate (the limit is ${limit})`,
  cannotRead: (reason: string) => `cannot read: ${reason}`,
  /** Added to a weights file's problems when its metadata names another model. */
  writtenFor: (madeFor: string, model: string) => `(this file was written for model '${madeFor}', not '${model}')`,
};
