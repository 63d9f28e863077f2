/**
 * zero_padding, cropping and upsampling; zero_padding and cropping in every way their margins can be written
 * (one number, one per axis, [before, after] pairs) and in 1-D and 2-D,
 * against TensorFlow.js (tf.layers.zeroPadding2d where tfjs has the layer,
 * tf.pad and tf.slice otherwise), with their gradients; and their errors.
 * test/ops/contracts.test.ts checks the emitter, kernels and diagrams.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/backends/interp/execute.js';
import { shiftCopy } from '../../../src/backends/interp/kernels/resize.js';
import { createRng } from '../../../src/runtime/random.js';
import { compileText, errorsOf } from '../../helpers.js';
import { checkGradients } from './grad/harness.js';
import { expectClose, randTensor, toTf, useTfCpu } from './helpers.js';

beforeAll(useTfCpu);

const run = (shape: number[], call: string) => {
  const graph = compileText(`model M {\n  input x: [${shape.join(', ')}]\n  output y = x -> ${call}\n}\n`);
  const x = randTensor([2, ...shape], createRng(3));
  return { x, y: new Interpreter(graph, new Map()).run({ x }).outputs.y };
};

describe('zero_padding', () => {
  it("2-D with Keras's default of 1 on every side, as tf.layers.zeroPadding2d", () => {
    const { x, y } = run([3, 4, 2], 'zero_padding');
    expectClose(y, tf.layers.zeroPadding2d().apply(toTf(x)) as tf.Tensor);
  });

  it('2-D per axis [2, 1], as tf.layers.zeroPadding2d({ padding: [2, 1] })', () => {
    const { x, y } = run([3, 4, 2], 'zero_padding([2, 1])');
    expect(y.shape).toEqual([2, 7, 6, 2]);
    expectClose(y, tf.layers.zeroPadding2d({ padding: [2, 1] }).apply(toTf(x)) as tf.Tensor);
  });

  it('writes every cell of a planned output that held other values: the margins are zeroed, not assumed zero', () => {
    const x = randTensor([2, 3, 4, 2], createRng(4));
    for (const [margins, offsets, size] of [
      [[[1, 0], [0, 1]], [-1, 0], [4, 5]], // MobileNetV2's correct_pad shape on the other side
      [[[0, 1], [2, 1]], [0, -2], [4, 7]],
    ] as const) {
      const out = new Float32Array(2 * size[0] * size[1] * 2).fill(NaN);
      const y = shiftCopy(x, size, offsets, out);
      expect(Array.from(y.data).some(Number.isNaN)).toBe(false);
      expectClose(y, tf.pad(toTf(x), [[0, 0], margins[0] as [number, number], margins[1] as [number, number], [0, 0]]));
    }
  });

  it.each([
    ['zero_padding(2)', [[2, 2]]],
    ['zero_padding([[0, 3]])', [[0, 3]]],
  ])('1-D %s, as tf.pad, with its gradient', (call, margins) => {
    const { x, y } = run([5, 3], call);
    expectClose(y, tf.pad(toTf(x), [[0, 0], ...(margins as [number, number][]), [0, 0]]));
    checkGradients({ body: `input x: [5, 3]\noutput y = x -> ${call}`, reference: (i) => tf.pad(i.x, [[0, 0], ...(margins as [number, number][]), [0, 0]]) });
  });
});

describe('cropping', () => {
  it('2-D by one number, as tf.layers.cropping2D', () => {
    const { x, y } = run([5, 6, 2], 'cropping(1)');
    expectClose(y, tf.layers.cropping2D({ cropping: 1 }).apply(toTf(x)) as tf.Tensor);
  });

  it.each([
    ['cropping([1, 0])', [1, 0], [4, 6]],
    ['cropping([[0, 2], [3, 1]])', [0, 3], [4, 2]],
  ])('2-D %s, as tf.slice, with its gradient', (call, begin, size) => {
    const reference = (x: tf.Tensor) => tf.slice(x, [0, ...(begin as number[]), 0], [-1, ...(size as number[]), -1]);
    const { x, y } = run([6, 6, 2], call);
    expectClose(y, reference(toTf(x)));
    checkGradients({ body: `input x: [6, 6, 2]\noutput y = x -> ${call}`, reference: (i) => reference(i.x) });
  });

  it('1-D [[2, 1]] keeps steps 2 to L - 2', () => {
    const { x, y } = run([7, 3], 'cropping([[2, 1]])');
    expectClose(y, tf.slice(toTf(x), [0, 2, 0], [-1, 4, -1]));
  });
});

describe('upsampling', () => {
  it("2-D by Keras's default 2, as tf.layers.upSampling2d", () => {
    const { x, y } = run([3, 4, 2], 'upsampling');
    expect(y.shape).toEqual([2, 6, 8, 2]);
    expectClose(y, tf.layers.upSampling2d({}).apply(toTf(x)) as tf.Tensor);
  });

  it('1-D repeats each step (Keras UpSampling1D), with its gradient', () => {
    const reference = (x: tf.Tensor) => {
      const [B, L, C] = x.shape;
      return tf.reshape(tf.tile(tf.reshape(x, [B, L, 1, C]), [1, 1, 3, 1]), [B, L * 3, C]);
    };
    const { x, y } = run([4, 2], 'upsampling(3)');
    expectClose(y, reference(toTf(x)));
    checkGradients({ body: 'input x: [4, 2]\noutput y = x -> upsampling(3)', reference: (i) => reference(i.x) });
  });
});

describe('errors', () => {
  it('cropping everything away is a located error with a hint', () => {
    const [e] = errorsOf('model M {\n  input x: [4, 5, 2]\n  output y = x -> cropping([[2, 2], [0, 0]])\n}\n');
    expect(e).toMatchObject({ at: '3:19', message: 'cropping: cropping 2+2, 0+0 leaves nothing of the input [4, 5, 2]', hint: 'crop less than each spatial size' });
  });

  it('margins for the wrong number of axes, negative or fractional margins, and a 3-D input are located errors', () => {
    expect(errorsOf('model M {\n  input x: [4, 5, 2]\n  output y = x -> zero_padding([1, 2, 3])\n}\n')[0]).toMatchObject({
      at: '3:19', message: "zero_padding: 'padding' has 3 entries but the input has 2 spatial dimensions",
    });
    expect(errorsOf('model M {\n  input x: [4, 5, 2]\n  output y = x -> zero_padding(-1)\n}\n')[0].message).toMatch(/zero_padding.*'padding'.*non-negative whole number/);
    expect(errorsOf('model M {\n  input x: [4, 5, 2]\n  output y = x -> cropping([[1, 0.5], [0, 0]])\n}\n')[0].message).toMatch(/cropping.*'cropping'.*\[before, after\] pairs/);
    expect(errorsOf('model M {\n  input x: [4, 5, 2, 3]\n  output y = x -> zero_padding\n}\n')[0].message).toBe(
      'zero_padding: expects a [steps, channels] or [height, width, channels] input, got [4, 5, 2, 3]',
    );
  });
});
