/**
 * The messages between the page (main.ts) and its compiler worker (worker.ts).
 * Everything is plain data (structured clone): no classes cross.
 */

/** The diagram options the page offers, as `dlc diagram` names them. */
export interface DiagramChoice {
  detail: 'layers' | 'blocks' | 'outline' | 'neurons' | 'params' | 'auto';
  theme: string;
  fit: string;
  direction: 'LR' | 'TB';
}

export interface CompileRequest {
  kind: 'compile';
  id: number;
  source: string;
  /** The model to show; the file's last when absent or gone. */
  model?: string;
  diagram: DiagramChoice;
  /** Print the IR before and after optimization (only while its panel is open: typing in a large model should only wait for what is shown). */
  ir: boolean;
  /** Emit the TensorFlow.js module too (Prettier takes a while, so only when its panel is open). */
  tfjs: boolean;
}

/** A compiler diagnostic with its span as offsets into the source. */
export interface PageDiagnostic {
  from: number;
  to: number;
  line?: number;
  column?: number;
  code: string;
  message: string;
  hint?: string;
  /** The language service's quick fixes for it (src/service codeActions), as text replacements. */
  fixes?: { title: string; from: number; to: number; insert: string }[];
}

export interface CompileReply {
  kind: 'compile';
  id: number;
  /** Empty when the source compiled. */
  diagnostics: PageDiagnostic[];
  models: string[];
  model?: string;
  /** `dlc summary`'s table, and its parameter total. */
  summary?: string;
  totalParams?: number;
  irBefore?: string;
  irAfter?: string;
  tfjs?: string;
  /** Why there is no tfjs text (its emitter refused the model). */
  tfjsError?: string;
  svg?: string;
  /** Why there is no diagram. */
  diagramError?: string;
  /** The diagram changed view to fit (as `dlc diagram` says on stderr). */
  note?: string;
  /** Milliseconds spent in the worker: compiling (of which checking, the language service's analysis: parse, build, shapes), then drawing. */
  ms: { compile: number; check?: number; diagram: number };
}

/** The worker's first message: the choices the compiler offers, from its own tables. */
export interface WorkerHello {
  hello: { themes: string[]; fits: string[]; views: DiagramChoice['detail'][] };
}

/**
 * Run the model in the interpreter, as `dlc run FILE --input JSON --seed SEED`
 * does (weights initialised from the seed, optimization level 1); with
 * `inputs` absent, make random inputs for it instead (uniform in [0, 1) for
 * float inputs, 1 for int ones, one example, 8 for a dimension variable).
 */
export interface RunRequest {
  kind: 'run';
  id: number;
  source: string;
  model?: string;
  /** The inputs as JSON text, as `dlc run --input` reads them. */
  inputs?: string;
  seed: number;
}

export interface RunReply {
  kind: 'run';
  id: number;
  /** Each output as `dlc run --json` gives it, with its shape. */
  outputs?: Record<string, { shape: number[]; value: unknown }>;
  /** Random inputs made for the model, as JSON text. */
  inputs?: string;
  error?: string;
  ms: number;
  /** What the interpreter ran on ("WebAssembly SIMD, 2 threads"), and the matmul chunks each thread has computed so far, this worker first. */
  kernels: string;
  chunksByThread: number[];
}

/**
 * An editor question for the language service (src/service) about `source`
 * at `offset`: hover, completion, or the whole text formatted (src/format).
 * Answered at once, between compiles, from the same cached analysis.
 */
export interface ServiceRequest {
  kind: 'hover' | 'complete' | 'format';
  id: number;
  source: string;
  offset: number;
}

/** A hover's Markdown and the span it describes; no markdown: nothing to say there. */
export interface HoverReply {
  kind: 'hover';
  id: number;
  markdown?: string;
  from?: number;
  to?: number;
}

/** One completion, as CodeMirror takes it: `label` is what is matched against the typed word, `display` what is shown. */
export interface CompletionOption {
  label: string;
  display?: string;
  type: string;
  detail?: string;
  /** Markdown documentation. */
  info?: string;
  /** The text inserted; with `snippet`, in CodeMirror's snippet syntax (`${1:name}` fields). */
  apply?: string;
  snippet?: boolean;
  boost?: number;
}

export interface CompleteReply {
  kind: 'complete';
  id: number;
  options: CompletionOption[];
}

/** The formatted text, or why it cannot be formatted (the syntax error `dlc fmt` prints). */
export interface FormatReply {
  kind: 'format';
  id: number;
  text?: string;
  error?: string;
}

export type ServiceReply = HoverReply | CompleteReply | FormatReply;

/**
 * Train the model of the source's train section in the worker, as `dlc train
 * FILE --epochs E --seed S` does (the same data, split, initialisation and
 * steps: the same numbers). The trained weights stay in the worker for
 * PredictRequest. Stop terminates the worker.
 */
export interface TrainRequest {
  kind: 'train';
  id: number;
  source: string;
  /** The train section's epochs and seed when absent. */
  epochs?: number;
  seed?: number;
  /** The page's address: the mnist digits are fetched beside it (scripts/build-playground.js's MNIST_ASSET). */
  base: string;
}

/** Where a training run is: sent after batches (at most a few times a second), after each epoch, and at the end. */
export interface TrainReply {
  kind: 'train';
  id: number;
  model?: string;
  /** What it trains on, as dlc train says it (`mnist: 8000 train, 2000 test digits`). */
  data?: string;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** The epoch's mean loss and accuracy so far. */
  loss?: number;
  accuracy?: number | null;
  /** Every finished epoch, as `dlc train --metrics` has them (unrounded). */
  history: { epoch: number; loss: number; accuracy: number | null; testLoss: number | null; testAccuracy: number | null }[];
  /** The loss and accuracy curves (dlc train's --plot SVG), when they changed. */
  curves?: string;
  done: boolean;
  error?: string;
  /** The model's input shape (one example) once trained: what the draw-a-digit canvas feeds. */
  inputShape?: number[];
  /** Once trained: the weights file `dlc train -o` would write for the same run (safetensors), for the page to offer as a download. */
  weights?: Uint8Array;
}

/** Run the last trained model on one example (flat values, in the input's shape without the batch). */
export interface PredictRequest {
  kind: 'predict';
  id: number;
  pixels: number[];
}

export interface PredictReply {
  kind: 'predict';
  id: number;
  /** The model's first output for the example, flattened. */
  output?: number[];
  error?: string;
}

export type WorkerRequest = CompileRequest | RunRequest | ServiceRequest | TrainRequest | PredictRequest;
export type WorkerReply = CompileReply | RunReply | ServiceReply | TrainReply | PredictReply;
