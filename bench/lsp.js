// The language server's responsiveness (`npm run bench -- lsp`): a 1,000-layer
// chain (bench/check.js's) open in `dlc lsp --stdio`, edited one character at a
// time as an editor would send it; each edit's latency is from sending
// didChange to receiving the diagnostics published for that version, with the
// server's debounce set to 0 (editors add the default 50 ms on top). Issue 17's
// target: under 100 ms.
//
// Beside it, in this process, where the time goes: parsing the edited text
// without and with the document's memo (the AST of unchanged pieces,
// ParseMemo), and the whole analysis (parse, build the graph, infer shapes).
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializeRequest,
  InitializedNotification,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { chainSource } from './check.js';
import { fixed, table } from './util.js';

const LAYERS = 1000;
const EDITS = 40;
/** Edits sent first and not timed: the server's code is compiled by then, as in an editing session. */
const WARMUP = 10;

/** The one-character edits: a dense layer's width 64 -> 65 and back, at lines spread over the chain; or a stray `?` typed and deleted. */
function edits(text, broken) {
  const lines = text.split('\n');
  const denseLines = lines.map((l, i) => (l.includes('dense(64)') ? i : -1)).filter((i) => i >= 0);
  const out = [];
  for (let k = 0; k < EDITS; k++) {
    const line = denseLines[Math.floor(((k >> 1) * 7919) % denseLines.length)];
    const character = lines[line].indexOf('64') + 1;
    const range = { start: { line, character }, end: { line, character: character + (broken ? (k % 2) : 1) } };
    out.push({ range, text: broken ? (k % 2 === 0 ? '?' : '') : k % 2 === 0 ? '5' : '4' });
  }
  return out;
}

async function serverLatencies(text, broken) {
  const child = spawn(process.execPath, ['bin/dlc.js', 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map();
  connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
    waiting.get(p.version)?.(p);
  });
  connection.listen();
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { diagnosticsDelay: 0 } });
  await connection.sendNotification(InitializedNotification.type, {});
  const uri = pathToFileURL(`chain${LAYERS}.dl`).href;
  const published = (version) => new Promise((resolve) => waiting.set(version, resolve));
  let wait = published(1);
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'dl', version: 1, text } });
  const open = await wait;
  if (open.diagnostics.length !== 0) throw new Error(`bench/lsp: the chain has problems: ${open.diagnostics[0].message}`);
  const times = [];
  let version = 1;
  for (const [k, change] of edits(text, broken).entries()) {
    version++;
    wait = published(version);
    const t0 = performance.now();
    await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [change] });
    const p = await wait;
    if (k >= WARMUP) times.push(performance.now() - t0);
    const expected = broken && version % 2 === 0 ? 1 : 0;
    if (p.diagnostics.length !== expected) throw new Error(`bench/lsp: version ${version} has ${p.diagnostics.length} diagnostics, expected ${expected}`);
  }
  await connection.sendRequest(ShutdownRequest.type);
  await connection.sendNotification(ExitNotification.type);
  connection.dispose();
  return times;
}

/** Each phase of one check of the text after each edit, in this process: parsing with and without the document's memo, and the whole analysis. */
async function inProcess(text) {
  const { analyse, DocumentCache } = await import('../dist/src/service/index.js');
  const { parse } = await import('../dist/src/frontend/parse.js');
  const cache = new DocumentCache();
  analyse(text, 'file:///chain.dl', cache);
  const times = { plain: [], memo: [], analyse: [] };
  let current = text;
  const timed = (list, f) => {
    const t0 = performance.now();
    f();
    list.push(performance.now() - t0);
  };
  for (const change of edits(text, false)) {
    const ls = current.split('\n');
    const l = ls[change.range.start.line];
    ls[change.range.start.line] = l.slice(0, change.range.start.character) + change.text + l.slice(change.range.end.character);
    current = ls.join('\n');
    timed(times.plain, () => parse({ path: 'chain.dl', text: current }));
    timed(times.memo, () => parse({ path: 'chain.dl', text: current }, cache.memo));
    timed(times.analyse, () => analyse(current, 'file:///chain.dl', cache).checked);
  }
  return times;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

export async function run() {
  const text = chainSource(LAYERS);
  const rows = [];
  const valid = await serverLatencies(text, false);
  rows.push(['dlc lsp over stdio: edit -> diagnostics', 'a width changed (valid)', fixed(median(valid)), fixed(p90(valid))]);
  const broken = await serverLatencies(text, true);
  rows.push(['dlc lsp over stdio: edit -> diagnostics', "a '?' typed and deleted (syntax error)", fixed(median(broken)), fixed(p90(broken))]);
  const phases = await inProcess(text);
  rows.push(['in process: parse alone, a fresh parse (no document memo)', 'a width changed', fixed(median(phases.plain)), fixed(p90(phases.plain))]);
  rows.push(["in process: parse alone, with the document's memo", 'a width changed', fixed(median(phases.memo)), fixed(p90(phases.memo))]);
  rows.push(['in process: whole analysis (parse with memo, build, infer shapes)', 'a width changed', fixed(median(phases.analyse)), fixed(p90(phases.analyse))]);
  return [
    '## Language server: re-check after a one-character edit',
    '',
    `A ${LAYERS.toLocaleString('en-US')}-layer chain (dense(64) and relu, one per line; ${(text.length / 1024).toFixed(0)} KB), ${EDITS} one-character edits at lines spread over the chain. Over stdio: from sending didChange to receiving that version's diagnostics, debounce 0 (editors wait 50 ms more by default), after ${WARMUP} untimed edits; a '?' makes a syntax error, reparsing its declaration whole. In process: the parse of each edited text without and with the document's memo, and the whole analysis.`,
    '',
    table(['what', 'edit', 'median ms', 'p90 ms'], rows, ['l', 'l', 'r', 'r']),
  ].join('\n');
}
