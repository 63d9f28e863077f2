/**
 * What a training run prints while it runs. On a terminal: a progress bar
 * redrawn in place with `\r` (epoch, batch, loss, accuracy, samples/s, time
 * left), replaced by a summary line at the end of each epoch. Elsewhere (CI,
 * a pipe): the summary lines only. The lines themselves are reports.progressBar
 * and reports.epochLine in diagnostics.ts.
 */
import { reports } from '../diagnostics.js';
import type { TrainHooks } from './train.js';

export interface Reporter extends TrainHooks {
  /** Clears a half-drawn bar (before printing anything else). */
  clear(): void;
}

export function reporter(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, epochs: number): Reporter {
  const tty = stream.isTTY === true;
  let drawn = false;
  let lastDraw = 0;
  const clear = () => {
    if (drawn) stream.write('\r\x1b[K');
    drawn = false;
  };
  return {
    clear,
    onBatch(p) {
      if (!tty) return;
      const now = performance.now();
      if (now - lastDraw < 100 && p.batch < p.batches) return; // at most 10 redraws a second
      lastDraw = now;
      const line = reports.progressBar(p, stream.columns ?? 100);
      stream.write(`\r${line}\x1b[K`);
      drawn = true;
    },
    onEpoch(m) {
      // Long runs print about 20 epoch lines: the first, every k-th and the last.
      const every = Math.ceil(epochs / 20);
      if (m.epoch !== 1 && m.epoch !== epochs && m.epoch % every !== 0) return;
      clear();
      stream.write(`${reports.epochLine(m, epochs)}\n`);
    },
  };
}
