/**
 * Every user-visible message of the runtime (src/runtime), which generated
 * TensorFlow.js modules carry and so cannot import src/diagnostics.ts. First
 * those dlc's interpreter (`dlc run`, backends/interp/io.ts and weights.ts)
 * and generated modules give about the same mistakes: inputs of the wrong
 * shape or type, and weights files that do not fit the model. One text per
 * mistake; the two differ only in the hint on how to fix it, since `dlc run`
 * reads JSON arrays and a module tf.Tensors. The interpreter's own input and
 * weights messages are here too, beside them; then the safetensors codec's
 * (safetensors.ts), which both share.
 *
 * Not here: the runtime's invariant failures (init.ts, random.ts), which are
 * not messages about a user's mistake.
 */
import { allFinite, showShape } from './tensor.js';

/** Inputs; `needs` and `has` are shapes as text, the batch shown as `batch`. */
export const inputMessages = {
  missing: (name: string, needs: string, hint: string) => `missing input "${name}" of shape ${needs}${hint}`,
  unbatched: (name: string, has: string, needs: string, hint: string) => `input "${name}" has shape ${has} but needs ${needs}: ${hint}`,
  shape: (name: string, has: string, needs: string) => `input "${name}" has shape ${has} but the model needs ${needs}`,
  batchSize: (name: string, size: number, others: number) => `input "${name}" has batch size ${size}, other inputs have ${others}`,
  /** A dimension variable (`dim`, e.g. T) with two sizes: `first` is the input that set it. */
  dimension: (dim: string, name: string, size: number, first: string, firstSize: number) =>
    `input "${name}" has ${dim} = ${size} but input "${first}" has ${dim} = ${firstSize}: every ${dim} of the model is one length`,
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
    `inputs have an unknown key ${shown(key)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; the model's inputs are ${names}`,
  batchHint: 'wrap one example in [ ] to make a batch of one',
  notFinite: (name: string, at: string, value: string) => `input "${name}"${at} must be a finite number, got ${value}`,
  /** A number JSON reads as Infinity (1e400) or that float32 cannot hold (1e39). */
  tooLarge: (name: string, at: string, value: number) =>
    `input "${name}"${at} is too large: ${Number.isFinite(value) ? value : 'a number beyond +-1.8e308'} is outside float32's range of +-3.4e38`,
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
    if (!t) problems.push(`weights file has no tensor ${shown(name)} (expected shape ${showShape(shape)})`);
    else if (t.shape.join() !== shape.join()) problems.push(`tensor ${shown(name)} has shape ${showShape(t.shape)} but the model needs ${showShape(shape)}`);
    else if (!allFinite(t.data)) problems.push(`tensor ${shown(name)} contains NaN or infinite values`);
  }
  const extra = [...tensors.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) problems.push(`weights file has tensors this model does not use: ${extra.slice(0, 5).map(shown).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
  return problems;
}

/** The interpreter's weights messages (backends/interp/weights.ts). */
export const weightMessages = {
  tooMany: (model: string, count: string, bytes: string, limit: string) =>
    `model '${model}' has ${count} parameters (${bytes} at fp32): too many to allocate (the limit is ${limit})`,
  cannotRead: (reason: string) => `cannot read: ${reason}`,
  /** Added to a weights file's problems when its metadata names another model. */
  writtenFor: (madeFor: string, model: string) => `(this file was written for model ${shown(madeFor)}, not '${model}')`,
};

/**
 * The safetensors codec's messages (safetensors.ts), one per way a file cannot
 * be written or read; each is a WeightsFileError's detail. Names, keys and
 * header values are shown as JSON, cut at 100 characters, so that a hostile
 * name cannot break a line; a wrong JSON value is named by its kind ("an array").
 */
export const safetensorsMessages = {
  // writing
  metadataNotString: (key: string, value: unknown) => `cannot write metadata ${shown(key)}: values must be strings, found ${jsonKind(value)}`,
  reservedName: (reserved: string) => `cannot write a tensor named "${reserved}": the name is reserved for metadata`,
  valueCount: (name: string, shape: readonly number[], needs: number, has: number) =>
    `cannot write tensor ${shown(name)}: shape ${showShape(shape)} needs ${needs} values but it has ${has}`,
  // reading: the file (weights/safetensors.ts)
  // reading: the length field and the header
  tooShort: (length: number) => `the file is ${length} bytes long, too short for the 8-byte header length`,
  headerTooLong: (declared: bigint, limit: number) => `header length ${declared} is larger than the limit of ${limit} bytes`,
  headerCut: (declared: number, following: number) => `header length is ${declared} bytes but only ${following} bytes follow the length field`,
  notUtf8: 'the header is not valid UTF-8',
  notJson: (reason: string) => `the header is not valid JSON (${reason})`,
  headerNotObject: (header: unknown) => `the header must be a JSON object, found ${jsonKind(header)}`,
  /** `section` is the metadata key, `__metadata__`. */
  metadataNotObject: (section: string, value: unknown) => `"${section}" must be an object of strings, found ${jsonKind(value)}`,
  metadataEntry: (section: string, key: string, value: unknown) => `"${section}" entry ${shown(key)} must be a string, found ${jsonKind(value)}`,
  // reading: one tensor's entry
  entryNotObject: (name: string, value: unknown) => `tensor ${shown(name)} must be described by an object, found ${jsonKind(value)}`,
  noDtype: (name: string, dtype: unknown) => `tensor ${shown(name)} has no "dtype" string (found ${jsonKind(dtype)})`,
  shape: (name: string, shape: unknown) => `tensor ${shown(name)} has shape ${shown(shape)}; expected a list of non-negative integers`,
  offsets: (name: string, offsets: unknown) => `tensor ${shown(name)} has "data_offsets" ${shown(offsets)}; expected [begin, end], two non-negative integers`,
  beginAfterEnd: ({ name, begin, end }: DataRange) => `tensor ${shown(name)} has data_offsets [${begin}, ${end}]: begin is after end`,
  pastData: ({ name, begin, end }: DataRange, dataLength: number) =>
    `tensor ${shown(name)} has data_offsets [${begin}, ${end}] but the data section is only ${dataLength} bytes long`,
  dtype: (name: string, dtype: string, supported: readonly string[]) => `tensor ${shown(name)} has dtype ${shown(dtype)}; supported dtypes are ${supported.join(', ')}`,
  byteCount: (name: string, bytes: number, shape: readonly number[], dtype: string, needs: number) =>
    `tensor ${shown(name)} has ${bytes} bytes of data but shape ${showShape(shape)} ${dtype} needs ${needs}`,
  // reading: the tensors together must tile the data section
  overlap: ({ name, begin, end }: DataRange, other: DataRange) =>
    `tensor ${shown(name)} has data_offsets [${begin}, ${end}], which overlaps tensor ${shown(other.name)} [${other.begin}, ${other.end}]`,
  gap: ({ name, begin, end }: DataRange, covered: number) =>
    `tensor ${shown(name)} has data_offsets [${begin}, ${end}], leaving bytes [${covered}, ${begin}) of the data section unused`,
  unusedData: (dataLength: number, used: number) => `the data section is ${dataLength} bytes long but its tensors use only ${used}`,
};

/** A tensor's name and its `data_offsets` into the data section. */
interface DataRange {
  readonly name: string;
  readonly begin: number;
  readonly end: number;
}

/**
 * A name or value from outside (a weights file, an input JSON key, a CSV
 * header) as messages show it: as JSON, so that it cannot break a line, with
 * the characters JSON leaves raw that a terminal acts on (DEL, the C1
 * controls such as U+009B, which starts an escape sequence, and bidirectional
 * overrides) escaped too; cut at 100 characters.
 */
export function shown(value: unknown): string {
  const text = (JSON.stringify(value) ?? 'missing').replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

/** Text from outside escaped as `shown` escapes it, without the quotes, for messages that quote with '...' (CSV columns and cells). */
export function escaped(text: string): string {
  const inner = shown(text.length > 100 ? text.slice(0, 100) : text).slice(1, -1);
  return text.length > 100 ? `${inner}...` : inner;
}

/** Characters a terminal or a text renderer acts on that JSON.stringify does not escape. */
const UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** How a JSON value reads in a message: "an array", "a number", ... */
function jsonKind(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'nothing';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}
