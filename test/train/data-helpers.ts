/** Loading a train section's data from source text, shared by the data-source tests. */
import { join } from 'node:path';
import { compileSource } from '../../src/compile.js';
import { CompileError, lineCol } from '../../src/diagnostics.js';
import { selectTrainModel, trainConfig } from '../../src/train/config.js';
import { loadData } from '../../src/train/data.js';
import { TrainError } from '../../src/train/errors.js';

/** `dataOf` loads the data of a source written as `DIR/net.dl` (files it names are relative to DIR); `errorOf` gives the error instead. */
export function dataSources(dir: string) {
  function dataOf(text: string) {
    const file = compileSource({ path: join(dir, 'net.dl'), text });
    const graph = selectTrainModel(file);
    return loadData(trainConfig(file, graph), graph);
  }
  /** The error the data gives: located ones as "line:col message (hint)", others as their message. */
  function errorOf(text: string): string {
    try {
      dataOf(text);
    } catch (e) {
      if (e instanceof CompileError) return e.diagnostics.map((d) => `${lineCol(d.span!).line}:${lineCol(d.span!).column} ${d.message}${d.hint ? ` (${d.hint})` : ''}`).join('\n');
      if (e instanceof TrainError) return e.message;
      throw e;
    }
    throw new Error('expected the data to be rejected');
  }
  return { dataOf, errorOf };
}
