/**
 * Every user-visible error message of dlc, in one place, and their rendering
 * as `file:line:col: error: message` plus a code frame with a caret.
 * Code elsewhere reports problems by calling `messages.<kind>(span, ...)`;
 * tests assert these texts and locations.
 */
import { codeFrameColumns } from '@babel/code-frame';
import pc from 'picocolors';
import type { Span } from './frontend/ast.js';
import type { Dim } from './ir/types.js';

export interface Diagnostic {
  code: string;
  message: string;
  span?: Span;
  hint?: string;
}

/**
 * A mistake in what the user gave us that has no source location (inputs,
 * weights files, paths, sizes): the CLI prints `error: <message>` and exits 1.
 */
export class UserError extends Error {}

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

/** Thrown to abandon a phase with diagnostics already collected; never escapes the public API. */
export class CompileError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join('\n'));
  }
}

export const shapeText = (shape: readonly Dim[]): string => `[${shape.map((d) => (d === null ? 'batch' : d)).join(', ')}]`;
/** A per-example shape as users write it (without the batch dimension). */
export const exampleShape = (shape: readonly Dim[]): string => shapeText(shape.slice(1));

const quoteList = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');
const didYouMean = (suggestion: string | undefined) => (suggestion ? `did you mean '${suggestion}'?` : undefined);

const d = (code: string, span: Span | undefined, message: string, hint?: string): Diagnostic => ({ code, span, message, hint });

export const messages = {
  // Syntax and names.
  syntax: (span: Span, expected: string, found: string) =>
    d('syntax', span, `syntax error: expected ${expected}${found ? `, found '${found === '\n' ? '\\n' : found}'` : ' at end of file'}`),
  unknownOp: (span: Span, name: string, suggestion?: string) => d('unknown-op', span, `unknown op or block '${name}'`, didYouMean(suggestion)),
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
  unusedValue: (span: Span, name: string) => d('unused', span, `value '${name}' is computed but never used`),

  // Structure.
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
  recursiveBlock: (span: Span, chain: string[]) => d('recursion', span, `block '${chain[0]}' calls itself: ${chain.join(' -> ')}`),
  cycle: (span: Span, names: string[]) =>
    d('cycle', span, `'${names[0]}' depends on itself: ${names.join(' -> ')}`),
  blockArgCount: (span: Span, block: string, expected: number, found: number) =>
    d('input-count', span, `block '${block}' takes ${expected} tensor input${expected === 1 ? '' : 's'}, got ${found}`),
  repeatUsage: (span: Span) => d('repeat', span, "repeat(n, call) takes a positive whole count and one op or block call, e.g. 'repeat(3, residual(16))'"),
  constEval: (span: Span, message: string) => d('const-eval', span, message),
  notInteger: (span: Span, op: string, arg: string, value: number) =>
    d('not-integer', span, `${op}: argument '${arg}' must be a whole number, got ${value}`),
  notPositive: (span: Span, op: string, arg: string, value: number) =>
    d('not-positive', span, `${op}: argument '${arg}' must be positive, got ${value}`),
  outOfRange: (span: Span, op: string, arg: string, value: number, range: string) =>
    d('out-of-range', span, `${op}: argument '${arg}' must be ${range}, got ${value}`),
  trainForUnknownModel: (span: Span, name: string, suggestion?: string) =>
    d('unknown-model', span, `train section for unknown model '${name}'`, didYouMean(suggestion)),

  // Shapes: every shape message names the op and the shapes involved.
  shape: (span: Span, op: string, message: string, hint?: string) => d('shape', span, `${op}: ${message}`, hint),
  intInput: (span: Span, op: string) =>
    d('dtype', span, `${op}: integer input is only accepted by embedding`, "feed integer tokens through 'embedding(vocab = ..., dim = ...)' first"),
  floatIntoEmbedding: (span: Span, shape: readonly Dim[]) =>
    d('dtype', span, `embedding: input ${exampleShape(shape)} must be integer token ids`, "declare the input as 'int', e.g. 'input tokens: [200] int'"),

  // Files and commands.
  readFile: (path: string, reason: string) => d('io', undefined, `cannot read '${path}': ${reason}`),
  writeFile: (path: string, reason: string) => d('io', undefined, `cannot write '${path}': ${reason}`),
  usage: (message: string) => d('usage', undefined, message),

  // Training (src/train/): the `train` section, its data, and the training run.
  noTrainSection: (span: Span, model: string) =>
    d('train', span, `model '${model}' has no train section`, `add one, e.g. 'train ${model} { data = mnist()  loss = crossentropy  optimizer = adam() }'`),
  duplicateTrain: (span: Span, model: string, previous: Span) =>
    d('train', span, `model '${model}' already has a train section (at line ${lineCol(previous).line})`),
  unknownSetting: (span: Span, name: string, known: string[], suggestion?: string) =>
    d('train-setting', span, `train: unknown setting '${name}'`, didYouMean(suggestion) ?? `settings are ${quoteList(known)}`),
  duplicateSetting: (span: Span, name: string, previous: Span) =>
    d('train-setting', span, `train: setting '${name}' is already given (at line ${lineCol(previous).line})`),
  missingSetting: (span: Span, name: string, example: string) => d('train-setting', span, `train: missing setting '${name}'`, `add e.g. '${example}'`),
  settingType: (span: Span, name: string, expected: string, found: string) =>
    d('train-setting', span, `train: '${name}' must be ${expected}, got ${found}`),
  unknownChoice: (span: Span, what: string, name: string, choices: string[], suggestion?: string) =>
    d('train-setting', span, `train: unknown ${what} '${name}'`, didYouMean(suggestion) ?? `expected one of ${quoteList(choices)}`),
  nothingToTrain: (span: Span, model: string) =>
    d('train', span, `model '${model}' has nothing to train: it has no weights`, 'training needs a layer with parameters, such as dense or conv2d'),
  trainSignature: (span: Span, model: string, inputs: number, outputs: number) =>
    d('train', span, `training needs a model with one input and one output; '${model}' has ${inputs} input${inputs === 1 ? '' : 's'} and ${outputs} output${outputs === 1 ? '' : 's'}`),
  dataDoesNotFit: (span: Span, message: string, hint?: string) => d('train-data', span, message, hint),
  csvNoColumn: (span: Span, file: string, column: string, columns: string[], suggestion?: string) =>
    d('train-data', span, `csv: '${file}' has no column '${column}' (columns: ${columns.join(', ')})`, didYouMean(suggestion)),
  csvProblem: (file: string, line: number, column: string | undefined, message: string) =>
    d('train-data', undefined, `${file}, line ${line}${column === undefined ? '' : `, column '${column}'`}: ${message}`),
  /** `what` went wrong: 'the loss became NaN', 'a weight became infinite', ... */
  diverged: (epoch: number, batch: number, batches: number, what: string, lr: number) =>
    d(
      'diverged',
      undefined,
      `training stopped in epoch ${epoch} at batch ${batch}/${batches}: ${what}; the weights of the last step with a finite loss were kept`,
      `the learning rate is probably too high: try 'lr = ${+(lr / 10).toPrecision(3)}' (now ${lr})`,
    ),

  // Constant expressions (src/ir/constants.ts).
  arithmeticOnTensors: (span: Span) => d('const-eval', span, 'arithmetic works on constants; combine tensors with an op, e.g. add(a, b)'),
  /** `found`: one description per operand, e.g. ['the number 3', 'the string "x"']. */
  arithmeticOperands: (span: Span, op: string, found: string[]) =>
    d('const-eval', span, `'${op}' needs ${found.length === 1 ? 'a number' : 'numbers'}, got ${found.join(' and ')}`),

  // Training sections (src/train/config.ts): what each setting takes.
  missingData: (span: Span): Diagnostic => messages.missingSetting(span, 'data', 'data = mnist(train = 8000, test = 2000)'),
  missingLoss: (span: Span): Diagnostic => messages.missingSetting(span, 'loss', 'loss = crossentropy'),
  notADataSource: (span: Span, found: string): Diagnostic => messages.settingType(span, 'data', 'a data source such as mnist() or csv("file.csv")', found),
  notALoss: (span: Span, found: string): Diagnostic => messages.settingType(span, 'loss', 'a loss name such as crossentropy', found),
  notAnOptimizer: (span: Span, found: string): Diagnostic => messages.settingType(span, 'optimizer', 'an optimizer such as sgd(lr = 0.01) or adam()', found),
  unknownDataSource: (span: Span, name: string, choices: string[]): Diagnostic => messages.unknownChoice(span, 'data source', name, choices, suggest(name, choices)),
  unknownLoss: (span: Span, name: string, choices: string[]): Diagnostic => messages.unknownChoice(span, 'loss', name, choices, suggest(name, choices)),
  unknownOptimizer: (span: Span, name: string, choices: string[]): Diagnostic => messages.unknownChoice(span, 'optimizer', name, choices, suggest(name, choices)),
  tooManyDigits: (span: Span, asked: number, available: number): Diagnostic =>
    messages.outOfRange(span, 'mnist', 'train + test', asked, `at most ${available} (the digits in the mnist package)`),
  notASettingValue: (span: Span) => d('const-eval', span, 'expected a number, a string, a name or a call such as sgd(lr = 0.01), got a layer expression'),
};

export function lineCol(span: Span): { line: number; column: number } {
  const before = span.source.text.slice(0, span.start);
  const line = before.split('\n').length;
  const column = span.start - before.lastIndexOf('\n');
  return { line, column };
}

/** Renders a diagnostic for the terminal: location, message, code frame, hint. */
export function formatDiagnostic(diag: Diagnostic, color = false): string {
  const red = color ? pc.red : (s: string) => s;
  const bold = color ? pc.bold : (s: string) => s;
  const cyan = color ? pc.cyan : (s: string) => s;
  if (!diag.span) return `${bold(red('error:'))} ${bold(diag.message)}${diag.hint ? `\n  ${cyan('hint:')} ${diag.hint}` : ''}`;
  const { line, column } = lineCol(diag.span);
  const endPos = lineCol({ ...diag.span, start: Math.max(diag.span.start, diag.span.end) });
  const end = endPos.line === line ? { line, column: Math.max(endPos.column, column + 1) } : undefined;
  const frame = codeFrameColumns(diag.span.source.text, { start: { line, column }, end }, { highlightCode: color, linesAbove: 1, linesBelow: 1 });
  const location = `${diag.span.source.path}:${line}:${column}`;
  return [`${bold(location)}: ${bold(red('error:'))} ${bold(diag.message)}`, frame, diag.hint ? `  ${cyan('hint:')} ${diag.hint}` : '']
    .filter(Boolean)
    .join('\n');
}

/** The closest candidate within a small edit distance, for "did you mean" hints. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const dist = editDistance(name.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [c, dist];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
