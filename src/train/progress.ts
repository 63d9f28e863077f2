/**
 * What a training run prints while it runs. On a terminal: a progress bar
 * redrawn in place with `\r` (epoch, batch, loss, accuracy, samples/s, time
 * left), replaced by a summary line at the end of each epoch. Elsewhere (CI,
 * a pipe): the summary lines only.
 */
import type { EpochMetrics, Progress, TrainHooks } from './train.js';

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
      const line = progressLine(p, stream.columns ?? 100);
      stream.write(`\r${line}\x1b[K`);
      drawn = true;
    },
    onEpoch(m) {
      // Long runs print about 20 epoch lines: the first, every k-th and the last.
      const every = Math.ceil(epochs / 20);
      if (m.epoch !== 1 && m.epoch !== epochs && m.epoch % every !== 0) return;
      clear();
      stream.write(`${epochLine(m, epochs)}\n`);
    },
  };
}

export function progressLine(p: Progress, columns: number): string {
  const stats = [
    `loss ${p.loss.toFixed(4)}`,
    p.accuracy === null ? '' : `acc ${percent(p.accuracy)}`,
    `${Math.round(p.samplesPerSecond)} samples/s`,
    `${duration(p.secondsLeft)} left`,
  ].filter(Boolean).join('  ');
  const head = `epoch ${p.epoch}/${p.epochs} ${`${p.batch}/${p.batches}`.padStart(2 * `${p.batches}`.length + 1)}`;
  const barWidth = Math.max(10, Math.min(30, columns - head.length - stats.length - 6));
  const filled = Math.round((p.batch / p.batches) * barWidth);
  return `${head} [${'='.repeat(filled)}${' '.repeat(barWidth - filled)}] ${stats}`;
}

export function epochLine(m: EpochMetrics, epochs: number): string {
  return [
    `epoch ${`${m.epoch}`.padStart(`${epochs}`.length)}/${epochs}`,
    `loss ${m.loss.toFixed(4)}`,
    m.accuracy === null ? '' : `acc ${percent(m.accuracy)}`,
    m.testLoss === null ? '' : `test loss ${m.testLoss.toFixed(4)}`,
    m.testAccuracy === null ? '' : `test acc ${percent(m.testAccuracy)}`,
    `${Math.round(m.samplesPerSecond)} samples/s`,
    `${m.seconds.toFixed(1)} s`,
  ].filter(Boolean).join('  ');
}

export const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = `${s % 60}`.padStart(2, '0');
  return h > 0 ? `${h}:${`${m}`.padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
