/**
 * The image model-zoo examples (ResNet-50, DenseNet-121, Inception v3,
 * MobileNet v1 and v2, U-Net) in ONNX Runtime against the interpreter, at
 * batch 1, to 1e-4 (issue 14). BERT-base and GPT-2 small are in
 * sequence.test.ts (at T 4), the other examples in export.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileText, IMAGENET_EXAMPLES } from '../../helpers.js';
import { expectClose } from '../interp/helpers.js';
import { bothEngines } from './engines.js';

describe('the model-zoo examples run in ONNX Runtime as in the interpreter', () => {
  for (const file of IMAGENET_EXAMPLES.filter((f) => f !== 'bert_base.dl' && f !== 'gpt2.dl')) {
    it(file, async () => {
      const { expected, actual } = await bothEngines(compileText(readFileSync(`examples/${file}`, 'utf8')), 1, 3, 8);
      expect(Object.keys(actual)).toEqual(Object.keys(expected));
      for (const name of Object.keys(expected)) expectClose(actual[name], expected[name], 1e-4);
    }, 180_000);
  }
});
