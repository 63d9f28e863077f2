/**
 * Training through the resampling ops: a digit classifier whose features go
 * down by a strided conv, back up by a transposed conv (U-Net's up-step) and
 * bilinear upsampling, then are pooled and classified, learns real MNIST
 * digits well above chance (0.1) in a few epochs of the interpreter's `train`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { prepareTraining, train } from '../../src/train/index.js';

const dir = mkdtempSync(join(tmpdir(), 'dlc-resampling-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a down-and-up convnet with conv2d_transpose and bilinear upsampling learns digits', () => {
  const file = join(dir, 'updown.dl');
  writeFileSync(
    file,
    `model UpDown {
  input image: [28, 28, 1]
  output probs = image
    -> conv2d(8, kernel = 3, stride = 2, padding = same) -> relu
    -> conv2d_transpose(8, 3, stride = 2, padding = same, output_padding = 1, activation = relu)
    -> maxpool(4)
    -> upsampling(2, interpolation = bilinear)
    -> maxpool(2)
    -> flatten
    -> dense(10) -> softmax
}
train UpDown {
  data = mnist(600, test = 300)
  loss = crossentropy
  optimizer = adam(lr = 0.01)
  epochs = 4
  batch = 32
}
`,
  );
  const { graph, config, data } = prepareTraining(file);
  const run = train(graph, config, data);
  const last = run.history.at(-1)!;
  expect(run.stopped).toBeUndefined();
  expect(last.testLoss).toBeLessThan(run.history[0].testLoss!);
  expect(last.testAccuracy).toBeGreaterThan(0.7);
});
