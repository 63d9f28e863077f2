/**
 * The messages that dlc's interpreter (`dlc run`, backends/interp/io.ts and
 * weights.ts) and generated TensorFlow.js modules give about the same
 * mistakes: inputs of the wrong shape or type, and weights files that do not
 * fit the model. One text per mistake; the two differ only in the hint on how
 * to fix it, since `dlc run` reads JSON arrays and a module tf.Tensors.
 * (The safetensors format's own errors are the codec's, safetensors.ts.)
 */
import { showShape } from './tensor.js';

/** Inputs; `needs` and `has` are shapes as text, the batch shown as `batch`. */
export const inputMessages = {
  missing: (name: string, needs: string, hint: string) => `missing input "${name}" of shape ${needs}${hint}`,
  unbatched: (name: string, has: string, needs: string, hint: string) => `input "${name}" has shape ${has} but needs ${needs}: ${hint}`,
  shape: (name: string, has: string, needs: string) => `input "${name}" has shape ${has} but the model needs ${needs}`,
  batchSize: (name: string, size: number, others: number) => `input "${name}" has batch size ${size}, other inputs have ${others}`,
  /** Hints for `dlc run`'s JSON inputs. */
  jsonBatchHint: 'wrap one example in [ ] to make a batch of one',
  /** Hints for a generated module's tf.Tensor inputs. */
  tensorHint: (dtype: string) => ` (a ${dtype} tf.Tensor)`,
  tensorBatchHint: 'add the batch dimension, e.g. tf.expandDims(x, 0)',
  dtype: (name: string, has: string, needs: string) =>
    `input "${name}" is ${has} but the model needs ${needs}${needs === 'int32' ? ' token ids' : ''}: convert it with tf.cast(x, '${needs}')`,
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

/** Added to a weights file's problems when its metadata names another model. */
export const writtenForMessage = (madeFor: string, model: string) => `(this file was written for model '${madeFor}', not '${model}')`;
