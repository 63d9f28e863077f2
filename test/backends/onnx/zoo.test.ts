/**
 * The image model-zoo examples (ResNet-50, DenseNet-121, Inception v3,
 * MobileNet v1 and v2, U-Net) in ONNX Runtime against the interpreter, at
 * batch 1, to 1e-4 (issue 14). U-Net runs as a specialised copy of its text:
 * its 572 tile at 64 channels is 300 GFLOPs through each engine, and a
 * 204x204 tile at 4 channels has the same layers (up-convolutions, cropped
 * skips, concatenations), as in test/backends/interp/models.test.ts.
 * BERT-base and GPT-2 small are in sequence.test.ts (at T 4), the other
 * examples in export.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileText, IMAGENET_EXAMPLES } from '../../helpers.js';
import { expectClose } from '../interp/helpers.js';
import { bothEngines } from './engines.js';

/** Text replacements that scale an example down without changing its layers; a change the text no longer allows is a test error. */
const SMALLER: Record<string, [string, string][]> = {
  'unet.dl': [['const base = 64', 'const base = 4'], ['[572, 572, 1]', '[204, 204, 1]']],
};

function exampleText(file: string): string {
  let text = readFileSync(`examples/${file}`, 'utf8');
  for (const [from, to] of SMALLER[file] ?? []) {
    if (!text.includes(from)) throw new Error(`test: examples/${file} no longer contains ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return text;
}

describe('the model-zoo examples run in ONNX Runtime as in the interpreter', () => {
  for (const file of IMAGENET_EXAMPLES.filter((f) => f !== 'bert_base.dl' && f !== 'gpt2.dl')) {
    it(file, async () => {
      const graph = compileText(exampleText(file));
      // The paper's crops hold for any tile n with (n - 4) / 8 odd; the output is n - 184 pixels square.
      if (file === 'unet.dl') expect(graph.outputs[0].node.type.shape).toEqual([null, 20, 20, 2]);
      const { expected, actual } = await bothEngines(graph, 1, 3, 8);
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
      for (const name of Object.keys(expected)) expectClose(actual[name], expected[name], 1e-4);
    }, 180_000);
  }
});
