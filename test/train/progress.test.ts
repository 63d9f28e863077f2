/** What a run prints: the progress bar on a terminal, epoch lines, durations. */
import { describe, expect, it } from 'vitest';
import { duration, reports } from '../../src/diagnostics.js';
import { reporter } from '../../src/train/progress.js';

const progress = { epoch: 2, epochs: 3, batch: 50, batches: 125, loss: 0.123456, accuracy: 0.9612, samplesPerSecond: 650.4, secondsLeft: 75 };
const metrics = { epoch: 2, loss: 0.2, accuracy: 0.94, testLoss: 0.1165, testAccuracy: 0.965, seconds: 13.72, samplesPerSecond: 642.2 };

describe('progress', () => {
  it('a bar with epoch, batch, loss, accuracy, samples/s and time left', () => {
    expect(reports.progressBar(progress, 120)).toBe('epoch 2/3  50/125 [============                  ] loss 0.1235  acc 96.12%  650 samples/s  1:15 left');
    expect(reports.progressBar({ ...progress, accuracy: null }, 60)).toBe('epoch 2/3  50/125 [====      ] loss 0.1235  650 samples/s  1:15 left');
  });

  it('epoch lines', () => {
    expect(reports.epochLine(metrics, 3)).toBe('epoch 2/3  loss 0.2000  acc 94.00%  test loss 0.1165  test acc 96.50%  642 samples/s  13.7 s');
    expect(reports.epochLine({ ...metrics, accuracy: null, testLoss: null, testAccuracy: null }, 10)).toBe('epoch  2/10  loss 0.2000  642 samples/s  13.7 s');
  });

  it('on a terminal the bar is redrawn in place and replaced by the epoch line', () => {
    const writes: string[] = [];
    const stream = { isTTY: true, columns: 120, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream;
    const r = reporter(stream, 3);
    r.onBatch!(progress);
    r.onBatch!({ ...progress, batch: 125 }); // the last batch is always drawn
    r.onEpoch!(metrics);
    expect(writes).toEqual([
      `\r${reports.progressBar(progress, 120)}\x1b[K`,
      `\r${reports.progressBar({ ...progress, batch: 125 }, 120)}\x1b[K`,
      '\r\x1b[K',
      `${reports.epochLine(metrics, 3)}\n`,
    ]);
  });

  it('elsewhere only the epoch lines', () => {
    const writes: string[] = [];
    const r = reporter({ write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream, 3);
    r.onBatch!(progress);
    r.onEpoch!(metrics);
    expect(writes).toEqual([`${reports.epochLine(metrics, 3)}\n`]);
  });

  it('durations', () => {
    expect([duration(0), duration(59.6), duration(75), duration(3725)]).toEqual(['0:00', '1:00', '1:15', '1:02:05']);
  });
});
