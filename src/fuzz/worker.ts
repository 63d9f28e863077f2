/**
 * A fuzz worker thread: builds input `index` of the run (or takes a given
 * text, when shrinking), reports the text before running it, reports each
 * stage as it starts, then the outcome. The pool (run.ts) owns the clock and
 * terminates a worker that overruns its budget.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzInput, loadCorpus, type Family, type FuzzInput } from './inputs.js';
import { runPipeline } from './pipeline.js';

export interface WorkerData {
  root: string;
  seed: number;
  skip: Family[];
}

/** Input `index` of the run, or a given text (shrinking). */
export type JobSpec = { index: number; svg: boolean; tfjs: boolean } | { text: string; svg: boolean; tfjs: boolean; seed: number };
export type Job = JobSpec & { id: number };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'input'; id: number; input: FuzzInput }
  | { type: 'stage'; id: number; stage: string }
  | { type: 'done'; id: number; outcome: Awaited<ReturnType<typeof runPipeline>> };

const { root, seed, skip } = workerData as WorkerData;
const corpus = loadCorpus(root);
const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);

async function run(job: Job): Promise<void> {
  post({ type: 'stage', id: job.id, stage: 'generate' });
  const input = 'index' in job ? fuzzInput(corpus, seed, job.index, skip) : undefined;
  if (input) post({ type: 'input', id: job.id, input });
  const text = input ? input.text : (job as { text: string }).text;
  // Inputs that play with names and text always reach the emitter, where a name could inject code.
  const tfjs = job.tfjs || (input !== undefined && ['names', 'text', 'generated'].includes(input.family));
  const outcome = await runPipeline(text, { svg: job.svg, tfjs, seed: 'index' in job ? job.index : job.seed, onStage: (stage) => post({ type: 'stage', id: job.id, stage }) });
  post({ type: 'done', id: job.id, outcome });
}

// Warm up (prettier's parsers and Graphviz load on first use) before taking the clock's jobs.
await runPipeline('model Warm {\n  input x: [4]\n  output x -> dense(2)\n}\n', { svg: true, tfjs: true, seed: 0 });
port.on('message', (job: Job) => void run(job));
post({ type: 'ready' });
