/**
 * An ONNX graph under construction, and its encoding as a ModelProto through
 * the `onnx-proto` package (ONNX's own schema compiled for protobufjs): the
 * only module that touches protobuf. Lowerings (lower.ts) add nodes and
 * initializers through `OnnxGraph` and never see protobuf types.
 *
 * Values are named by strings, as in ONNX. Every name this module makes is
 * unique in the graph: layer names are kept as node names (and as the names
 * of the values layers output), and helper values get a `/`-separated suffix.
 */
import { createRequire } from 'node:module';
import type onnxProto from 'onnx-proto';
import type { Tensor } from '../interp/tensor.js';

type Onnx = typeof onnxProto.onnx;
let loaded: Onnx | undefined;
/** onnx-proto, loaded on first use: 11.5 MiB and 80 ms at start-up that commands other than ONNX export and `--engine ort` never need. */
const onnx = (): Onnx => (loaded ??= (createRequire(import.meta.url)('onnx-proto') as typeof onnxProto).onnx);

/**
 * The opset dlc writes: ai.onnx 21 (ONNX 1.16), which every current runtime
 * loads (ONNX Runtime since 1.18, TensorRT 10) and which has LayerNormalization
 * (17) and Gelu (20). IR version 10 is the one ONNX 1.16 writes.
 */
export const OPSET = 21;
export const IR_VERSION = 10;

/** An attribute: a number is an INT, `{ f }` a FLOAT (ONNX checks the type, so epsilon = 1 must stay a float), a list of numbers INTS, `{ strings }` STRINGS (the recurrent ops' activations). */
export type AttrValue = number | { f: number } | string | number[] | { floats: number[] } | { strings: string[] } | { tensor: Tensor; int64?: boolean };

/** One dimension of a graph input or output: a size, or a named dynamic dimension (`batch`, `T`). */
export type OnnxDim = number | string;

/** TensorProto.DataType's numbers, fixed by ONNX's schema (onnx.proto): FLOAT 1, INT32 6, INT64 7, BOOL 9. */
export const ELEM = { float: 1, int64: 7, int32: 6, bool: 9 } as const;
export type ElemType = keyof typeof ELEM;

export interface ValueInfo {
  name: string;
  elem: ElemType;
  dims: OnnxDim[];
}

/** Where a node comes from: the layer's name and its source line, kept in the node's doc string. */
export interface Origin {
  layer: string;
  doc: string;
}

export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.NodeProto[] = [];
  private readonly initializers: onnxProto.onnx.TensorProto[] = [];
  private readonly used = new Set<string>();
  /** Tensors already stored as initializers, by identity: a tied or shared weight is stored once. */
  private readonly stored = new Map<Tensor, string>();
  /** Small constants by value, so that `1.0` or an axes list is one initializer however often it is used. */
  private readonly constants = new Map<string, string>();
  /** The layer being lowered: node names and doc strings come from it. */
  origin: Origin = { layer: 'graph', doc: '' };
  private counter = 0;

  /** A value name not used yet: `base` itself when free. */
  fresh(base: string): string {
    let name = base;
    while (this.used.has(name)) name = `${base}/${++this.counter}`;
    this.used.add(name);
    return name;
  }

  private readonly nodeNames = new Set<string>();
  /** A layer's first node is named after the layer (Netron and ONNX Runtime's profiler show it); its others `<layer>/<OpType>`, numbered when repeated. */
  private nodeName(type: string): string {
    const { layer } = this.origin;
    let name = this.nodeNames.has(layer) ? `${layer}/${type}` : layer;
    for (let k = 2; this.nodeNames.has(name); k++) name = `${layer}/${type}_${k}`;
    this.nodeNames.add(name);
    return name;
  }

  /** Reserves names the graph's inputs and outputs must have. */
  reserve(name: string): void {
    this.used.add(name);
  }

  /**
   * Adds one node; returns its output names (one per `outputs` entry, or one
   * when `outputs` is a count of 1). `output` names the first output when it
   * must be a given name (a layer's value, a graph output).
   */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, options: { outputs?: number; name?: string } = {}): string[] {
    const count = options.outputs ?? 1;
    const base = `${this.origin.layer}/${type}`;
    const outputs = Array.from({ length: count }, (_, i) => (i === 0 && options.name ? options.name : this.fresh(count === 1 ? base : `${base}:${i}`)));
    this.nodes.push(
      onnx().NodeProto.create({
        opType: type,
        input: inputs,
        output: outputs,
        name: this.nodeName(type),
        docString: this.origin.doc,
        attribute: Object.entries(attrs)
          .filter((e): e is [string, AttrValue] => e[1] !== undefined)
          .map(([name, v]) => attribute(name, v)),
      }),
    );
    return outputs;
  }

  /** One-output shorthand for `op`. */
  op1(type: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, name?: string): string {
    return this.op(type, inputs, attrs, { name })[0];
  }

  /** A float tensor stored as an initializer named `name` (made unique); the same tensor object is stored once. */
  weight(name: string, tensor: Tensor): string {
    const seen = this.stored.get(tensor);
    if (seen) return seen;
    const unique = this.fresh(name);
    this.initializers.push(tensorProto(unique, tensor.shape, tensor.data, 'float'));
    this.stored.set(tensor, unique);
    return unique;
  }

  /** A constant initializer: floats, or int64s (shapes, axes, indices). Equal constants are stored once. */
  constant(values: readonly number[], dims: number[], elem: 'float' | 'int64' | 'int32' = 'float'): string {
    const key = `${elem}:${dims.join(',')}:${values.join(',')}`;
    const seen = this.constants.get(key);
    if (seen) return seen;
    const name = this.fresh(`const/${elem}${values.length <= 4 ? `[${values.join(',')}]` : `${values.length}`}`);
    this.initializers.push(tensorProto(name, dims, values, elem));
    this.constants.set(key, name);
    return name;
  }

  scalar(value: number): string {
    return this.constant([value], []);
  }
  ints(values: readonly number[]): string {
    return this.constant(values, [values.length], 'int64');
  }

  /**
   * Moves every initializer's bytes to one external data file, `location`
   * (relative to the model file), as ONNX does for models past protobuf's 2 GB
   * limit; returns the bytes of that file. Offsets are 4 KiB aligned, as
   * ONNX's own writer aligns them for memory mapping.
   */
  externalize(location: string): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of this.initializers) {
      const raw = t.rawData!;
      const start = Math.ceil(offset / 4096) * 4096;
      if (start > offset) chunks.push(new Uint8Array(start - offset));
      chunks.push(raw);
      t.rawData = new Uint8Array(0);
      t.dataLocation = onnx().TensorProto.DataLocation.EXTERNAL;
      t.externalData = [
        { key: 'location', value: location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(raw.length) },
      ];
      offset = start + raw.length;
    }
    return chunks;
  }

  /** Encodes the whole model. */
  encode(model: { name: string; inputs: ValueInfo[]; outputs: ValueInfo[]; producerVersion: string; doc: string; metadata: Record<string, string> }): Uint8Array {
    const proto = onnx().ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'dlc',
      producerVersion: model.producerVersion,
      docString: model.doc,
      metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
      graph: onnx().GraphProto.create({
        name: model.name,
        node: this.nodes,
        initializer: this.initializers,
        input: model.inputs.map(valueInfo),
        output: model.outputs.map(valueInfo),
      }),
    });
    return onnx().ModelProto.encode(proto).finish();
  }

  /** Bytes of weights stored so far (to decide on external data). */
  get initializerBytes(): number {
    return this.initializers.reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
  }
}

function tensorProto(name: string, dims: readonly number[], values: ArrayLike<number>, elem: 'float' | 'int64' | 'int32'): onnxProto.onnx.TensorProto {
  // raw_data is little-endian, as ONNX specifies and as every machine Node runs on stores typed arrays.
  const typed = elem === 'float' ? (values instanceof Float32Array ? values : Float32Array.from(values)) : elem === 'int32' ? Int32Array.from(values) : BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  const raw = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  return onnx().TensorProto.create({ name, dims: [...dims], dataType: ELEM[elem], rawData: raw });
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.AttributeProto {
  const T = onnx().AttributeProto.AttributeType;
  if (typeof v === 'number') return onnx().AttributeProto.create({ name, type: T.INT, i: v });
  if (typeof v === 'string') return onnx().AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx().AttributeProto.create({ name, type: T.INTS, ints: v });
  if ('f' in v) return onnx().AttributeProto.create({ name, type: T.FLOAT, f: v.f });
  if ('floats' in v) return onnx().AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
  if ('strings' in v) return onnx().AttributeProto.create({ name, type: T.STRINGS, strings: v.strings.map((s) => new TextEncoder().encode(s)) });
  return onnx().AttributeProto.create({ name, type: T.TENSOR, t: tensorProto(name, v.tensor.shape, v.tensor.data, v.int64 ? 'int64' : 'float') });
}

function valueInfo(v: ValueInfo): onnxProto.onnx.ValueInfoProto {
  return onnx().ValueInfoProto.create({
    name: v.name,
    type: { tensorType: { elemType: ELEM[v.elem], shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
}

/**
 * A decoded message with every field present: protobufjs decodes an absent
 * repeated field as [] and an absent scalar as its default, though its types
 * say they may be null.
 */
export type Decoded<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends Uint8Array ? Uint8Array : NonNullable<T[K]> extends (infer E)[] ? Decoded<E>[] : NonNullable<T[K]> extends object ? Decoded<NonNullable<T[K]>> : NonNullable<T[K]>;
};

/** Decodes a model file with the same schema that wrote it (the tests read exported files back with it). */
export function decodeModel(bytes: Uint8Array): Decoded<onnxProto.onnx.IModelProto> {
  return onnx().ModelProto.decode(bytes) as unknown as Decoded<onnxProto.onnx.IModelProto>;
}

/** A FLOAT attribute. */
export const f = (v: number): AttrValue => ({ f: v });
