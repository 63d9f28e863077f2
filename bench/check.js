// The front end on long sources (`npm run bench -- check`): a 10,000-layer
// chain and 1 MB of source, checked side by side. compileSource = parse +
// build the graph + infer every shape, which is what `dlc check` does after
// reading the file. Issue 16's targets: 10,000 layers under 0.5 s; 1 MB under
// 5 s within 300 MB.
//
// Each size is checked in fresh processes (`node bench/check.js <layers> <warm>`),
// so that the peak resident memory (maxRSS) is this check's alone: the time of
// a first check, and the median of `warm` more after it in the same process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fixed, table } from './util.js';

/** A model of `layers` layers, dense(64) and relu alternating, one `->` per line. */
export function chainSource(layers) {
  const steps = Array.from({ length: layers }, (_, i) => (i % 2 === 0 ? '    -> dense(64)' : '    -> relu'));
  return `model Chain${layers} {\n  input x: [64]\n  output y = x\n${steps.join('\n')}\n}\n`;
}

/** Layers whose chain source is `bytes` long (each line is 16 or 12 characters and a newline). */
const layersFor = (bytes) => Math.floor(bytes / 15);

async function child(layers, warmRuns) {
  const { compileSource } = await import('../dist/src/compile.js');
  const source = { path: `chain${layers}.dl`, text: chainSource(layers) };
  const times = [];
  let maxRssMB = 0;
  for (let i = 0; i <= warmRuns; i++) {
    const start = performance.now();
    const nodes = compileSource(source).graphs[0].nodes.length;
    times.push(performance.now() - start);
    if (nodes !== layers + 1) throw new Error(`bench/check: expected ${layers + 1} nodes, got ${nodes}`);
    if (i === 0) maxRssMB = process.resourceUsage().maxRSS / 1024; // what one `dlc check` needs
  }
  const warm = times.slice(1).sort((a, b) => a - b)[warmRuns >> 1];
  console.log(JSON.stringify({ chars: source.text.length, first: times[0], warm, maxRssMB }));
}

export async function run() {
  const rows = [];
  for (const [label, layers, warmRuns] of [['10,000 layers', 10_000, 5], ['1 MB', layersFor(2 ** 20), 3]]) {
    const runs = [0, 1, 2].map(() => {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(layers), String(warmRuns)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`bench/check: the child failed: ${r.stderr}`);
      return JSON.parse(r.stdout);
    });
    const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[1];
    rows.push([
      label,
      layers.toLocaleString('en-US'),
      `${(runs[0].chars / 1024).toFixed(0)} KB`,
      fixed(median('first')),
      fixed(median('warm')),
      fixed(Math.max(...runs.map((r) => r.maxRssMB)), 0),
    ]);
  }
  return [
    '## Front end: check long sources',
    '',
    'A chain of dense(64) and relu layers, one per line; compileSource (parse, build, infer shapes) in a fresh process: the first check, the median of the next five (three for 1 MB), and the peak RSS of the process by the end of its first check (Node itself is about 45 MB). Medians of 3 processes.',
    '',
    table(['source', 'layers', 'size', 'first check ms', 'warm check ms', 'peak RSS MB (first check)'], rows),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) await child(Number(process.argv[2]), Number(process.argv[3]));
