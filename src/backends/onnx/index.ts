/**
 * ONNX export: a checked, optimized graph and its weights -> an ONNX model
 * (`dlc compile --target onnx`). The graph's inputs and outputs keep their
 * names; the batch and every dimension variable are named dynamic dimensions
 * (`batch`, `T`); each layer's nodes are named after the layer and carry its
 * source line in their doc string; the model's name and dlc's version are in
 * the metadata. Weights are initializers, moved to an external data file when
 * the model would pass protobuf's 2 GB limit.
 *
 * Export the graph as optimize(source) leaves it at inference: fused layers
 * are written as their parts, and a batchnorm folded into the layer before it
 * is written folded (bindWeights computes the folded kernel and bias).
 */
import { CompileError, lineCol, messages } from '../../diagnostics.js';
import { paramsOf, unfixedAttrs } from '../../ir/infer.js';
import { dimName, type Dim, type Graph, type Node } from '../../ir/types.js';
import { MASK_READERS } from '../../ir/mask.js';
import { VERSION } from '../../version.js';
import { weightName } from '../../weights/slots.js';
import { bindWeights, type Weights } from '../interp/weights.js';
import type { Tensor } from '../interp/tensor.js';
import { OnnxGraph, type OnnxDim, type ValueInfo } from './builder.js';
import { loweringFor, type OnnxLayer } from './lower.js';

export { OPSET } from './builder.js';

export interface OnnxOptions {
  /** The .dl file as the reader should see it in doc strings, e.g. `examples/mnist_convnet.dl`. */
  sourcePath: string;
  /**
   * Initializer bytes above which weights go to an external data file (default:
   * 2 GB less a margin for the graph, protobuf's limit). The file is named
   * `externalName`, written beside the model.
   */
  externalAbove?: number;
  externalName?: string;
}

export interface OnnxModel {
  /** The model file's bytes. */
  model: Uint8Array;
  /** The external data file's name (relative to the model) and bytes, when the weights were moved out. */
  external?: { name: string; chunks: Uint8Array[] };
}

/** Where the external data of a model written to `path` goes: beside it, `<path>.data` (as torch.onnx names it). */
export const externalDataPath = (path: string): string => `${path}.data`;

/** protobuf cannot encode a message of 2 GiB or more: leave room for the graph itself. */
const PROTOBUF_LIMIT = 2 ** 31 - 64 * 2 ** 20;

export function exportOnnx(graph: Graph, weights: Weights, options: OnnxOptions): OnnxModel {
  const bound = bindWeights(graph, weights);
  const g = new OnnxGraph();
  const values = new Map<Node, string[]>();
  const dim = (d: Dim): OnnxDim => (d === null ? 'batch' : typeof d === 'string' ? dimName(d) : d);
  const info = (name: string, n: Node): ValueInfo => ({ name, elem: n.type.dtype === 'int32' ? 'int32' : 'float', dims: n.type.shape.map(dim) });
  for (const n of graph.inputs) g.reserve(n.name);
  for (const o of graph.outputs) g.reserve(o.name);

  for (const node of graph.nodes) {
    if (node.op === 'input') {
      values.set(node, [node.name]);
      continue;
    }
    if (node.op === 'result') {
      values.set(node, [values.get(node.inputs[0])![(node.resolved as { index: number }).index]]);
      continue;
    }
    const { line } = lineCol(node.span);
    g.origin = { layer: node.name, doc: `${options.sourcePath}:${line}: ${node.span.source.text.split(/\r\n|[\n\r\u2028\u2029]/)[line - 1]?.trim() ?? ''}` };
    const unsupported = (what: string): never => {
      throw new CompileError([messages.noOnnxMapping(node.span, node.name, node.op, what)]);
    };
    if (unfixedAttrs(node).length > 0) unsupported('a size computed from a dimension variable');
    const specs = paramsOf(node);
    const tensor = (name: string): Tensor | undefined => {
      const spec = specs.find((p) => p.name === name);
      if (!spec) return undefined;
      if (spec.value) return { shape: [...spec.value.shape], data: Float32Array.from(spec.value.data) };
      return bound.get(weightName(node, spec));
    };
    const layer: OnnxLayer = {
      node: node as OnnxLayer['node'],
      a: node.resolved as OnnxLayer['a'],
      g,
      inputs: node.inputs.map((n) => values.get(n)![0]),
      tensor,
      param: (name) => {
        const t = tensor(name);
        const spec = specs.find((p) => p.name === name);
        return t && spec ? g.weight(spec.value ? `${node.name}.${name}` : weightName(node, spec), t) : undefined;
      },
      maskSources: MASK_READERS.has(node.op) ? node.inputs.map((i) => (i.mask ?? []).map((m) => values.get(m)![0])) : [],
      ...(node.maskArg && { maskArg: values.get(node.maskArg)![0] }),
      unsupported,
    };
    values.set(node, loweringFor(layer));
  }

  // Graph outputs carry the output names: an Identity where the value has another name (or is an input or another output).
  g.origin = { layer: 'output', doc: '' };
  const seen = new Set<string>(graph.inputs.map((n) => n.name));
  for (const o of graph.outputs) {
    const value = values.get(o.node)![0];
    if (value !== o.name || seen.has(value)) g.op1('Identity', [value], {}, o.name);
    seen.add(o.name);
  }
  const external = g.initializerBytes > (options.externalAbove ?? PROTOBUF_LIMIT);
  const name = options.externalName ?? `${graph.name}.onnx.data`;
  const chunks = external ? g.externalize(name) : undefined;
  const model = g.encode({
    name: graph.name,
    inputs: graph.inputs.map((n) => info(n.name, n)),
    outputs: graph.outputs.map((o) => info(o.name, o.node)),
    producerVersion: VERSION,
    doc: `${graph.name}, compiled by dlc ${VERSION} from ${options.sourcePath}`,
    metadata: { model: graph.name, source: options.sourcePath, 'dlc.version': VERSION },
  });
  return { model, ...(chunks && { external: { name, chunks } }) };
}
