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
  /** Milliseconds spent in the worker: compiling, then drawing. */
  ms: { compile: number; diagram: number };
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
}

export type WorkerRequest = CompileRequest | RunRequest;
export type WorkerReply = CompileReply | RunReply;
