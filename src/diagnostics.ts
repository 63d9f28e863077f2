/**
 * Every user-visible text of dlc, in one place: the errors (`messages`), the
 * mistakes ops' shape rules report (`shapeRules`), the command line's help
 * (`help`) and what commands print when they succeed (`reports`); and the
 * rendering of an error as `file:line:col: error: message` plus a code frame
 * with a caret.
 *
 * Code elsewhere reports a problem by calling `messages.<kind>(...)`: located
 * ones end in a CompileError, the rest in a UserError (the CLI prints
 * `error: <message>`). A broken invariant of dlc itself is not a message: it
 * is thrown with `internal(...)`. Tests assert these texts and locations, and
 * test/messages.test.ts checks that every entry here is used.
 *
 * Not here: the layer table of `dlc summary` (src/summary.ts), the labels
 * inside the learning-curve picture (src/train/plot.ts) and the column
 * layout of `--stats` tables (src/cli.ts).
 */
import { codeFrameColumns } from '@babel/code-frame';
import pc from 'picocolors';
import type { Span } from './frontend/ast.js';
import { dimName, type Dim } from './ir/types.js';
import { escaped, shown } from './runtime/messages.js';
import type { EpochMetrics, Progress } from './train/train.js';

// ---------------------------------------------------------------- kinds of errors

export interface Diagnostic {
  code: string;
  message: string;
  span?: Span;
  hint?: string;
}

/**
 * A mistake in what the user gave us that has no source location (inputs,
 * weights files, paths, sizes): the CLI prints `error: <message>` and exits 1.
 * Given a Diagnostic, its hint follows the message on a line of its own.
 */
export class UserError extends Error {
  constructor(what: string | Diagnostic) {
    super(typeof what === 'string' ? what : what.hint ? `${what.message}\n  hint: ${what.hint}` : what.message);
  }
}

/** Thrown to abandon a phase with diagnostics already collected; never escapes the public API. */
export class CompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('\n'));
  }
}

/**
 * A broken invariant of dlc (a bug, not the user's mistake), e.g. a kernel
 * given shapes that shape inference has already ruled out. Its text is for
 * dlc's developers; the CLI prints it as `dlc: internal error: <text>`.
 */
export class InternalError extends Error {
  override name = 'InternalError';
}

/** `throw internal('why')`: marks the failure as dlc's own, not a user-facing message. */
export const internal = (what: string): InternalError => new InternalError(what);

// ---------------------------------------------------------------- shared wording

/** Plain words for the file-system errors a user can cause. */
export const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EEXIST: 'already exists',
};

export const shapeText = (shape: readonly Dim[]): string =>
  `[${shape.map((d) => (d === null ? 'batch' : typeof d === 'string' ? dimName(d) : d)).join(', ')}]`;
/** A per-example shape as users write it (without the batch dimension). */
export const exampleShape = (shape: readonly Dim[]): string => shapeText(shape.slice(1));

/** A fraction as a percentage with two decimals: 0.9612 -> `96.12%`. */
export const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** Seconds as `m:ss`, or `h:mm:ss` from an hour on. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = `${s % 60}`.padStart(2, '0');
  return h > 0 ? `${h}:${`${m}`.padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

const quoteList = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');
const didYouMean = (suggestion: string | undefined) => (suggestion ? `did you mean '${suggestion}'?` : undefined);
const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`;
/** A count in digits while they stay readable (1,000,000), in exponent form from 10^12 (1.00e+15). */
const count = (n: number) => (n < 1e12 ? n.toLocaleString('en-US') : n.toExponential(2));
/** A pixel count, in digits while they stay readable. */
const pixels = (n: number) => (n < 1e12 ? n.toLocaleString('en-US') : n.toExponential(2));
/** A size in KiB, as limits are stated: 128, or 734.9 for a size past one. */
const kib = (chars: number) => (chars % 1024 === 0 ? `${chars / 1024}` : (chars / 1024).toFixed(1));

/** What a syntax error found, quoted; a control or formatting character from the file escaped as JSON escapes it. */
const foundText = (found: string) => (found === '\n' ? "'\\n'" : /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(found) ? shown(found) : `'${found}'`);

const d = (code: string, span: Span | undefined, message: string, hint?: string): Diagnostic => ({ code, span, message, hint });

// ---------------------------------------------------------------- errors

/** Shared shapes of several training-section messages below. */
const missingSetting = (span: Span, name: string, example: string) => d('train-setting', span, `train: missing setting '${name}'`, `add e.g. '${example}'`);
const unknownChoice = (span: Span, what: string, name: string, choices: string[], suggestion?: string) =>
  d('train-setting', span, `train: unknown ${what} '${name}'`, didYouMean(suggestion) ?? `expected one of ${quoteList(choices)}`);

export const messages = {
  /** tfjs modules declare a dimension variable as a constant of that name. */
  /** A layer, or one of its settings, that has no form in standard ONNX ops (the README's op table says which). */
  noOnnxMapping: (span: Span, layer: string, op: string, what: string) =>
    d('unsupported', span, `layer '${layer}' (${op}) cannot be exported to ONNX: ${what} has no ONNX mapping`, `run it with 'dlc run', or see the op table in the README for what ONNX export covers`),
  /** A size that is an expression of a dimension variable (T - 3), which the module's templates cannot write. */
  sizeOfVariableInTfjs: (span: Span, layer: string, op: string, vars: string[]) =>
    d(
      'unsupported',
      span,
      `layer '${layer}' (${op}) cannot be written as TensorFlow.js: one of its sizes is computed from ${vars.map((v) => `'${v}'`).join(' and ')}, which the module reads only as a whole length`,
      `run it with 'dlc run', or count positions from the start so that they do not depend on the length`,
    ),
  // ---- Reading files (files.ts): each follows "cannot read 'PATH': ".
  fileTooLarge: (bytes: number, limit: string) => `it is ${bytes.toLocaleString('en-US')} bytes; the limit is ${limit}`,
  /** Standard input is read until it passes the limit, so its whole size is not known. */
  streamTooLarge: (limit: string) => `it is larger than the limit, ${limit}`,
  fileGrew: (limit: string) => `it grew past the limit of ${limit} while being read`,
  fileShrank: (bytes: number) => `it was ${bytes.toLocaleString('en-US')} bytes when opened, and ended sooner while being read`,
  /** A graph specialized to its inputs' lengths (infer.ts's specialize) where a layer cannot take them. */
  specializedLayer: (layer: string, op: string, sizes: string, problem: string) => `layer '${layer}' (${op}) at ${sizes}: ${problem}`,
  // ---- Syntax and names.
  syntax: (span: Span, expected: string, found: string) =>
    d('syntax', span, `syntax error: expected ${expected}${found ? `, found ${foundText(found)}` : ' at end of file'}`),
  sourceTooLarge: (span: Span, limit: number) =>
    d('limit', span, `this file is longer than dlc reads: the limit is ${(limit / 2 ** 20).toFixed(0)} MiB of text`, 'split the models into several files'),
  pieceTooLarge: (span: Span, chars: number, limit: number, whole: boolean) =>
    d(
      'limit',
      span,
      whole
        ? `this declaration is ${kib(chars)} KiB and could not be cut into statements (a bracket or brace out of place): dlc parses at most ${kib(limit)} KiB in one piece`
        : `this statement, or this stage of its '->' chain, is ${kib(chars)} KiB: one may be at most ${kib(limit)} KiB`,
      whole ? 'check the brackets and braces of this declaration' : 'split it over several lines with names, or load large constants from a weights file',
    ),
  nestingTooDeep: (span: Span, limit: number) =>
    d('limit', span, `expressions nest more than ${limit} deep here (brackets, calls, signs and '**' open at once)`, 'name the inner parts with separate lines'),
  blocksTooDeep: (span: Span, limit: number, chain: string[]) =>
    d('limit', span, `blocks call blocks more than ${limit} deep: ${chain.length > 6 ? [...chain.slice(0, 3), '...', ...chain.slice(-2)].join(' -> ') : chain.join(' -> ')}`),
  valuesTooDeep: (span: Span, limit: number) =>
    d('limit', span, `values depend on values more than ${limit} deep while checking this line`, 'name fewer intermediate values, or chain them with ->'),
  tooDeepToCheck: (span: Span, model: string) =>
    d('limit', span, `model '${model}' nests blocks, values and expressions too deeply to check`, 'flatten the deepest block calls or expressions'),
  graphTooLarge: (span: Span, limit: number, would: string) =>
    d('limit', span, `the model would have ${would} layers; the limit is ${limit.toLocaleString('en-US')}`),
  unknownOp: (span: Span, name: string, suggestion?: string) => d('unknown-op', span, `unknown op or block '${name}'`, didYouMean(suggestion)),
  /** Keras's name for a layer that dlc calls `op`. */
  kerasName: (span: Span, name: string, op: string) => d('unknown-op', span, `unknown op or block '${name}'`, `dlc calls Keras's ${name} '${op}'`),
  /** A layer dlc does not have; `ops` are its ops of the same family, nearest in meaning. */
  notAnOpYet: (span: Span, name: string, family: string, ops: string[]) =>
    d('unknown-op', span, `'${name}' is not an op dlc has`, `the ${family} ops it has: ${ops.join(', ')}`),
  unknownName: (span: Span, name: string, suggestion?: string) =>
    d('unknown-name', span, `'${name}' is not defined`, didYouMean(suggestion)),
  unknownArg: (span: Span, op: string, arg: string, known: string[], suggestion?: string) =>
    d('unknown-arg', span, `${op}: unknown argument '${arg}'`, didYouMean(suggestion) ?? `${op} takes ${quoteList(known)}`),
  duplicateArg: (span: Span, op: string, arg: string) => d('duplicate-arg', span, `${op}: argument '${arg}' is given twice`),
  missingArg: (span: Span, op: string, arg: string) => d('missing-arg', span, `${op}: missing required argument '${arg}'`),
  tooManyArgs: (span: Span, op: string, max: number) => d('too-many-args', span, `${op}: too many positional arguments (at most ${max})`),
  argType: (span: Span, op: string, arg: string, expected: string, found: string) =>
    d('arg-type', span, `${op}: argument '${arg}' must be ${expected}, got ${found}`),
  argChoice: (span: Span, op: string, arg: string, value: string, choices: string[], suggestion?: string) =>
    d('arg-type', span, `${op}: argument '${arg}' must be one of ${quoteList(choices)}, got '${value}'`, didYouMean(suggestion)),
  inputCount: (span: Span, op: string, expected: string, found: number) =>
    d('input-count', span, `${op}: expects ${expected}, got ${found}`),
  inputAfterAttr: (span: Span, op: string) =>
    d('arg-order', span, `${op}: tensor inputs must come before other arguments`),
  notAValue: (span: Span, what: string) => d('not-a-value', span, `expected a tensor value, got ${what}`),
  notAConstant: (span: Span, what: string) => d('not-a-constant', span, `expected a constant, got ${what}`),
  notAStage: (span: Span, what: string) =>
    d('not-a-stage', span, `the right side of '->' must be an op or block call, got ${what}`),
  redefined: (span: Span, name: string, previous: Span) =>
    d('redefined', span, `'${name}' is already defined (at line ${lineCol(previous).line})`),
  layerNameReused: (span: Span, name: string) => d('redefined', span, `layer name '${name}' is already used`),
  sharedLayerArgs: (span: Span, name: string) =>
    d('shared-layer', span, `${name} is a layer already made: it takes only tensor inputs`, `its other arguments are those of its first call; for a layer of its own, call the op or block again`),
  asShared: (span: Span, name: string, layer: string) =>
    d('not-a-layer', span, `'as ${name}' cannot rename the shared layer '${layer}'`, `every use of a shared layer is '${layer}': leave out 'as ${name}'`),
  unknownLayer: (span: Span, name: string, suggestion?: string) =>
    d('undefined', span, `no layer named '${name}' before this line`, didYouMean(suggestion) ?? "name the layer with 'as', e.g. 'embedding(50257, 768) as wte', upstream of this one"),
  asNotACall: (span: Span, name: string, what: string) =>
    d('not-a-layer', span, `'as ${name}' names the layer of an op or block call, got ${what}`),
  asRepeat: (span: Span, name: string) =>
    d('not-a-layer', span, `'as ${name}' cannot name repeat(...), which makes several layers`, 'name a layer inside the repeated block: each copy prefixes it with its instance'),

  // ---- Structure.
  noModel: (span: Span) => d('no-model', span, 'no model in this file', "declare one with 'model Name { ... }'"),
  unknownModel: (name: string, models: string[], suggestion?: string) =>
    d('unknown-model', undefined, `no model named '${name}' (models: ${models.join(', ') || 'none'})`, didYouMean(suggestion)),
  missingInput: (span: Span, model: string) => d('missing-input', span, `model '${model}' has no input`, "add 'input x: [shape]'"),
  missingOutput: (span: Span, where: string) => d('missing-output', span, `${where} has no output`, "add 'output y = ...'"),
  blockOutputCount: (span: Span, block: string) => d('block-output', span, `block '${block}' must have exactly one output`),
  inputShapeRequired: (span: Span, name: string) =>
    d('input-shape', span, `model input '${name}' needs a shape, e.g. 'input ${name}: [28, 28, 1]'`),
  inputShapeInBlock: (span: Span, name: string) =>
    d('input-shape', span, `block input '${name}' takes its shape from the call site; remove the shape`),
  badShape: (span: Span, what: string) => d('bad-shape', span, `a shape must be a list of positive whole numbers, got ${what}`),
  shapeTooLarge: (span: Span, dims: number[]) =>
    d('bad-shape', span, `shape [${dims.join(', ')}] is too large: an example may hold at most 2^53 - 1 values`, 'a shape this size cannot be allocated or counted exactly; check the numbers'),
  recursiveBlock: (span: Span, chain: string[]) => d('recursion', span, `block '${chain[0]}' calls itself: ${chain.join(' -> ')}`),
  cycle: (span: Span, names: string[]) =>
    d('cycle', span, `'${names[0]}' depends on itself: ${names.join(' -> ')}`),
  blockArgCount: (span: Span, block: string, expected: number, found: number) =>
    d('input-count', span, `block '${block}' takes ${expected} tensor input${expected === 1 ? '' : 's'}, got ${found}`),
  repeatUsage: (span: Span) => d('repeat', span, "repeat(n, call) takes a positive whole count and one op or block call, e.g. 'repeat(3, residual(16))'"),
  constEval: (span: Span, message: string) => d('const-eval', span, message),
  notInteger: (span: Span, op: string, arg: string, value: number) =>
    d('not-integer', span, `${op}: argument '${arg}' must be a whole number, got ${value}`),
  wholeTooLarge: (span: Span, op: string, arg: string, value: number) =>
    d('not-integer', span, `${op}: argument '${arg}' is ${value}, too large to be exact: whole numbers must be below 2^53`, 'a double holds whole numbers exactly only up to 9007199254740991'),
  notPositive: (span: Span, op: string, arg: string, value: number) =>
    d('not-positive', span, `${op}: argument '${arg}' must be positive, got ${value}`),
  outOfRange: (span: Span, op: string, arg: string, value: number, range: string) =>
    d('out-of-range', span, `${op}: argument '${arg}' must be ${range}, got ${value}`),
  trainForUnknownModel: (span: Span, name: string, suggestion?: string) =>
    d('unknown-model', span, `train section for unknown model '${name}'`, didYouMean(suggestion)),

  // ---- Shapes: every shape message names the op and the shapes involved.
  shape: (span: Span, op: string, message: string, hint?: string) => d('shape', span, `${op}: ${message}`, hint),
  wrappedValues: (span: Span, wrapper: string, inner: string, arg: string) =>
    d('argument', span, `${inner} inside ${wrapper} cannot take ${arg}: ${wrapper} takes it for both directions`, `give it to ${wrapper}: x -> ${wrapper}(${inner}(...), ${arg} = [...])`),
  tupleAsValue: (span: Span, op: string, parts: number) =>
    d('shape', span, `${op}: returns ${plural(parts, 'result')} (return_state = true), which cannot be used as one value`, `name them: out, ${parts === 2 ? 'h' : parts === 3 ? 'h, c' : '...'} = x -> ${op}(...)`),
  intInput: (span: Span, op: string) =>
    d('dtype', span, `${op}: integer input is only accepted by embedding`, "feed integer tokens through 'embedding(vocab = ..., dim = ...)' first"),
  /** `mask =` given a value that is not one of the model's inputs (attention's explicit mask). */
  maskNotInput: (span: Span, op: string, what: string) =>
    d('mask', span, `${op}: 'mask' must name a model input, got ${what}`, "declare the mask as an input, e.g. 'input padding: [128] int' (1 = attend, 0 = padding), and pass 'mask = padding'"),
  maskNotTaken: (span: Span, op: string) =>
    d('mask', span, `${op} takes no 'mask' argument`, "only attention takes an explicit mask; a padding mask from 'embedding(..., mask_zero = true)' reaches recurrent layers, attention and global_avgpool by itself"),

  // ---- Files.
  readFile: (path: string, reason: string) => d('io', undefined, `cannot read '${path}': ${reason}`),
  writeFile: (path: string, reason: string) => d('io', undefined, `cannot write '${path}': ${reason}`),
  /** The playground (src/platform/browser-files.ts) has no file system: its sources, inputs and weights live in the page. */
  noFilesInBrowser: (what: string) => d('io', undefined, `${what}: the playground has no files`, 'paste the text into the page, or use the dlc command line'),
  noPlatformFeature: (what: string) => d('platform', undefined, `${what} is not available in the browser`, 'use the dlc command line'),
  pngTooLarge: (width: number, height: number, limit: number, largestScale: number) =>
    d('render-size', undefined, `the PNG would be ${pixels(width)} x ${pixels(height)} pixels, more than ${limit.toLocaleString('en-US')} in all`, `use --scale ${Math.floor(largestScale * 100) / 100} or less, or write .svg`),
  pngTooSmall: (scale: number, smallestScale: number) =>
    d('render-size', undefined, `--scale ${scale} would make the PNG less than 1 pixel across`, `use --scale ${Math.ceil(smallestScale * 100) / 100} or more`),
  pageTooLarge: (format: string, width: number, height: number, limit: number) =>
    d('render-size', undefined, `the ${format} would be ${pixels(Math.ceil(width))} x ${pixels(Math.ceil(height))} pt; a page can be at most ${pixels(limit)} pt (${limit / 72} in) on each side`, 'draw fewer nodes (--detail blocks), turn the diagram (--direction TB), or write .svg'),
  scaleNotPng: (output: string) => d('usage', undefined, `--scale sets a PNG's pixels, but '${output}' is not a PNG`, 'scale a vector picture where you place it'),
  tikzBodyNotTex: (output: string) => d('usage', undefined, `--tikz-body needs a .tex output, got '${output}'`),
  plotExtension: (output: string) => d('usage', undefined, `--plot must end in .svg, .png or .pdf, got '${output}'`),
  plotDrawer: (output: string, format: string) => d('usage', undefined, `--plot '${output}': trainCommand draws ${format.toUpperCase()} curves only with options.drawCurves`, 'pass drawCurves, or write .svg'),
  outputCollides: (flag: string, path: string, what: string, other: string) =>
    d('io', undefined, `${flag} '${path}' would replace ${what} '${other}'`, 'write each output to its own new path'),
  /** An error the operating system raised on a path the user gave (the CLI's last resort). */
  fileAccess: (path: string, reason: string) => d('io', undefined, `cannot access '${path}': ${reason}`),
  notJson: (path: string, reason: string) => d('io', undefined, `${path}: not valid JSON (${reason})`),

  // ---- The command line (src/cli.ts): flags it cannot use.
  unknownTarget: (target: string) => d('usage', undefined, `unknown --target '${target}' (targets: tfjs, onnx)`),
  weightsNeedOnnx: () => d('usage', undefined, '--weights and --seed choose the weights an ONNX export carries: use them with --target onnx'),
  unknownEmit: (emit: string) => d('usage', undefined, `unknown --emit '${emit}' (expected: ir)`),
  targetAndEmit: () => d('usage', undefined, 'give either --target tfjs or --emit ir, not both'),
  targetNeedsOutput: (target: string) => d('usage', undefined, `--target ${target} needs -o ${target === 'onnx' ? 'FILE.onnx' : 'FILE.ts'}`),
  unknownPass: (pass: string, passes: string[]) => d('usage', undefined, `unknown pass '${pass}' (passes: ${passes.join(', ')})`),
  diagramExtension: (output: string) => d('usage', undefined, `-o must end in .svg, .png, .pdf, .tex or .dot, got '${output}'`),
  flagChoice: (flag: string, value: string, choices: readonly string[]) =>
    d('usage', undefined, `--${flag} must be one of ${choices.join(', ')}, got '${value}'`),
  kernelsChoice: (value: string) => d('usage', undefined, `--kernels must be auto, wasm or js, got '${value}'`),
  optLevel: (text: string) => d('usage', undefined, `--opt must be 0 or 1, got '${text}'`),
  seedValue: (text: string) => d('usage', undefined, `--seed must be a whole number >= 0, got '${text}'`),
  countValue: (text: string) => d('usage', undefined, `expected a whole number >= 1, got '${text}'`),
  positiveValue: (text: string) => d('usage', undefined, `expected a positive number, got '${text}'`),
  fmtWriteAndCheck: () => d('usage', undefined, 'give either --write or --check, not both'),
  fmtStdinAlone: () => d('usage', undefined, "'-' (standard input) cannot be given with other files"),
  fmtWriteStdin: () => d('usage', undefined, "--write cannot rewrite standard input: without it, dlc fmt - prints the formatted text"),
  fmtSeveralToStdout: (n: number) => d('usage', undefined, `${n} files given: use --write to format them in place or --check to list the unformatted ones (without either, dlc fmt prints one file)`),
  fmtCheckFailed: (n: number) => d('fmt', undefined, `${plural(n, 'file is', 'files are')} not formatted: run 'dlc fmt --write' on ${n === 1 ? 'it' : 'them'}`),

  // ---- Diagrams (src/backends/dot/): requests a view cannot draw.
  diagramOption: (name: string, given: string, expected: readonly string[]) =>
    d('diagram', undefined, `unknown diagram ${name} '${given}' (expected ${expected.join(', ')})`),
  diagramCollapsed: (model: string, target: string, layersText: string, aimText: string, minText: string, view: string, viewText: string, enough: boolean) =>
    d(
      'diagram',
      undefined,
      `note: ${model}'s layer view fitted to ${target} would have about ${layersText} text, under the ${aimText} aimed for (${minText} at least, with room for the estimate's error): drawing the ${view === 'blocks' ? 'block view (repeats collapsed)' : 'outline (a node per block)'} instead, at about ${viewText}${enough ? '' : ', the largest any view allows'}; --detail layers draws every layer`,
    ),
  unrollCount: (k: number) => d('diagram', undefined, `unroll needs a whole number of steps from 1 to 50, got ${k}`),
  unrollNeedsRecurrent: (model: string) =>
    d('diagram', undefined, `the unrolled view draws a recurrent layer (rnn, lstm, gru or bidirectional), but model '${model}' has none`),
  unrollNeedsOneRecurrent: (model: string, layers: string[]) =>
    d('diagram', undefined, `the unrolled view draws one recurrent layer, but model '${model}' has ${layers.length}: ${quoteList(layers)}`),
  neuronsInputCount: (model: string, n: number) => notADenseChain(model, `has ${n} inputs`),
  neuronsOutputCount: (model: string, n: number) => notADenseChain(model, `has ${n} outputs`),
  neuronsInputNotVector: (model: string, input: string, shape: readonly Dim[]) =>
    notADenseChain(model, `has input '${input}' of shape ${exampleShape(shape)}, not a vector`),
  neuronsBranch: (model: string, layer: string) => notADenseChain(model, `branches at layer '${layer}'`),
  neuronsLayer: (model: string, op: string, layer: string) => notADenseChain(model, `has a ${op} layer ('${layer}')`),
  neuronsNoDense: (model: string) => notADenseChain(model, 'has no dense layer'),
  neuronsLastLayer: (model: string) => notADenseChain(model, 'does not output its last layer'),
  /** Graphviz reported errors on DOT that dlc generated (so a bug of dlc's, but Graphviz's words are the useful part). */
  graphvizErrors: (errors: string[]) => d('graphviz', undefined, errors.join('\n') || 'Graphviz failed without a message'),
  graphvizCrashed: (reason: string) => d('graphviz', undefined, `Graphviz crashed: ${reason}`),
  graphvizExited: (code: number) => d('graphviz', undefined, `Graphviz stopped unexpectedly (exit code ${code})`),
  graphvizTimeout: (seconds: number) => d('graphviz', undefined, `Graphviz did not finish within ${seconds} s`),

  // ---- Running a model (src/backends/interp/): inputs the interpreter cannot use.
  tokenOutOfRange: (id: number, position: number, vocab: number) =>
    d('input', undefined, `embedding: id ${id} at position ${position} is not a whole number in [0, ${vocab})`),
  /**
   * A run over the memory budget (backends/interp/plan.ts checkMemory), before
   * it allocates: `parts` name each kind of buffer and its size, `gigabytes`
   * is the need rounded up, for the flag that would allow it.
   */
  memoryLimit: (what: string, need: string, parts: string[], limit: string, hint: string, gigabytes: number, machine: string) =>
    d(
      'memory',
      undefined,
      `${what} needs ${need} (${parts.join(', ')}), more than the memory limit of ${limit}`,
      `${hint}, or raise the limit with --max-memory ${gigabytes}G (this machine has ${machine})`,
    ),
  /** What checkMemory's message says needs the memory, and how to need less. */
  runningModel: (model: string, batch: number) => `running model '${model}' at batch ${batch}`,
  smallerBatch: 'give fewer examples at once',
  initialisingModel: (model: string) => `initialising model '${model}'`,
  smallerModel: 'use fewer or smaller layers',
  trainingModel: (model: string, batch: number) => `training model '${model}' with batch ${batch}`,
  smallerTrainBatch: "use a smaller 'batch' in the train section",
  memoryValue: (text: string) => d('usage', undefined, `--max-memory must be a size such as 512M, 2G or 1.5G, got '${text}'`),
  /** A layer refused the data of one of the user's inputs; `message` says why. */
  layerInput: (input: string, layer: string, message: string) => d('input', undefined, `'${input}' -> layer '${layer}': ${message}`),

  // ---- Training (src/train/): the `train` section, its data, and the training run.
  noTrainSection: (span: Span, model: string) =>
    d('train', span, `model '${model}' has no train section`, `add one, e.g. 'train ${model} { data = mnist()  loss = crossentropy  optimizer = adam() }'`),
  duplicateTrain: (span: Span, model: string, previous: Span) =>
    d('train', span, `model '${model}' already has a train section (at line ${lineCol(previous).line})`),
  unknownSetting: (span: Span, name: string, known: string[], suggestion?: string) =>
    d('train-setting', span, `train: unknown setting '${name}'`, didYouMean(suggestion) ?? `settings are ${quoteList(known)}`),
  duplicateSetting: (span: Span, name: string, previous: Span) =>
    d('train-setting', span, `train: setting '${name}' is already given (at line ${lineCol(previous).line})`),
  settingType: (span: Span, name: string, expected: string, found: string) =>
    d('train-setting', span, `train: '${name}' must be ${expected}, got ${found}`),
  nothingToTrain: (span: Span, model: string) =>
    d('train', span, `model '${model}' has nothing to train: it has no weights`, 'training needs a layer with parameters, such as dense or conv2d'),
  trainSignature: (span: Span, model: string, inputs: number, outputs: number) =>
    d('train', span, `training needs a model with one input and one output; '${model}' has ${inputs} input${inputs === 1 ? '' : 's'} and ${outputs} output${outputs === 1 ? '' : 's'}`),
  dataDoesNotFit: (span: Span, message: string, hint?: string) => d('train-data', span, message, hint),
  /** Column names and cells come from the file: escaped as JSON escapes them (runtime/messages.ts), never raw. */
  csvNoColumn: (span: Span, file: string, column: string, columns: string[], suggestion?: string) =>
    d('train-data', span, `csv: '${file}' has no column '${escaped(column)}' (columns: ${columns.map(escaped).join(', ')})`, didYouMean(suggestion && escaped(suggestion))),
  csvProblem: (file: string, line: number, column: string | undefined, message: string) =>
    d('train-data', undefined, `${file}, line ${line}${column === undefined ? '' : `, column '${escaped(column)}'`}: ${message}`),
  csvNotANumber: (cell: string) => `'${escaped(cell)}' is not a number`,
  /** A step made the loss (a number) or a weight (its name) NaN or infinite. */
  diverged: (epoch: number, batch: number, batches: number, culprit: { loss: number } | { weight: string }, lr: number) =>
    d(
      'diverged',
      undefined,
      `training stopped in epoch ${epoch} at batch ${batch}/${batches}: ${
        'loss' in culprit ? `the loss became ${Number.isNaN(culprit.loss) ? 'NaN' : 'infinite'}` : `weight '${culprit.weight}' became NaN or infinite`
      }; the weights of the last step with a finite loss were kept`,
      `the learning rate is probably too high: try 'lr = ${+(lr / 10).toPrecision(3)}' (now ${lr})`,
    ),

  // Constant expressions (src/ir/constants.ts).
  arithmeticOnTensors: (span: Span) => d('const-eval', span, 'arithmetic works on constants; combine tensors with an op, e.g. add(a, b)'),
  /** `found`: one description per operand, e.g. ['the number 3', 'the string "x"']. */
  arithmeticOperands: (span: Span, op: string, found: string[]) =>
    d('const-eval', span, `'${op}' needs ${found.length === 1 ? 'a number' : 'numbers'}, got ${found.join(' and ')}`),

  // Training sections (src/train/config.ts): what each setting takes.
  missingData: (span: Span): Diagnostic => missingSetting(span, 'data', 'data = mnist(train = 8000, test = 2000)'),
  missingLoss: (span: Span): Diagnostic => missingSetting(span, 'loss', 'loss = crossentropy'),
  notADataSource: (span: Span, found: string): Diagnostic => messages.settingType(span, 'data', 'a data source such as mnist() or csv("file.csv")', found),
  notALoss: (span: Span, found: string): Diagnostic => messages.settingType(span, 'loss', 'a loss name such as crossentropy', found),
  notAnOptimizer: (span: Span, found: string): Diagnostic => messages.settingType(span, 'optimizer', 'an optimizer such as sgd(lr = 0.01) or adam()', found),
  unknownDataSource: (span: Span, name: string, choices: string[]): Diagnostic => unknownChoice(span, 'data source', name, choices, suggest(name, choices)),
  unknownLoss: (span: Span, name: string, choices: string[]): Diagnostic => unknownChoice(span, 'loss', name, choices, suggest(name, choices)),
  unknownOptimizer: (span: Span, name: string, choices: string[]): Diagnostic => unknownChoice(span, 'optimizer', name, choices, suggest(name, choices)),
  tooManyDigits: (span: Span, asked: number, available: number): Diagnostic =>
    messages.outOfRange(span, 'mnist', 'train + test', asked, `at most ${available} (the digits in the mnist package)`),
  /** A generated data set over MAX_DATA_VALUES (train/config.ts): `most` is the largest n that fits. */
  tooMuchData: (span: Span, source: string, n: number, values: number, most: number, limit: number): Diagnostic =>
    d(
      'data-size',
      span,
      `${source}: n = ${count(n)} makes ${count(values)} values, more than the ${count(limit)} a data set may hold in memory`,
      `use n = ${count(most)} or less`,
    ),
  notASettingValue: (span: Span) => d('const-eval', span, 'expected a number, a string, a name or a call such as sgd(lr = 0.01), got a layer expression'),
  // ---- The language server (src/service, src/lsp).
  /** The checker threw on a document (a bug in dlc): the editor shows this instead of the server failing. */
  checkCrashed: (what: string) => d('internal', undefined, `dlc failed while checking this file (a bug in dlc, please report it): ${what}`),
  renameNotAName: (name: string) => `'${name}' cannot be a name: names are letters, digits and '_', do not start with a digit, and are not keywords`,
  renameToOp: (name: string) => `'${name}' is an op's name`,
  renameTaken: (name: string) => `'${name}' is already defined here`,
  /** JSON-RPC's answers to a message that is not JSON, or not a JSON-RPC message. */
  rpcParseError: (what: string) => `parse error: ${what}`,
  rpcInvalidRequest: () => 'invalid request: not a JSON-RPC 2.0 request, notification or response',
};

function notADenseChain(model: string, why: string): Diagnostic {
  return d(
    'diagram',
    undefined,
    `the neuron view draws a chain of dense layers (one vector input -> dense, activation or dropout layers -> one output), but model '${model}' ${why}`,
  );
}

// ---------------------------------------------------------------- shape rules

/**
 * One mistake an op's shape rule reports (src/ops/<op>.ts calls
 * `ctx.fail(shapeRules.<mistake>(...))`): the text after `<op>: `.
 * src/ir/infer.ts adds the op's name and the node's location (`messages.shape`).
 */
export interface ShapeMistake {
  message: string;
  hint?: string;
}

const mistake = (message: string, hint?: string): ShapeMistake => ({ message, hint });
/** The greatest common divisor of two whole numbers (Euclid). */
const gcd = (a: number, b: number): number => {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
};
/** The whole numbers dividing both a and b, ascending: the divisors of their gcd, by trial up to its square root. */
const commonDivisors = (a: number, b: number) => {
  const g = gcd(a, b);
  const small: number[] = [], large: number[] = [];
  for (let k = 1; k * k <= g; k++) if (g % k === 0) small.push(k), k * k !== g && large.unshift(g / k);
  return [...small, ...large];
};
/** Common divisors are listed while their trial division is quick (a gcd of 2^20 takes 1,024 steps; one of 2^53 would take 95 million). */
const LISTED_GCD = 2 ** 20;
/** An input of the wrong rank: `what` says the shapes the op takes. */
const expects = (what: string, got: readonly Dim[], hint?: string) => mistake(`expects ${what}, got ${shapeText(got)}`, hint);
const badAxis = (given: number, isBatch: boolean, inputs: string, got: readonly Dim[]) =>
  `axis ${given} is ${isBatch ? 'the batch dimension' : 'out of range'} for ${inputs} ${shapeText(got)}`;

/**
 * Every mistake a shape rule reports, grouped by op. Shapes are per example
 * (without the batch dimension), as users write them: `got` is the input's.
 */
/** ONNX Runtime as an engine (backends/onnx/ort.ts). */
export const ortMessages = {
  missing: () =>
    "--engine ort needs the package onnxruntime-node, which is not installed: run 'npm install onnxruntime-node' (its CPU library is in the package), or use --engine interp",
  broken: (reason: string) => `--engine ort: onnxruntime-node is installed but does not load (${reason}); reinstall it, or use --engine interp`,
  refused: (model: string, reason: string) => `ONNX Runtime refused the exported model '${model}': ${reason}`,
  failed: (model: string, reason: string) => `ONNX Runtime failed to run '${model}': ${reason}`,
  unknownEngine: (engine: string) => `unknown --engine '${engine}' (engines: interp, ort)`,
};

export const shapeRules = {
  // ---- Any op (src/ops/op.ts).
  listLength: (name: string, entries: number, rank: number) =>
    mistake(`'${name}' has ${entries} entries but the input has ${plural(rank, 'spatial dimension')}`),

  /** An output or weight whose element count is not exact in a double (src/ir/infer.ts checkSizes). */
  tooLarge: (what: string, shape: readonly number[]) =>
    mistake(
      `${what} would be [${shape.join(', ')}]: at most 2^53 - 1 values fit in a tensor`,
      'a tensor this size cannot be allocated or counted exactly; check the sizes and factors of this layer and the ones before it',
    ),

  // ---- Dimension variables (src/ir/infer.ts), for any op.
  /** `what` depends on the variables `vars` (already as users read them) in a way no single variable names; `windowed`: the op is a conv or pool. */
  symbolicDim: (what: string, vars: string[], windowed: boolean) =>
    mistake(
      `a symbolic dimension used where a fixed one is needed: ${what} would depend on ${vars.join(' and ')}`,
      `give ${vars[0]} a fixed size in the input's shape, or reduce over it first (global_avgpool, mean(axis = 1))` +
        (windowed ? '; a conv or pool keeps a symbolic length only with padding = same and stride = 1' : ''),
    ),
  /** Appended to a mistake between anonymous dimensions: each None is a dimension of its own. */
  anonymousHint: 'each None is a dimension of its own: give the dimensions that must agree one name, e.g. \'input x: [T, 64]\'',

  // ---- dense, conv1d/conv2d, pools, positional, rnn/lstm, attention: inputs of the wrong rank.
  denseInput: (got: readonly Dim[]) => expects('a [features] or [steps, features] input', got, 'insert flatten before dense'),
  convInput: (rank: 1 | 2, got: readonly Dim[]) =>
    rank === 1
      ? expects('a [steps, channels] input', got)
      : expects('a [height, width, channels] input', got, 'conv2d needs an image: reshape to [height, width, channels]'),
  /** Pools, padding and cropping: 1-D or 2-D by the input's rank. */
  spatialInput: (got: readonly Dim[]) => expects('a [steps, channels] or [height, width, channels] input', got),
  positionalLength: () =>
    mistake('a symbolic dimension used where a fixed one is needed: a learned position table needs a fixed number of rows', "give the longest sequence it takes, e.g. 'positional(learned, max_len = 512)' (Keras-NLP's sequence_length)"),
  positionalInput: (got: readonly Dim[]) => expects('a [steps, width] sequence', got, "embed tokens first, e.g. 'embedding(vocab = ..., dim = ...)'"),
  positionalTooLong: (steps: number, maxLen: number) =>
    mistake(`the sequence has ${steps} steps but the table holds max_len = ${maxLen} positions`, `give max_len = ${steps} or more, or a shorter input`),
  recurrentInput: (got: readonly Dim[]) =>
    expects('a [steps, features] sequence', got, 'a recurrent layer reads a sequence: reshape or embed the input first'),
  repeatVectorInput: (got: readonly Dim[]) => expects('a [features] vector', got, 'repeat_vector repeats one vector per example: take the last step first, e.g. lstm(n) without sequences'),
  attentionInput: (got: readonly Dim[]) => expects('[steps, width] sequences', got, 'embed or reshape the input to [steps, width] first'),

  // ---- attention (src/ops/attention.ts).
  keyValueSteps: (key: readonly Dim[], value: readonly Dim[]) =>
    mistake(`key ${shapeText(key)} and value ${shapeText(value)} must have the same number of steps`),
  causalLengths: () => mistake('a causal mask needs query and value of the same length'),
  attentionMaskShape: (got: readonly Dim[], T: number, S: number) =>
    mistake(
      `mask ${shapeText(got)} fits neither [${T}, ${S}] (query steps x value steps, Keras's attention_mask) nor [${S}] (one flag per value step)`,
      `give the mask input the shape [${S}] for key padding or [${T}, ${S}] for a full mask; 0 hides a step, any other value attends`,
    ),

  // ---- a shared layer applied again (src/ir/infer.ts).
  sharedWeights: (layer: string, param: string, first: readonly number[], here: readonly number[], line: number) =>
    mistake(
      `the shared layer '${layer}' has ${param} ${shapeText(first)} (from its first use, line ${line}); this input would need ${shapeText(here)}`,
      'every use of a shared layer applies the same weights: give it inputs of the same width',
    ),

  // ---- dense tied to an embedding (src/ops/dense.ts).
  tieNotEmbedding: (layer: string, op: string) =>
    mistake(`tie = ${layer} names a ${op} layer, not an embedding`, 'tie a head to the embedding whose table it reuses (GPT-2: logits = h x wte^T)'),
  tiedWidth: (layer: string, dim: number, width: number) =>
    mistake(`tie = ${layer} reuses a table of ${dim}-wide vectors, but the input is ${width} wide`, `project the input to ${dim} first, or tie to an embedding of dim ${width}`),
  tiedUnits: (layer: string, vocab: number, units: number) =>
    mistake(`tie = ${layer} has ${vocab} tokens, so the head has ${vocab} units, not ${units}`, `write dense(${vocab}, ...)`),

  // ---- relu, softmax (src/ops/activations.ts).
  negativeMaxValue: (given: number) =>
    mistake(`max_value ${given} is negative`, 'max_value caps the output from above: give a number >= 0, or leave it out for no cap'),
  softmaxAxis: (given: number, isBatch: boolean, got: readonly Dim[]) =>
    mistake(badAxis(given, isBatch, 'input', got), `use an axis from 1 to ${got.length}, or -1 for the last`),

  // ---- batchnorm (src/ops/batchnorm.ts).
  batchnormAxis: (given: number, isBatch: boolean, got: readonly Dim[]) =>
    mistake(badAxis(given, isBatch, 'input', got), `use an axis from 1 to ${got.length}, or -1 for the channels`),

  // ---- conv1d, conv2d (src/ops/conv.ts): the kernel, given as a size or as fixed weights.
  kernelSizeNotPositive: (window: readonly number[]) => mistake(`kernel size [${window.join(', ')}] must be positive whole numbers`),
  fixedKernelOneChannel: (kernel: readonly number[], channels: number) =>
    mistake(
      `a fixed ${kernel.join('x')} kernel filters a 1-channel input, but the input has ${channels} channels`,
      `give the kernel as a [${kernel.join(', ')}, ${channels}, filters] tensor`,
    ),
  fixedKernelChannels: (kernel: readonly number[], expected: number, channels: number) =>
    mistake(`fixed kernel [${kernel.join(', ')}] expects ${expected} input channels, the input has ${channels}`),
  fixedKernelRank: (rank: number, kernel: readonly number[]) =>
    mistake(`a fixed kernel must have ${rank} or ${rank + 2} dimensions, got [${kernel.join(', ')}]`),
  filtersDisagree: (given: number, fixed: number) => mistake(`filters = ${given} but the fixed kernel has ${fixed}`),
  /** Keras's rule: both the input channels and the filters split into `groups` equal blocks. */
  groupsNotDividing: (channels: number, filters: number, groups: number) =>
    mistake(
      `groups = ${groups} must divide both the input channels (${channels}) and the filters (${filters})`,
      gcd(channels, filters) <= LISTED_GCD
        ? `use one of their common divisors: ${commonDivisors(channels, filters).join(', ')}`
        : `use a divisor of their greatest common divisor, ${gcd(channels, filters)}`,
    ),
  missingFilters: () => mistake("missing required argument 'filters'"),
  /** The window spans `dilation * (k - 1) + 1` input positions per axis. */
  kernelLargerThanInput: (window: readonly number[], dilation: readonly number[], got: readonly Dim[]) =>
    mistake(
      `kernel ${window.join('x')}${
        dilation.some((d) => d > 1) ? ` (dilated to ${window.map((k, i) => dilation[i] * (k - 1) + 1).join('x')})` : ''
      } is larger than the input ${shapeText(got)}`,
      'use a smaller kernel or padding = same',
    ),

  // ---- conv1d_transpose, conv2d_transpose (src/ops/conv_transpose.ts).
  outputPaddingNotBelowStride: (outputPadding: readonly number[], stride: readonly number[]) =>
    mistake(
      `output_padding ${outputPadding.join('x')} must be smaller than the stride ${stride.join('x')} on every axis`,
      'output_padding only picks among the sizes a stride can round to: lower it, or leave it out',
    ),
  /** Keras's size rule, (L - 1) * stride + kernel - 2 * pad + output_padding, came out below 1. */
  transposeOutputNotPositive: (out: readonly number[], got: readonly Dim[]) =>
    mistake(
      `the output would be ${out.join('x')} for the input ${shapeText(got)}`,
      'with padding = same an even kernel cuts one cell more: use an odd kernel, output_padding = 1 or padding = valid',
    ),

  // ---- maxpool, avgpool (src/ops/pool.ts).
  poolLargerThanInput: (size: readonly number[], got: readonly Dim[]) =>
    mistake(`pool window ${size.join('x')} is larger than the input ${shapeText(got)}`, 'use a smaller size or padding = same'),

  // ---- upsampling (src/ops/resize.ts).
  bilinearNeeds2d: (got: readonly Dim[]) =>
    expects(
      'a [height, width, channels] input for bilinear interpolation',
      got,
      'Keras upsamples 1-D inputs by repeating (UpSampling1D): use interpolation = nearest, or reshape to [steps, 1, channels] and upsample by [size, 1]',
    ),

  // ---- cropping (src/ops/resize.ts).
  croppedAway: (cropping: readonly (readonly [number, number])[], got: readonly Dim[]) =>
    mistake(
      `cropping ${cropping.map(([a, b]) => `${a}+${b}`).join(', ')} leaves nothing of the input ${shapeText(got)}`,
      'crop less than each spatial size',
    ),

  // ---- embedding (src/ops/embedding.ts).
  maskZeroIds: (got: readonly Dim[]) =>
    mistake(`mask_zero needs token ids of one [steps] axis, got ${shapeText(got)}`, 'the padding mask has one flag per step: reshape the ids to [steps], or leave mask_zero out'),
  tokenIdsNotInt: (got: readonly Dim[]) =>
    mistake(`input ${shapeText(got)} must be integer token ids`, "declare the input as 'int', e.g. 'input tokens: [200] int'"),

  // ---- add, concat (src/ops/merge.ts).
  /** multiply, subtract, maximum, minimum, average: dimension `i` (from 0) is neither equal nor 1 in one of them. */
  notBroadcastable: (a: readonly Dim[], b: readonly Dim[], i: number) =>
    mistake(
      `shapes ${shapeText(a)} and ${shapeText(b)} do not broadcast: dimension ${i + 1} is ${a[i]} in one and ${b[i]} in the other`,
      'each dimension must be equal, or 1 in one of them (reshape a [C] vector to [1, 1, C] to scale an image per channel)',
    ),
  addRanks: (a: readonly Dim[], b: readonly Dim[]) => mistake(`shapes ${shapeText(a)} and ${shapeText(b)} have different ranks`),
  /** Dimension `i` (from 0) differs; the hint guesses why from how the shapes differ. */
  addDimension: (a: readonly Dim[], b: readonly Dim[], i: number) =>
    mistake(
      `shapes ${shapeText(a)} and ${shapeText(b)} differ in dimension ${i + 1}`,
      // Equal channels but different spatial sizes usually mean the branches pad differently.
      a.length === 3 && a[2] === b[2] && a[0] !== b[0]
        ? 'the branches shrink differently: use padding = same in the convolutions'
        : a.at(-1) !== b.at(-1)
          ? 'the widths differ: add a dense or 1x1 conv to match them'
          : undefined,
    ),
  concatAxis: (given: number, isBatch: boolean, got: readonly Dim[]) => mistake(badAxis(given, isBatch, 'inputs', got)),
  concatShapes: (a: readonly Dim[], b: readonly Dim[], axis: number) =>
    mistake(`shapes ${shapeText(a)} and ${shapeText(b)} must agree except in dimension ${axis}`, 'flatten the inputs first, e.g. concat(a -> flatten, b -> flatten)'),

  // ---- bidirectional (src/ops/recurrent.ts).
  notRecurrent: (call: string) => mistake(`wraps rnn, lstm or gru, got '${call}'`),

  // ---- return_state and initial_state (src/ops/recurrent.ts), destructuring (src/ops/result.ts).
  initialStateCount: (cell: string, expected: number, given: number, bidirectional: boolean) =>
    mistake(
      `initial_state has ${plural(given, 'tensor')}, but ${bidirectional ? `bidirectional(${cell})` : cell} takes ${expected}`,
      `give ${cell === 'lstm' ? '[h, c]' : '[h]'}${bidirectional ? ` for each direction, forward first: ${cell === 'lstm' ? '[h_f, c_f, h_b, c_b]' : '[h_f, h_b]'}` : ''}`,
    ),
  initialStateWidth: (index: number, got: readonly Dim[], units: number) =>
    mistake(`initial_state[${index}] is ${shapeText(got.slice(1))}, but the layer's state is [${units}]`, `a state has the layer's units: give a [${units}] value, e.g. the state of an lstm(${units})`),
  stateInputs: (extra: number) =>
    mistake(`takes one sequence input, got ${extra + 1} inputs`, 'give initial states by name: initial_state = [h, c]'),
  notATuple: (count: number) =>
    mistake(`returns one value, but ${plural(count, 'name')} take its results`, 'a recurrent layer returns its final states with return_state = true'),
  unpackCount: (parts: number, count: number) =>
    mistake(`returns ${plural(parts, 'result')} (its output, then its states), but ${plural(count, 'name')} take them`, `name each of the ${parts} results: out, ${parts === 2 ? 'h' : parts === 3 ? 'h, c' : '...'} = ...`),

  // ---- take, slice, mean, sum, permute (src/ops/tensor.ts).
  tensorAxis: (op: string, given: number, isBatch: boolean, got: readonly Dim[]) =>
    mistake(
      badAxis(given, isBatch, 'input', got),
      isBatch ? `${op} works within each example: use an axis from 1 to ${got.length}, or -1 for the last` : `use an axis from 1 to ${got.length}, or -1 for the last`,
    ),
  takeIndex: (given: number, axis: number, got: readonly Dim[]) =>
    mistake(
      `index ${given} is out of range for axis ${axis} of size ${got[axis - 1]} in the input ${shapeText(got)}`,
      `use an index from 0 to ${(got[axis - 1] as number) - 1}, or from -1 back to -${got[axis - 1]} counting from the end`,
    ),
  sliceRange: (start: number, end: number | undefined, empty: boolean, axis: number, got: readonly Dim[]) =>
    mistake(
      `slice ${start}:${end ?? ''} is ${empty ? 'empty' : 'out of range'} for axis ${axis} of size ${got[axis - 1]} in the input ${shapeText(got)}`,
      `give 0 <= start < end <= ${got[axis - 1]}; negatives count from the end, and a left-out end is the end of the axis`,
    ),
  notPermutation: (given: readonly number[], got: readonly Dim[]) =>
    mistake(
      `dims [${given.join(', ')}] is not a permutation of the input's ${plural(got.length, 'axis', 'axes')} ${shapeText(got)}`,
      `list each of 1 to ${got.length} once, the batch excluded, e.g. [${Array.from({ length: got.length }, (_, i) => got.length - i).join(', ')}]`,
    ),

  // ---- reshape (src/ops/shape.ts).
  cannotReshape: (from: readonly Dim[], size: number, to: readonly number[]) =>
    mistake(`cannot reshape ${shapeText(from)} (${size} values) to [${to.join(', ')}]`),
};

// ---------------------------------------------------------------- the command line's help

/** The descriptions `dlc --help` and `dlc <command> --help` print: commands, then their arguments and options. */
export const help = {
  program: 'A compiler for .dl model files: check, summarize, compile, run, train and draw neural networks.',
  check: 'check every model in FILE; exit 0 if well formed, 1 with diagnostics',
  summary: 'print each layer of a model with its output shape, parameters and FLOPs',
  compile: 'compile a model: --target tfjs writes a TensorFlow.js TypeScript module; --emit ir prints the graph IR',
  init: 'write freshly initialised weights (Keras default initialisers) for a model',
  run: 'run a model in the built-in interpreter on JSON inputs',
  train: 'train a model with its `train` section in the interpreter; writes weights, metrics JSON and a curves SVG',
  eval: 'report loss and accuracy of trained weights on the test split of the train section',
  diagram: 'draw a model for slides: DOT, SVG or PNG (by the output extension)',
  fmt: 'format .dl files in the house style: print one, rewrite them (--write) or list the unformatted ones (--check)',

  // Arguments and options shared by several commands.
  file: '.dl source file',
  model: 'the model (default: the only or last one)',
  trainModel: 'the model (default: the only or last one with a train section)',
  weightsOutput: 'weights file to write (safetensors)',
  threads: 'threads for large matrix products (default: all cores)',
  fastMath: 'trade float32 accuracy for speed: 3x3 convolutions as Winograd F(4x4, 3x3), about 10x the rounding error (also DLC_FAST_MATH=1)',

  // summary
  summaryModel: 'the model to summarize (default: the only or last one)',
  summaryJson: 'print JSON instead of a table',
  // compile
  compileModel: 'the model to compile (default: the only or last one)',
  compileTarget: 'tfjs: a typed TensorFlow.js module; onnx: an ONNX model with its weights (both need -o)',
  compileWeights: 'with --target onnx: the weights the model carries (default: fresh weights from --seed)',
  compileSeed: 'with --target onnx: random seed for fresh weights',
  compileOutput: 'where to write the module, e.g. out/Model.ts',
  compileEmit: 'ir: print the graph IR instead (the default without --target)',
  compileOpt: 'optimization level: 0 (none) or 1 (all passes)',
  compileDumpAfter: (passes: string[]) => `print the IR after one pass (${passes.join(', ')})`,
  compileStats: 'print node counts and what each pass changed',
  // init
  initSeed: 'random seed',
  initNormal: "initialise kernels from N(0, sigma^2) as in the lecture's gradient descent",
  // run
  runInput: 'inputs: a JSON file keyed by input name, batch dimension first',
  runWeights: 'weights file (default: fresh weights from --seed)',
  engine: "interp: the built-in interpreter; ort: ONNX Runtime (onnxruntime-node) on the model exported as by --target onnx",
  runSeed: 'random seed for fresh weights',
  runJson: 'print outputs as JSON',
  runStats: 'print time per layer and peak activation memory',
  maxMemory: 'the most memory a run may plan, e.g. 512M or 4G (default: half of this machine\'s memory)',
  runOpt: 'optimization level: 0 or 1',
  runKernels: 'matrix kernels: auto (WebAssembly SIMD when it pays), wasm or js (the TypeScript reference)',
  // train
  trainEpochs: 'override the number of epochs',
  trainLr: "override the optimizer's learning rate",
  trainSeed: 'random seed (weights, shuffling, dropout)',
  trainMetrics: 'metrics JSON (default: next to the weights, .metrics.json)',
  trainPlot: 'loss and accuracy curves: .svg, .png or .pdf (default: next to the weights, .curves.svg)',
  trainQuiet: 'print nothing but errors',
  trainKernels: 'matrix kernels: auto, wasm or js',
  // eval
  evalWeights: 'weights file (safetensors)',
  // diagram
  diagramOutput: 'output file: .svg, .png, .pdf, .tex (TikZ) or .dot',
  diagramDirection: 'LR (left to right) or TB (top to bottom)',
  diagramDetail: 'layers, blocks (one cluster per block call, repeats collapsed), outline (a node per block), params (layers with their weight shapes) or neurons (small dense nets); by default layers, or blocks or outline when the layers cannot fit --fit',
  diagramTheme: 'light, dark, print or paper',
  diagramUnroll: 'draw the recurrent layer unrolled over K steps',
  diagramShapes: 'where output shapes go: edges, nodes (default) or none',
  diagramNoShapes: 'the same as --shapes none',
  diagramFit: 'lay out for 16:9 (default), 4:3, a4, column or none (one strip)',
  diagramNoParams: 'hide parameter counts',
  diagramOpt: 'optimization level: 0 (default) draws the model as written, 1 the optimized graph with fused layers marked',
  diagramScale: 'PNG resolution relative to the SVG',
  diagramTikzBody: 'with -o x.tex: write only the tikzpicture, for \\input in a paper',
  lsp: 'run the language server for editors (LSP over stdin and stdout): diagnostics as you type, hover, completion, go to definition, rename, outline, shape hints',
  lspStdio: 'talk LSP over stdin and stdout (the default and only transport)',
  // fmt
  fmtFiles: ".dl source files, or '-' for standard input",
  fmtWrite: 'rewrite each file that changes, in place',
  fmtCheck: 'change nothing; list the files that are not formatted and exit 1 if there are any (for CI)',
  fmtWidth: 'the line width to fit',
};

// ---------------------------------------------------------------- what commands print

/**
 * The lines commands print when they succeed, and the CLI's closing lines after
 * errors. Numbers arrive formatted (`18,496`, `59.61 GB`) where their format is
 * shared with other output.
 */
export const reports = {
  checked: (file: string, models: string[]) => `${file}: ok (${models.join(', ')})`,
  wroteModule: (output: string, model: string) => `${output}: TensorFlow.js module of ${model}`,
  wroteOnnx: (output: string, model: string, opset: number, external?: string) => `${output}: ONNX model of ${model} (opset ${opset})${external ? `, weights in ${external}` : ''}`,
  wroteWeights: (output: string, tensors: number, parameters: string, bytes: string) => `${output}: ${tensors} tensors, ${parameters} parameters (${bytes})`,
  wroteDiagram: (output: string, format: string, model: string) => `${output}: ${format === 'tex' ? 'TikZ' : format.toUpperCase()} of ${model}`,
  runOutput: (name: string, shape: readonly number[], values: string) => `${name} [${shape.join(', ')}]:\n${values}`,
  // `dlc run --stats`
  timePerLayer: (model: string) => `time per layer (${model}):`,
  computedIn: (layer: string) => `(computed in ${layer})`,
  peakMemory: (bytes: string) => `peak activation memory: ${bytes}`,
  plannedMemory: (planned: string, naive: string) => `planned activation memory: ${planned} in one arena (one buffer per activation: ${naive})`,
  byExample: (first: string, last: string) => `an example at a time: ${first} to ${last} (its tensors stay in the caches)`,
  matrixKernels: (kernel: string, threads: number | undefined, note: string | undefined, fastMath: boolean, fused: boolean) =>
    `matrix kernels: ${kernel}${threads !== undefined ? ` (SIMD${fused ? ' with fused multiply-add' : ''}, up to ${plural(threads, 'thread')}${fastMath ? ', fast math' : ''})` : ''}${note ? ` (${note})` : ''}`,
  // `dlc train` and `dlc eval`
  trainingStart: (model: string, data: string) => `training ${model} on ${data}`,
  trainingPlan: (epochs: number, batches: number, batch: number, loss: string, optimizer: string, weightDecay: number, seed: number) =>
    `  ${plural(epochs, 'epoch')} of ${plural(batches, 'batch', 'batches')} of ${batch}, ${loss}, ${optimizer}${weightDecay ? `, weight_decay = ${weightDecay}` : ''}, seed ${seed}`,
  /** The bar a terminal redraws in place while an epoch runs, fitted to `columns`. */
  progressBar: (p: Progress, columns: number) => {
    const stats = [
      `loss ${p.loss.toFixed(4)}`,
      p.accuracy === null ? '' : `acc ${percent(p.accuracy)}`,
      `${Math.round(p.samplesPerSecond)} samples/s`,
      `${duration(p.secondsLeft)} left`,
    ].filter(Boolean).join('  ');
    const head = `epoch ${p.epoch}/${p.epochs} ${`${p.batch}/${p.batches}`.padStart(2 * `${p.batches}`.length + 1)}`;
    const barWidth = Math.max(10, Math.min(30, columns - head.length - stats.length - 6));
    const filled = Math.round((p.batch / p.batches) * barWidth);
    return `${head} [${'='.repeat(filled)}${' '.repeat(barWidth - filled)}] ${stats}`;
  },
  /** The summary line of one epoch. */
  epochLine: (m: EpochMetrics, epochs: number) =>
    [
      `epoch ${`${m.epoch}`.padStart(`${epochs}`.length)}/${epochs}`,
      `loss ${m.loss.toFixed(4)}`,
      m.accuracy === null ? '' : `acc ${percent(m.accuracy)}`,
      m.testLoss === null ? '' : `test loss ${m.testLoss.toFixed(4)}`,
      m.testAccuracy === null ? '' : `test acc ${percent(m.testAccuracy)}`,
      `${Math.round(m.samplesPerSecond)} samples/s`,
      `${m.seconds.toFixed(1)} s`,
    ].filter(Boolean).join('  '),
  trainingResult: (testAccuracy: number | null, testLoss: number | null, seconds: number) =>
    `${testAccuracy !== null ? `test accuracy ${percent(testAccuracy)}, ` : testLoss !== null ? `test loss ${testLoss.toFixed(4)}, ` : ''}${duration(seconds)} in all`,
  wroteTrainingFiles: (paths: string[]) => `wrote ${paths.join(', ')}`,
  trainingInterrupted: (epoch: number, batch: number, batches: number, updates: number, path: string) =>
    `interrupted in epoch ${epoch} at batch ${batch}/${batches}: wrote the weights after ${plural(updates, 'step')} to ${path}`,
  evaluated: (model: string, n: number, which: 'test' | 'training', data: string, loss: number, accuracy: number | null) =>
    `${model} on ${n} ${which} examples (${data}): loss ${loss.toFixed(4)}${accuracy === null ? '' : `  accuracy ${percent(accuracy)}`}`,
  curvesTitle: (model: string, data: string) => `${model}: ${data}`,
  // `dlc fmt`
  formattedFile: (file: string) => `${file}: formatted`,
  unformattedFile: (file: string) => `${file}: not formatted`,
  allFormatted: (n: number) => `${plural(n, 'file is', 'files are')} formatted`,
  // after errors
  errorLine: (message: string) => `error: ${message}`,
  errorCount: (n: number) => plural(n, 'error'),
  /** After the first MAX_SHOWN_DIAGNOSTICS, the rest are counted, not printed. */
  moreErrors: (n: number) => `... and ${plural(n, 'more error')} not shown`,
  internalError: (message: string) => `dlc: internal error: ${message}`,
};

// ---------------------------------------------------------------- rendering

export function lineCol(span: Span): { line: number; column: number } {
  const starts = lineStarts(span.source.text);
  let [lo, hi] = [0, starts.length - 1]; // the last line starting at or before span.start
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= span.start) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: span.start - starts[lo] + 1 };
}

/** Line breaks as @babel/code-frame splits lines, so that a location and its frame agree: CRLF, LF, a lone CR, U+2028, U+2029. */
const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/g;
/** The offset each line starts at, built once per source text (the last one asked for), not once per diagnostic. */
let indexed: { text: string; starts: number[] } | undefined;
function lineStarts(text: string): number[] {
  if (indexed?.text !== text) {
    const starts = [0];
    for (const m of text.matchAll(LINE_BREAK)) starts.push(m.index + m[0].length);
    indexed = { text, starts };
  }
  return indexed.starts;
}

/** Renders a diagnostic for the terminal: location, message, code frame, hint. */
/**
 * Source text as a code frame prints it: control characters (but tab and the
 * line ends) become their visible Control Pictures (ESC -> U+241B), and C1
 * controls and bidirectional overrides U+FFFD, one UTF-16 unit for one, so
 * that columns stay where they were and no escape sequence in a file reaches
 * the terminal.
 */
export function printable(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => String.fromCharCode(0x2400 + c.charCodeAt(0)))
    .replace(/\u007f/g, '\u2421')
    .replace(/[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/** code-frame's options; `startLine` (the first line's number) is in @babel/code-frame 7.24 and later but not in its type declarations. */
const FRAME_OPTIONS = (color: boolean, startLine: number) => ({ highlightCode: color, linesAbove: 1, linesBelow: 1, startLine }) as Parameters<typeof codeFrameColumns>[2];

export function formatDiagnostic(diag: Diagnostic, color = false): string {
  const red = color ? pc.red : (s: string) => s;
  const bold = color ? pc.bold : (s: string) => s;
  const cyan = color ? pc.cyan : (s: string) => s;
  if (!diag.span) return `${bold(red('error:'))} ${bold(diag.message)}${diag.hint ? `\n  ${cyan('hint:')} ${diag.hint}` : ''}`;
  const { line, column } = lineCol(diag.span);
  const endPos = lineCol({ ...diag.span, start: Math.max(diag.span.start, diag.span.end) });
  const end = endPos.line === line ? { line, column: Math.max(endPos.column, column + 1) } : undefined;
  // Only the lines the frame shows go to code-frame, which splits (and colours) all the text it is given.
  const starts = lineStarts(diag.span.source.text);
  const first = Math.max(1, line - 1);
  const window = diag.span.source.text.slice(starts[first - 1], starts[line + 1] ?? diag.span.source.text.length);
  const frame = codeFrameColumns(printable(window), { start: { line, column }, end }, FRAME_OPTIONS(color, first));
  const location = `${diag.span.source.path}:${line}:${column}`;
  return [`${bold(location)}: ${bold(red('error:'))} ${bold(diag.message)}`, frame, diag.hint ? `  ${cyan('hint:')} ${diag.hint}` : '']
    .filter(Boolean)
    .join('\n');
}

/** Names longer than this get no "did you mean": a typo hint for them is unlikely and would cost quadratic time. */
const SUGGEST_MAX_LENGTH = 64;

/**
 * The closest candidate within a small edit distance, for "did you mean"
 * hints. Bounded work per candidate: a candidate whose length differs by the
 * current limit or more cannot be closer and is skipped, and the distance is
 * computed only up to the limit (editDistanceBelow), so a file of long names
 * stays linear.
 */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  if (name.length > SUGGEST_MAX_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  const wanted = name.toLowerCase();
  for (const c of candidates) {
    if (Math.abs(c.length - name.length) >= bestDistance) continue;
    const dist = editDistanceBelow(wanted, c.toLowerCase(), bestDistance);
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return best;
}

/** The edit distance of a and b if it is below `limit`; otherwise some number >= limit (it stops once every path costs that much). */
function editDistanceBelow(a: string, b: string, limit: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin >= limit) return limit; // every later row only grows
    prev = cur;
  }
  return prev[b.length];
}
