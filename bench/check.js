// The front end on long chains: parse, then compileSource (parse + build the
// graph + infer every shape), for 1,000 and 10,000 layers alternating
// dense(64) and relu. Medians of 5 runs after one warm-up.
import { compileSource } from '../dist/src/compile.js';
import { parse } from '../dist/src/frontend/parse.js';
import { fixed, medianMs, table } from './util.js';

/** A model of `layers` layers, dense(64) and relu alternating, one `->` per line. */
export function chainSource(layers) {
  const steps = Array.from({ length: layers }, (_, i) => (i % 2 === 0 ? '    -> dense(64)' : '    -> relu'));
  return `model Chain${layers} {\n  input x: [64]\n  output y = x\n${steps.join('\n')}\n}\n`;
}

export async function run() {
  const rows = [];
  for (const layers of [1_000, 10_000]) {
    const source = { path: `chain${layers}.dl`, text: chainSource(layers) };
    const nodes = compileSource(source).graphs[0].nodes.length;
    if (nodes !== layers + 1) throw new Error(`bench/check: expected ${layers + 1} nodes, got ${nodes}`);
    const opts = { warmup: 1, min: 5, max: 5 };
    const parsed = await medianMs(() => {
      if (!parse(source).ok) throw new Error('bench/check: the chain does not parse');
    }, opts);
    const compiled = await medianMs(() => compileSource(source), opts);
    const per1k = (ms) => fixed((ms * 1000) / layers, 2);
    rows.push([
      layers.toLocaleString('en-US'),
      `${(source.text.length / 1024).toFixed(0)} KB`,
      fixed(parsed.ms),
      per1k(parsed.ms),
      fixed(compiled.ms),
      per1k(compiled.ms),
    ]);
  }
  return [
    '## Front end: parse and check long chains',
    '',
    'A chain of dense(64) and relu layers, one per line. compileSource = parse + build the graph + infer shapes; median of 5 runs after a warm-up.',
    '',
    table(['layers', 'source', 'parse ms', 'parse ms / 1k layers', 'compileSource ms', 'compileSource ms / 1k layers'], rows),
  ].join('\n');
}
