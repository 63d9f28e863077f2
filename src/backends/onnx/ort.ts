/**
 * ONNX Runtime as an engine (`dlc run --engine ort`, `dlc eval --engine ort`):
 * the graph exported by exportOnnx, run by `onnxruntime-node`'s native CPU
 * library, with the interpreter's inputs and outputs (Tensor records, token
 * ids as int32). onnxruntime-node is an optional dependency: when it is not
 * installed, or its native library does not load, the engine says so in one
 * message.
 */
import { UserError } from '../../diagnostics.js';
import type { Graph } from '../../ir/types.js';
import { isFloat32Array, type Tensor } from '../interp/tensor.js';
import type { Weights } from '../interp/weights.js';
import { ortMessages } from '../../diagnostics.js';
import { exportOnnx } from './index.js';

type Ort = typeof import('onnxruntime-node');
let loaded: Promise<Ort> | undefined;

/** onnxruntime-node, imported once; a clear UserError when it is missing or broken. */
export function loadOrt(): Promise<Ort> {
  loaded ??= import('onnxruntime-node').then(
    (m) => ((m as { default?: Ort }).default ?? m) as Ort,
    (e: Error & { code?: string }) => {
      loaded = undefined;
      const missing = e.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package) 'onnxruntime-node'/.test(e.message);
      throw new UserError(missing ? ortMessages.missing() : ortMessages.broken(firstLine(e.message)));
    },
  );
  return loaded;
}

const firstLine = (text: string) => text.split('\n')[0].slice(0, 200);

export interface OrtOptions {
  /** Intra-op threads (default: ONNX Runtime's, one per core). */
  threads?: number;
  sourcePath: string;
}

/** A model exported and loaded into one ONNX Runtime session, run as often as needed on Tensor records. */
export class OrtSession {
  private constructor(
    private readonly graph: Graph,
    private readonly ort: Ort,
    private readonly session: import('onnxruntime-node').InferenceSession,
  ) {}

  static async create(graph: Graph, weights: Weights, options: OrtOptions): Promise<OrtSession> {
    const ort = await loadOrt();
    // The whole model in memory: external data is only for files past 2 GB, which a session buffer cannot hold anyway.
    const { model } = exportOnnx(graph, weights, { sourcePath: options.sourcePath, externalAbove: Infinity });
    const session = await ort.InferenceSession.create(model, {
      ...(options.threads && { intraOpNumThreads: options.threads, interOpNumThreads: 1 }),
      graphOptimizationLevel: 'all',
    }).catch((e: Error) => {
      throw new UserError(ortMessages.refused(graph.name, firstLine(e.message)));
    });
    return new OrtSession(graph, ort, session);
  }

  /**
   * Runs the session on the interpreter's tensors. `into`, as the
   * interpreter's run option: a previous run's outputs, which ONNX Runtime
   * writes into (pre-allocated outputs) where their shapes match this run's.
   */
  async run(inputs: Record<string, Tensor>, { into }: { into?: Record<string, Tensor> } = {}): Promise<Record<string, Tensor>> {
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const input of this.graph.inputs) {
      const t = inputs[input.name];
      feeds[input.name] = input.type.dtype === 'int32' ? new this.ort.Tensor('int32', Int32Array.from(t.data), t.shape) : new this.ort.Tensor('float32', t.data, t.shape);
    }
    const fetches: Record<string, import('onnxruntime-node').Tensor | null> = {};
    const given = new Map<string, Float32Array>();
    for (const o of this.graph.outputs) {
      const previous = into && Object.hasOwn(into, o.name) ? into[o.name] : undefined;
      // The run's output shape: the batch of the inputs and the static rest (a dimension variable's length is not known here).
      const shape = [inputs[this.graph.inputs[0].name]?.shape[0] ?? 1, ...o.node.type.shape.slice(1)];
      const known = o.node.type.dtype === 'float32' && shape.every((d): d is number => typeof d === 'number');
      const fits = known && isFloat32Array(previous?.data) && previous.data.length === (shape as number[]).reduce((a, b) => a * b, 1) && ![...given.values()].includes(previous.data);
      fetches[o.name] = fits ? new this.ort.Tensor('float32', previous!.data, shape as number[]) : null;
      if (fits) given.set(o.name, previous!.data);
    }
    const results = await this.session.run(feeds, fetches).catch((e: Error) => {
      throw new UserError(ortMessages.failed(this.graph.name, firstLine(e.message)));
    });
    const outputs: Record<string, Tensor> = Object.create(null);
    for (const o of this.graph.outputs) {
      const r = results[o.name];
      const data = given.get(o.name) ?? (r.data instanceof Float32Array ? r.data : Float32Array.from(r.data as ArrayLike<number>));
      outputs[o.name] = { shape: r.dims.map(Number), data };
    }
    return outputs;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
