// Shared by the benchmark sections: timing by median after warm-up, and markdown tables.
import os from 'node:os';

/**
 * Median wall time of `fn` in ms: `warmup` calls first, and more until
 * `warmupMs` have passed, then enough calls to fill about `budgetMs` (at
 * least `min`, at most `max`).
 */
export async function medianMs(fn, { warmup = 1, warmupMs = 0, budgetMs = 2000, min = 3, max = 15 } = {}) {
  let last = 0;
  const start = performance.now();
  for (let i = 0; i < warmup || performance.now() - start < warmupMs; i++) {
    const t0 = performance.now();
    await fn();
    last = performance.now() - t0;
  }
  const runs = Math.max(min, Math.min(max, Math.round(budgetMs / Math.max(last, 1e-3))));
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return { ms: times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2, runs };
}

/** A markdown table; `align` has 'l' or 'r' per column. */
export function table(header, rows, align = header.map((_, i) => (i === 0 ? 'l' : 'r'))) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : ':---'))), ...rows.map(line)].join('\n');
}

export const fixed = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

export const machine = () => `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}`;
