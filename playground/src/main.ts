/**
 * The playground page: a CodeMirror editor on the left, the compiler's answers on
 * the right (diagram, summary, IR before and after optimization, TensorFlow.js),
 * messages below. Every edit is sent to the compiler worker at once (worker.ts
 * keeps only the newest waiting request, so no debounce is needed); its reply
 * updates the panels and the editor's squiggles. A worker that does not answer
 * within WORKER_TIMEOUT_MS is terminated and replaced, and the page says why.
 * Nothing is sent over the network: share links carry the state in the fragment.
 */
import { basicSetup, EditorView } from 'codemirror';
import { hoverTooltip } from '@codemirror/view';
import { snippet, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { lintGutter, setDiagnostics, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import examples from 'playground:examples';
import workerSource from 'playground:worker';
import { dlLanguage } from './language.js';
import type {
  CompileReply,
  CompileRequest,
  CompletionOption,
  DiagramChoice,
  PageDiagnostic,
  PredictReply,
  RunReply,
  RunRequest,
  ServiceReply,
  ServiceRequest,
  TrainReply,
  TrainRequest,
  WorkerHello,
  WorkerReply,
} from './protocol.js';
import { decodeState, encodeState, type SharedState } from './share.js';

/** The example a fresh page (or a broken link) opens. */
const DEFAULT_EXAMPLE = 'residual';
const DEFAULT_DIAGRAM: DiagramChoice = { detail: 'auto', theme: 'light', fit: '16:9', direction: 'LR' };
const PANELS = ['diagram', 'summary', 'ir', 'tfjs', 'run', 'train'] as const;
type Panel = (typeof PANELS)[number];
/** A compile that takes longer than this (a model too large to lay out) is abandoned. */
const WORKER_TIMEOUT_MS = 20_000;
/** PNG downloads: device pixels per CSS pixel, as `dlc diagram --scale`'s default. */
const PNG_SCALE = 2;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const examplesMenu = $<HTMLSelectElement>('examples');
const modelMenu = $<HTMLSelectElement>('model');
const controls = {
  detail: $<HTMLSelectElement>('detail'),
  theme: $<HTMLSelectElement>('theme'),
  fit: $<HTMLSelectElement>('fit'),
  direction: $<HTMLSelectElement>('direction'),
};
const diagramBox = $('diagram-view');
const summaryBox = $('summary-view');
const messagesList = $<HTMLUListElement>('messages');
const statusText = $('status');

/** What the tests and the latency measurement read (test/playground/). */
interface PlaygroundProbe {
  /** The last reply shown. */
  reply?: CompileReply;
  /** Milliseconds from an edit to its diagram on the page, newest last. */
  latencies: number[];
  /** How many replies were shown. */
  shown: number;
  /** The source of the newest request sent to the compiler. */
  source: string;
  /** Requests not answered yet (0: the page shows the newest source). */
  pending: number;
  /** A run in progress; the last run's outputs as `dlc run --json` prints them. */
  running: boolean;
  outputs?: Record<string, unknown>;
  /** What the last run ran on, and the matmul chunks each interpreter thread has computed so far (RunReply). */
  run?: { kernels: string; chunksByThread: number[] };
  /** A training run in progress; the last run's finished epochs and its error. */
  training: boolean;
  trained?: TrainReply;
  /** The last drawn digit as the model saw it (28×28 values in [0, 1]), and the model's output for it. */
  digit?: { pixels: number[]; output?: number[]; error?: string };
}
const probe: PlaygroundProbe = { latencies: [], shown: 0, source: '', pending: 0, running: false, training: false };
(window as unknown as { playground: PlaygroundProbe }).playground = probe;

let panel: Panel = 'diagram';
let notices: string[] = [];

// ---------------------------------------------------------------- the worker

let worker: Worker;
let nextId = 1;
/** The request in flight, with the time of the edit it answers. */
const sentAt = new Map<number, number>();
let watchdog: ReturnType<typeof setTimeout> | undefined;
let helloSeen: (hello: WorkerHello['hello']) => void;
const hello = new Promise<WorkerHello['hello']>((resolve) => (helloSeen = resolve));
const workerUrl = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));

function startWorker(): void {
  worker = new Worker(workerUrl);
  worker.onmessage = (event: MessageEvent<WorkerReply | WorkerHello>) => {
    if ('hello' in event.data) return helloSeen(event.data.hello);
    if (event.data.kind === 'run') return showRun(event.data);
    if (event.data.kind === 'train') return showTraining(event.data);
    if (event.data.kind === 'predict') return showPrediction(event.data);
    if (event.data.kind !== 'compile') return answered(event.data);
    show(event.data);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    restartWorker(`the compiler stopped: ${event.message}`);
  };
}

/** A new compiler worker; `why` ends the run or training in progress, and unless the user asked (Stop), it is also shown as a notice. */
function restartWorker(why: string, byUser = false): void {
  worker.terminate();
  clearTimeout(watchdog);
  sentAt.clear();
  probe.pending = 0;
  for (const [id, settle] of questions) settle(undefined), questions.delete(id);
  if (probe.running) runEnded(why);
  if (probe.training) trainingEnded(why);
  trainedShape = undefined;
  startWorker();
  setStatus('');
  if (byUser) return;
  notices = [why];
  diagramBox.replaceChildren(message(why));
  renderMessages([]);
}

function compile(editedAt = performance.now()): void {
  const id = nextId++;
  sentAt.set(id, editedAt);
  probe.source = editor.state.doc.toString();
  const request: CompileRequest = { kind: 'compile', id, source: probe.source, model: modelMenu.value || undefined, diagram: diagramChoice(), ir: panel === 'ir', tfjs: panel === 'tfjs' };
  worker.postMessage(request);
  probe.pending = sentAt.size;
  setStatus('compiling…');
  clearTimeout(watchdog);
  watchdog = setTimeout(
    () => restartWorker(`the compiler did not finish within ${WORKER_TIMEOUT_MS / 1000} s (a model too large to lay out?) and was stopped; try View: blocks or outline`),
    WORKER_TIMEOUT_MS,
  );
  saveFragment();
}

// ---------------------------------------------------------------- the language service

/** Editor questions in flight; a restarted worker answers them with nothing. */
const questions = new Map<number, (reply: ServiceReply | undefined) => void>();

function ask<K extends ServiceRequest['kind']>(kind: K, offset = 0): Promise<Extract<ServiceReply, { kind: K }> | undefined> {
  const id = nextId++;
  worker.postMessage({ kind, id, source: editor.state.doc.toString(), offset } satisfies ServiceRequest);
  return new Promise((resolve) => questions.set(id, resolve as (reply: ServiceReply | undefined) => void));
}

function answered(reply: ServiceReply): void {
  questions.get(reply.id)?.(reply);
  questions.delete(reply.id);
}

/** The service's Markdown as the tooltip shows it: paragraphs, lists and tables as preformatted text, `code` and **bold** marked up. */
function markdownElement(markdown: string, className: string): HTMLElement {
  const box = Object.assign(document.createElement('div'), { className });
  for (const block of markdown.split(/\n{2,}/)) {
    const p = document.createElement(/^\||^- /m.test(block) ? 'pre' : 'p');
    for (const part of block.split(/(`[^`]*`|\*\*[^*]*\*\*)/)) {
      if (part.startsWith('`') && part.endsWith('`') && part.length > 1) p.append(Object.assign(document.createElement('code'), { textContent: part.slice(1, -1) }));
      else if (part.startsWith('**') && part.endsWith('**') && part.length > 3) p.append(Object.assign(document.createElement('b'), { textContent: part.slice(2, -2) }));
      else p.append(part);
    }
    box.append(p);
  }
  return box;
}

const serviceHover = hoverTooltip(async (_view, pos) => {
  const reply = await ask('hover', pos);
  if (!reply?.markdown) return null;
  const markdown = reply.markdown;
  return { pos: reply.from ?? pos, end: reply.to ?? pos, above: true, create: () => ({ dom: markdownElement(markdown, 'dl-hover') }) };
});

function completionOf(o: CompletionOption): Completion {
  const info = o.info;
  return {
    label: o.label,
    displayLabel: o.display,
    type: o.type,
    detail: o.detail,
    boost: o.boost,
    info: info ? () => markdownElement(info, 'dl-info') : undefined,
    apply: o.snippet && o.apply ? snippet(o.apply) : o.apply,
  };
}

async function serviceCompletion(context: CompletionContext): Promise<CompletionResult | null> {
  const word = context.matchBefore(/[\p{L}\p{N}_]*/u);
  // While typing, only after a word has begun or an operator asks for a name; Ctrl-Space always.
  if (!context.explicit && word?.from === word?.to && !/(->|\(|,|=)\s*$/.test(context.state.sliceDoc(Math.max(0, context.pos - 40), context.pos))) return null;
  const reply = await ask('complete', context.pos);
  if (!reply || reply.options.length === 0) return null;
  return { from: word?.from ?? context.pos, options: reply.options.map(completionOf), validFor: /^[\p{L}\p{N}_]*$/u };
}

/** Replaces the editor's text with src/format's layout of it (dlc fmt's), or says why it cannot. */
async function formatEditor(): Promise<void> {
  const reply = await ask('format');
  if (!reply) return;
  if (reply.error !== undefined) return void setStatus(`not formatted: ${reply.error}`);
  if (reply.text !== undefined && reply.text !== editor.state.doc.toString()) editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: reply.text } });
  setStatus('formatted');
}

// ---------------------------------------------------------------- showing a reply

function show(reply: CompileReply): void {
  const editedAt = sentAt.get(reply.id);
  for (const id of sentAt.keys()) if (id <= reply.id) sentAt.delete(id);
  probe.pending = sentAt.size;
  if (sentAt.size === 0) {
    clearTimeout(watchdog);
    setStatus(`compiled in ${Math.round(reply.ms.compile)} ms, drawn in ${Math.round(reply.ms.diagram)} ms`);
  }
  probe.reply = reply;
  fillModels(reply);
  const length = editor.state.doc.length;
  editor.dispatch(setDiagnostics(editor.state, reply.diagnostics.map((d) => lintOf(d, length))));
  renderMessages(reply.diagnostics, reply.note);
  if (reply.diagnostics.length > 0) {
    const first = reply.diagnostics[0];
    // The last good diagram stays, greyed, under the error, so the page never goes blank while typing.
    diagramBox.classList.add('stale');
    summaryBox.classList.add('stale');
    setStatus(`${reply.diagnostics.length} error${reply.diagnostics.length > 1 ? 's' : ''}: ${first.line !== undefined ? `line ${first.line}: ` : ''}${first.message}`);
  } else {
    diagramBox.classList.remove('stale');
    summaryBox.classList.remove('stale');
    if (reply.svg) diagramBox.innerHTML = reply.svg;
    else diagramBox.replaceChildren(message(`no diagram: ${reply.diagramError}`));
    summaryBox.textContent = reply.summary ?? '';
    summaryBox.dataset.totalParams = String(reply.totalParams);
    if (reply.irBefore !== undefined) $('ir-before').textContent = reply.irBefore;
    if (reply.irAfter !== undefined) $('ir-after').textContent = reply.irAfter;
    if (reply.tfjs !== undefined || reply.tfjsError !== undefined) $('tfjs-view').textContent = reply.tfjs ?? `no TensorFlow.js module: ${reply.tfjsError}`;
  }
  if (editedAt !== undefined) probe.latencies.push(performance.now() - editedAt);
  probe.shown++;
}

function lintOf(d: PageDiagnostic, length: number): LintDiagnostic {
  const from = Math.min(d.from, length);
  return {
    from,
    to: Math.min(Math.max(d.to, from), length),
    severity: 'error',
    source: d.code,
    message: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message,
    actions: d.fixes?.map((fix) => ({ name: fix.title, apply: (view: EditorView) => view.dispatch({ changes: { from: fix.from, to: fix.to, insert: fix.insert } }) })),
  };
}

function renderMessages(diagnostics: PageDiagnostic[], note?: string): void {
  const items = diagnostics.map((d) => {
    const li = document.createElement('li');
    li.className = 'error';
    const where = d.line !== undefined ? `${d.line}:${d.column}` : '';
    li.append(Object.assign(document.createElement('b'), { textContent: where ? `line ${where} ` : '' }), d.message);
    if (d.hint) li.append(Object.assign(document.createElement('div'), { className: 'hint', textContent: `hint: ${d.hint}` }));
    li.onclick = () => {
      editor.dispatch({ selection: { anchor: Math.min(d.from, editor.state.doc.length) }, scrollIntoView: true });
      editor.focus();
    };
    return li;
  });
  for (const text of [...notices, ...(note ? [note] : [])]) items.push(Object.assign(document.createElement('li'), { className: 'note', textContent: text }));
  messagesList.replaceChildren(...items);
  $('messages-box').classList.toggle('empty', items.length === 0);
}

function fillModels(reply: CompileReply): void {
  if (reply.models.length === 0) return;
  const names = [...modelMenu.options].map((o) => o.value);
  if (names.join('\n') !== reply.models.join('\n')) modelMenu.replaceChildren(...reply.models.map((m) => new Option(m, m)));
  if (reply.model) modelMenu.value = reply.model;
  modelMenu.disabled = reply.models.length < 2;
}

const message = (text: string) => Object.assign(document.createElement('p'), { className: 'placeholder', textContent: text });
const setStatus = (text: string) => (statusText.textContent = text);

// ---------------------------------------------------------------- running the model

const runInputs = $<HTMLTextAreaElement>('run-inputs');
const runOutput = $('run-output');
let runId = 0;

/** Asks the worker to run the model on the inputs box (or, with `random`, to fill the box); Stop cancels. */
function startRun(random: boolean): void {
  const seed = Number($<HTMLInputElement>('run-seed').value);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    runEnded(`the seed must be a whole number from 0, got '${$<HTMLInputElement>('run-seed').value}'`);
    return;
  }
  const request: RunRequest = { kind: 'run', id: ++runId, source: editor.state.doc.toString(), model: modelMenu.value || undefined, seed, inputs: random ? undefined : runInputs.value };
  worker.postMessage(request);
  $<HTMLButtonElement>('run-stop').disabled = false;
  $('run-status').textContent = random ? 'making inputs…' : 'running…';
  probe.running = true;
}

function showRun(reply: RunReply): void {
  if (reply.id !== runId) return;
  if (reply.error !== undefined) return runEnded(reply.error);
  if (reply.inputs !== undefined) runInputs.value = reply.inputs;
  showInputImages();
  if (reply.outputs) {
    runOutput.classList.remove('error');
    runOutput.replaceChildren(
      ...Object.entries(reply.outputs).flatMap(([name, { shape, value }]) => [
        `${name}: [${shape.join(', ')}]\n`,
        ...imagesOf(value),
        `${JSON.stringify(value)}\n\n`,
      ]),
    );
    probe.outputs = Object.fromEntries(Object.entries(reply.outputs).map(([name, { value }]) => [name, value]));
  }
  runEnded(undefined, reply.outputs ? `ran in ${Math.round(reply.ms)} ms on ${reply.kernels}` : `inputs made in ${Math.round(reply.ms)} ms`);
  probe.run = { kernels: reply.kernels, chunksByThread: reply.chunksByThread };
}

/** The Run panel draws images at least this many CSS pixels wide, in whole pixels per image pixel (a 28×28 digit at 112). */
const IMAGE_WIDTH = 96;

/**
 * An image batch (`[batch, H, W, C]` with C = 1, 3 or 4, as nested JSON lists)
 * as one canvas per example, its values stretched from their minimum to their
 * maximum; anything else draws nothing.
 */
function imagesOf(value: unknown): HTMLCanvasElement[] {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  if (shape.length !== 4 || ![1, 3, 4].includes(shape[3]) || shape[1] < 2 || shape[2] < 2) return [];
  const [, h, w, c] = shape;
  const flat = (value as unknown[]).flat(3) as number[];
  const per = h * w * c;
  return (value as unknown[]).map((_, b) => {
    const pixels = flat.slice(b * per, (b + 1) * per);
    const lo = Math.min(...pixels), hi = Math.max(...pixels);
    const canvas = Object.assign(document.createElement('canvas'), { width: w, height: h, className: 'tensor-image' });
    canvas.style.width = `${w * Math.max(1, Math.ceil(IMAGE_WIDTH / w))}px`;
    const image = new ImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      const at = (k: number) => Math.round(((pixels[i * c + Math.min(k, c - 1)] - lo) / (hi - lo || 1)) * 255);
      image.data.set([at(0), at(1), at(2), c === 4 ? at(3) : 255], i * 4);
    }
    canvas.getContext('2d')!.putImageData(image, 0, 0);
    return canvas;
  });
}

/** Draws the inputs box's image inputs above it, as imagesOf does (nothing for text that is not JSON). */
function showInputImages(): void {
  let json: unknown;
  try {
    json = JSON.parse(runInputs.value);
  } catch {
    json = undefined;
  }
  const images = json !== null && typeof json === 'object' ? Object.values(json).flatMap(imagesOf) : [];
  $('run-input-images').replaceChildren(...images);
}

function runEnded(error?: string, status = ''): void {
  if (!probe.running && error === undefined) return;
  probe.running = false;
  $<HTMLButtonElement>('run-stop').disabled = true;
  $('run-status').textContent = status;
  if (error !== undefined) {
    runOutput.classList.add('error');
    runOutput.textContent = error;
    probe.outputs = undefined;
  }
}

// ---------------------------------------------------------------- training, and the draw-a-digit demo

const trainStatus = $('train-status');
const trainProgress = $<HTMLProgressElement>('train-progress');
let trainId = 0;
/** The trained model's input shape (one example); undefined until a run ends. */
let trainedShape: number[] | undefined;
/** The last training run's weights file, for the Download weights button. */
let trainedWeights: { model: string; bytes: Uint8Array<ArrayBuffer> } | undefined;

const wholeOrEmpty = (id: string, min: number): number | undefined | null => {
  const text = $<HTMLInputElement>(id).value.trim();
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= min ? n : null;
};

function startTraining(): void {
  const epochs = wholeOrEmpty('train-epochs', 1), seed = wholeOrEmpty('train-seed', 0);
  if (epochs === null || seed === null) return trainingEnded(`${epochs === null ? 'epochs must be a whole number from 1' : 'the seed must be a whole number from 0'}`);
  const request: TrainRequest = { kind: 'train', id: ++trainId, source: editor.state.doc.toString(), epochs, seed, base: location.href };
  worker.postMessage(request);
  probe.training = true;
  probe.trained = undefined;
  trainedShape = undefined;
  trainedWeights = undefined;
  $<HTMLButtonElement>('train-download').disabled = true;
  $<HTMLButtonElement>('train-stop').disabled = false;
  $<HTMLButtonElement>('train-go').disabled = true;
  trainProgress.value = 0;
  trainStatus.textContent = 'preparing the data…';
}

const percent = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);

function showTraining(reply: TrainReply): void {
  if (reply.id !== trainId) return;
  if (reply.curves) $('train-curves').innerHTML = reply.curves;
  const total = reply.epochs * reply.batches;
  trainProgress.value = total > 0 ? (Math.max(0, reply.epoch - 1) * reply.batches + reply.batch) / total : 0;
  $('train-metrics').textContent = [
    reply.data ? `${reply.model} on ${reply.data}` : '',
    ...reply.history.map((m) => `epoch ${m.epoch}: loss ${m.loss.toFixed(4)}, accuracy ${percent(m.accuracy)}; test loss ${m.testLoss?.toFixed(4) ?? '–'}, test accuracy ${percent(m.testAccuracy)}`),
  ].join('\n');
  if (!reply.done) {
    trainStatus.textContent = reply.epochs > 0 ? `epoch ${reply.epoch}/${reply.epochs}, batch ${reply.batch}/${reply.batches}${reply.loss !== undefined ? `, loss ${reply.loss.toFixed(4)}` : ''}` : 'preparing the data…';
    return;
  }
  probe.trained = reply;
  trainedShape = reply.error === undefined ? reply.inputShape : undefined;
  // A structured clone: the bytes have an ArrayBuffer of their own.
  trainedWeights = reply.error === undefined && reply.weights ? { model: reply.model ?? 'model', bytes: reply.weights as Uint8Array<ArrayBuffer> } : undefined;
  $<HTMLButtonElement>('train-download').disabled = trainedWeights === undefined;
  trainingEnded(reply.error, `trained ${reply.history.length} epoch${reply.history.length === 1 ? '' : 's'}${trainedShape && sizeOfShape(trainedShape) === DIGIT * DIGIT ? ': draw a digit' : ''}`);
}

function trainingEnded(error?: string, status = ''): void {
  probe.training = false;
  $<HTMLButtonElement>('train-stop').disabled = true;
  $<HTMLButtonElement>('train-go').disabled = false;
  trainStatus.textContent = error ?? status;
  trainStatus.classList.toggle('error', error !== undefined);
}

/** MNIST's digits: 28×28, the ink scaled to fit 20×20 and centred by its centre of mass (LeCun et al.'s preprocessing). */
const DIGIT = 28;
const DIGIT_BOX = 20;
const sizeOfShape = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const digitCanvas = $<HTMLCanvasElement>('digit');
const pen = digitCanvas.getContext('2d', { willReadFrequently: true })!;
let drawing = false;

function clearDigit(): void {
  pen.fillStyle = '#000';
  pen.fillRect(0, 0, digitCanvas.width, digitCanvas.height);
  $('digit-prediction').replaceChildren();
  probe.digit = undefined;
}

function stroke(event: PointerEvent, start: boolean): void {
  const box = digitCanvas.getBoundingClientRect();
  const x = ((event.clientX - box.left) * digitCanvas.width) / box.width, y = ((event.clientY - box.top) * digitCanvas.height) / box.height;
  pen.strokeStyle = '#fff';
  pen.lineWidth = digitCanvas.width / 14;
  pen.lineCap = pen.lineJoin = 'round';
  if (start) pen.beginPath(), pen.moveTo(x, y);
  pen.lineTo(x, y);
  pen.stroke();
}

/** The canvas as MNIST would have it: 28×28 values in [0, 1], row by row; undefined when nothing is drawn. */
function digitPixels(): number[] | undefined {
  const { width, height } = digitCanvas;
  const ink = pen.getImageData(0, 0, width, height).data;
  let left = width, right = -1, top = height, bottom = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink[(y * width + x) * 4] > 0) (left = Math.min(left, x)), (right = Math.max(right, x)), (top = Math.min(top, y)), (bottom = Math.max(bottom, y));
  if (right < 0) return undefined;
  // The ink's box scaled to fit 20×20, placed in 28×28 (browser smoothing does the anti-aliasing MNIST's had).
  const scale = DIGIT_BOX / Math.max(right - left + 1, bottom - top + 1);
  const w = (right - left + 1) * scale, h = (bottom - top + 1) * scale;
  const small = Object.assign(document.createElement('canvas'), { width: DIGIT, height: DIGIT });
  const g = small.getContext('2d', { willReadFrequently: true })!;
  g.fillStyle = '#000';
  g.fillRect(0, 0, DIGIT, DIGIT);
  g.imageSmoothingQuality = 'high';
  g.drawImage(digitCanvas, left, top, right - left + 1, bottom - top + 1, (DIGIT - w) / 2, (DIGIT - h) / 2, w, h);
  const gray = g.getImageData(0, 0, DIGIT, DIGIT).data;
  let values = Array.from({ length: DIGIT * DIGIT }, (_, i) => gray[i * 4] / 255);
  // Then moved so that the centre of mass is the centre, by whole pixels.
  let mass = 0, mx = 0, my = 0;
  values.forEach((v, i) => ((mass += v), (mx += v * (i % DIGIT)), (my += v * Math.floor(i / DIGIT))));
  const dx = Math.round((DIGIT - 1) / 2 - mx / mass), dy = Math.round((DIGIT - 1) / 2 - my / mass);
  values = values.map((_, i) => {
    const x = (i % DIGIT) - dx, y = Math.floor(i / DIGIT) - dy;
    return x >= 0 && x < DIGIT && y >= 0 && y < DIGIT ? values[y * DIGIT + x] : 0;
  });
  return values;
}

let predictId = 0;
function predictDigit(): void {
  const pixels = digitPixels();
  if (!pixels) return;
  if (!trainedShape || sizeOfShape(trainedShape) !== DIGIT * DIGIT) {
    probe.digit = { pixels, error: 'train a model whose input takes a 28×28 digit first (Train, with mnist data)' };
    $('digit-prediction').textContent = probe.digit.error!;
    return;
  }
  probe.digit = { pixels };
  worker.postMessage({ kind: 'predict', id: ++predictId, pixels });
}

function showPrediction(reply: PredictReply): void {
  if (reply.id !== predictId || !probe.digit) return;
  if (reply.error !== undefined || !reply.output) {
    probe.digit.error = reply.error;
    $('digit-prediction').textContent = reply.error ?? '';
    return;
  }
  const output = reply.output;
  probe.digit.output = output;
  const best = output.indexOf(Math.max(...output));
  $('digit-prediction').replaceChildren(
    Object.assign(document.createElement('p'), { textContent: `prediction: ${best}` }),
    ...output.map((p, c) => {
      const row = Object.assign(document.createElement('div'), { className: c === best ? 'bar best' : 'bar' });
      const bar = document.createElement('span');
      bar.style.width = `${Math.round(p * 160)}px`;
      row.append(Object.assign(document.createElement('span'), { textContent: `${c}` }), bar, Object.assign(document.createElement('span'), { textContent: p.toFixed(3) }));
      return row;
    }),
  );
}

// ---------------------------------------------------------------- options, panels, sharing

const diagramChoice = (): DiagramChoice => ({
  detail: controls.detail.value as DiagramChoice['detail'],
  theme: controls.theme.value,
  fit: controls.fit.value,
  direction: controls.direction.value as DiagramChoice['direction'],
});

function showPanel(name: Panel): void {
  const had = panel;
  panel = name;
  for (const p of PANELS) {
    $(`tab-${p}`).classList.toggle('active', p === name);
    $(`panel-${p}`).hidden = p !== name;
  }
  // The IR and the module are made only while their panel is open (CompileRequest).
  if ((name === 'tfjs' || name === 'ir') && had !== name) compile();
  else saveFragment();
}

const currentState = (): SharedState => ({ source: editor.state.doc.toString(), model: modelMenu.value || undefined, diagram: diagramChoice(), panel });

/** The fragment follows the page, so the address bar is always a share link. */
function saveFragment(): void {
  history.replaceState(null, '', `#${encodeState(currentState())}`);
}

/** Applies `state`; options the page does not offer fall back to their defaults, and `notes` says which. */
function restore(state: SharedState, notes: string[]): void {
  for (const key of Object.keys(controls) as (keyof DiagramChoice)[]) {
    const wanted = String(state.diagram[key] ?? DEFAULT_DIAGRAM[key]);
    const offered = [...controls[key].options].some((o) => o.value === wanted);
    controls[key].value = offered ? wanted : DEFAULT_DIAGRAM[key];
    if (!offered) notes.push(`the link's ${key} '${wanted}' is not one the playground offers; using '${DEFAULT_DIAGRAM[key]}'`);
  }
  modelMenu.replaceChildren(...(state.model ? [new Option(state.model, state.model)] : []));
  examplesMenu.value = Object.entries(examples).find(([, text]) => text === state.source)?.[0] ?? '';
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: state.source } });
  showPanel(PANELS.includes(state.panel as Panel) ? (state.panel as Panel) : 'diagram');
}

const defaultState = (): SharedState => ({ source: examples[DEFAULT_EXAMPLE] ?? Object.values(examples)[0], diagram: DEFAULT_DIAGRAM, panel: 'diagram' });

function download(name: string, data: Blob): void {
  const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(data), download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** The diagram as PNG, drawn by the browser from the SVG on a canvas at PNG_SCALE. */
async function pngOf(svg: SVGSVGElement): Promise<Blob> {
  const text = new XMLSerializer().serializeToString(svg);
  const { width, height } = svg.viewBox.baseVal;
  const image = new Image();
  image.src = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  await image.decode();
  // Graphviz's viewBox is in points; the SVG's CSS size is 4/3 of it.
  const canvas = Object.assign(document.createElement('canvas'), { width: Math.ceil((width * 4 * PNG_SCALE) / 3), height: Math.ceil((height * 4 * PNG_SCALE) / 3) });
  canvas.getContext('2d')!.drawImage(image, 0, 0, canvas.width, canvas.height);
  URL.revokeObjectURL(image.src);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the canvas gave no PNG'))), 'image/png'));
}

const fileName = (ext: string) => `${modelMenu.value || 'model'}.${ext}`;

// ---------------------------------------------------------------- start

const editor = new EditorView({
  parent: $('editor'),
  extensions: [
    basicSetup,
    EditorView.lineWrapping,
    dlLanguage,
    dlLanguage.data.of({ autocomplete: serviceCompletion }),
    serviceHover,
    lintGutter(),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) compile();
    }),
  ],
});

// The editor itself, for tests that need positions on screen (coordsAtPos); apart from the probe, which tests read as plain data.
(window as unknown as { playgroundEditor: EditorView }).playgroundEditor = editor;
startWorker();
examplesMenu.replaceChildren(new Option('examples…', ''), ...Object.keys(examples).map((name) => new Option(`${name}.dl`, name)));
examplesMenu.onchange = () => {
  if (!examplesMenu.value) return;
  const name = examplesMenu.value;
  modelMenu.replaceChildren();
  notices = [];
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: examples[name] } });
  examplesMenu.value = name;
};
modelMenu.onchange = () => compile();
for (const control of Object.values(controls)) control.onchange = () => compile();
for (const p of PANELS) $(`tab-${p}`).onclick = () => showPanel(p);
$('share').onclick = async () => {
  saveFragment();
  await navigator.clipboard?.writeText(location.href).catch(() => undefined);
  setStatus('share link copied (it is also in the address bar)');
};
$('format').onclick = () => void formatEditor();
$('run-random').onclick = () => startRun(true);
$('train-go').onclick = () => startTraining();
$('train-stop').onclick = () => {
  restartWorker('the training run was stopped', true);
  compile();
};
clearDigit();
$('digit-clear').onclick = () => clearDigit();
digitCanvas.onpointerdown = (event) => {
  drawing = true;
  digitCanvas.setPointerCapture(event.pointerId);
  stroke(event, true);
};
digitCanvas.onpointermove = (event) => drawing && stroke(event, false);
digitCanvas.onpointerup = () => {
  drawing = false;
  predictDigit();
};
$('run-go').onclick = () => startRun(false);
$('run-stop').onclick = () => {
  restartWorker('the run was stopped', true);
  compile();
};
$<HTMLInputElement>('run-file').onchange = async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) runInputs.value = await file.text();
  showInputImages();
};
runInputs.oninput = () => showInputImages();
$('download-svg').onclick = () => {
  const svg = diagramBox.querySelector('svg');
  if (svg) download(fileName('svg'), new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' }));
};
$('download-png').onclick = async () => {
  const svg = diagramBox.querySelector('svg');
  if (svg) download(fileName('png'), await pngOf(svg));
};
$('train-download').onclick = () => {
  if (trainedWeights) download(`${trainedWeights.model}.safetensors`, new Blob([trainedWeights.bytes], { type: 'application/octet-stream' }));
};
$('download-tfjs').onclick = () => {
  const text = $('tfjs-view').textContent ?? '';
  if (text) download(`${modelMenu.value || 'model'}.ts`, new Blob([text], { type: 'text/typescript' }));
};

void hello.then(({ themes, fits, views }) => {
  controls.detail.replaceChildren(...views.map((v) => new Option(v === 'auto' ? 'auto (layers, or blocks to fit)' : v, v)));
  controls.theme.replaceChildren(...themes.map((t) => new Option(t, t)));
  controls.fit.replaceChildren(...fits.map((f) => new Option(f, f)));
  controls.direction.replaceChildren(new Option('left to right', 'LR'), new Option('top to bottom', 'TB'));
  const fragment = location.hash.slice(1);
  const notes: string[] = [];
  let state = defaultState();
  if (fragment) {
    try {
      state = decodeState(fragment);
    } catch (e) {
      notes.push(`the share link could not be opened: ${e instanceof Error ? e.message : e}. Showing the ${DEFAULT_EXAMPLE} example instead.`);
    }
  }
  notices = notes;
  restore(state, notes);
});
