/**
 * The worker pool's claiming protocol (threads.ts publish and claim), driven
 * from one thread so that the order of claims is the test's: each thread
 * takes its own segment of a job's chunks first, then the segments after
 * it; every chunk is claimed once; a claim for a job that is over fails.
 * That the threads' results equal one thread's is gemm.test.ts's.
 */
import { describe, expect, it } from 'vitest';
import { claim, CONTROL_INTS, LAYOUT, publish } from '../../../../src/backends/interp/wasm/threads.js';
import { createRng } from '../../../../src/runtime/random.js';

const control = () => new Int32Array(new SharedArrayBuffer(4 * CONTROL_INTS));

describe('claiming chunks', () => {
  it('a thread takes its own segment first, in order, then the next thread\'s', () => {
    const ctl = control();
    publish(ctl, 1, 2, 8);
    const take = (index: number) => claim(ctl, 1, index, LAYOUT);
    expect([take(0), take(1), take(0), take(0), take(0)]).toEqual([0, 4, 1, 2, 3]);
    // Thread 0's segment is spent: it helps with thread 1's, from its next chunk on.
    expect([take(0), take(1), take(0), take(1), take(0)]).toEqual([5, 6, 7, -1, -1]);
  });

  it('segments of uneven length, three threads, and more threads than chunks', () => {
    const ctl = control();
    publish(ctl, 7, 3, 7); // [0, 2), [2, 4), [4, 7)
    const take = (index: number) => claim(ctl, 7, index, LAYOUT);
    expect([take(2), take(2), take(2), take(2), take(2)]).toEqual([4, 5, 6, 0, 1]);
    expect([take(1), take(0), take(1), take(0)]).toEqual([2, 3, -1, -1]);
    publish(ctl, 8, 4, 2); // [0, 0), [0, 1), [1, 1), [1, 2)
    expect([claim(ctl, 8, 0, LAYOUT), claim(ctl, 8, 0, LAYOUT), claim(ctl, 8, 0, LAYOUT)]).toEqual([0, 1, -1]);
  });

  it('a claim for the job before fails, even where the new job\'s segment has chunks left', () => {
    const ctl = control();
    publish(ctl, 3, 2, 8);
    for (let k = 0; k < 8; k++) claim(ctl, 3, k % 2, LAYOUT);
    publish(ctl, 4, 2, 8);
    expect(claim(ctl, 3, 0, LAYOUT)).toBe(-1);
    expect(claim(ctl, 3, 1, LAYOUT)).toBe(-1);
    expect(claim(ctl, 4, 1, LAYOUT)).toBe(4);
  });

  it('every chunk is claimed exactly once, whatever the order of the threads', () => {
    const rng = createRng(2718);
    for (let seq = 1; seq <= 200; seq++) {
      const ctl = control();
      const threads = 1 + Math.floor(rng.uniform() * 5);
      const chunks = Math.floor(rng.uniform() * 40);
      publish(ctl, seq, threads, chunks);
      const claimed: number[] = [];
      const done = new Set<number>();
      while (done.size < threads) {
        const index = Math.floor(rng.uniform() * threads);
        const chunk = claim(ctl, seq, index, LAYOUT);
        if (chunk < 0) done.add(index);
        else claimed.push(chunk);
      }
      expect(claimed.sort((a, b) => a - b)).toEqual(Array.from({ length: chunks }, (_, i) => i));
    }
  });
});
