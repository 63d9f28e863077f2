/**
 * `npm run fuzz -- --seed N --count M [--workers W] [--timeout MS] [--skip a,b] [--out DIR] [--no-shrink] [--svg-every K] [--tfjs-every K]`
 *
 * Runs M fuzz inputs of seed N through the whole pipeline (run.ts), prints the
 * tally and one line per failure signature, writes the shrunk reproducers to
 * DIR (default dist/fuzz-findings/, outside git), and exits 1 when anything failed.
 */
import { parseArgs } from 'node:util';
import { FAMILIES, type Family } from './inputs.js';
import { runFuzz, writeFindings } from './run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '5000' },
    skip: { type: 'string', default: '' },
    out: { type: 'string', default: 'dist/fuzz-findings' },
    'no-shrink': { type: 'boolean', default: false },
    'svg-every': { type: 'string', default: '20' },
    'tfjs-every': { type: 'string', default: '3' },
  },
});
const whole = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`fuzz: --${name} must be a whole number, got ${text}`);
  return n;
};
const skip = values.skip.split(',').filter(Boolean) as Family[];
for (const f of skip) if (!FAMILIES.includes(f)) throw new Error(`fuzz: --skip ${f}: the families are ${FAMILIES.join(', ')}`);

const count = whole('count', values.count);
const { tally, findings } = await runFuzz({
  seed: whole('seed', values.seed),
  count,
  workers: Math.max(1, whole('workers', values.workers)),
  timeout: whole('timeout', values.timeout),
  skip,
  svgEvery: Math.max(1, whole('svg-every', values['svg-every'])),
  tfjsEvery: Math.max(1, whole('tfjs-every', values['tfjs-every'])),
  shrinkRuns: values['no-shrink'] ? 0 : undefined,
  progress: (done, t) => console.error(`${done}/${count} inputs, ${(done / t.seconds).toFixed(1)}/s, ${t.failures} failures ${JSON.stringify(t.byClass)}`),
});
console.log(`${tally.inputs} inputs in ${tally.seconds.toFixed(1)} s (${(tally.inputs / tally.seconds).toFixed(1)}/s): ${tally.ok} ok, ${tally.rejected} rejected with a diagnostic, ${tally.slow} slow, ${tally.failures} failures ${JSON.stringify(tally.byClass)}`);
if (findings.length > 0) {
  const paths = writeFindings(values.out, findings);
  findings.forEach((f, i) => console.log(`  ${f.count} x ${f.class} [${f.signature}] first at input ${f.first.index} (${f.first.origin}): ${paths[i]}`));
}
process.exitCode = findings.length > 0 ? 1 : 0;
