/** Shared test helpers: compile .dl text in memory and read its diagnostics. */
import { compileSource, selectModel } from '../src/compile.js';
import { CompileError, Diagnostic, lineCol } from '../src/diagnostics.js';
import type { Graph } from '../src/ir/types.js';

/**
 * The ImageNet-sized examples (from 0.6 to 300 GFLOPs, millions of weights;
 * U-Net segments a 572x572 tile rather than classifying ImageNet), and the
 * language models BERT-base and GPT-2 small (22 GFLOPs, 110 and 124 million
 * weights). Loops that run every example skip them to keep the suite within
 * minutes; test/backends/interp/models.test.ts checks the CNNs' forward pass,
 * as written and optimized, against tf.layers, and
 * test/backends/tfjs/language-models.test.ts the language models' against
 * their generated modules and tf ops.
 */
export const IMAGENET_EXAMPLES = ['resnet50.dl', 'densenet121.dl', 'inception_v3.dl', 'mobilenet.dl', 'mobilenet_v2.dl', 'unet.dl', 'bert_base.dl', 'gpt2.dl'];

export function compileText(text: string, model?: string): Graph {
  return selectModel(compileSource({ path: 'test.dl', text }), model);
}

/** The diagnostics of a source that must fail, with 1-based line:column of each. */
export function errorsOf(text: string): (Diagnostic & { at: string })[] {
  try {
    compileSource({ path: 'test.dl', text });
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return e.diagnostics.map((d) => {
      const { line, column } = d.span ? lineCol(d.span) : { line: 0, column: 0 };
      return { ...d, at: `${line}:${column}` };
    });
  }
  throw new Error('expected the source to fail to compile');
}
