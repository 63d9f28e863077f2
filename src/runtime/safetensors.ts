/**
 * The safetensors weights format as pure functions on bytes: encode and
 * decode, with no file system and no Node-only APIs, so that generated
 * TensorFlow.js modules can include this file's text as their codec (see
 * src/backends/tfjs/inline.ts) and the format is defined once.
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON header,
 * then the data section. The header maps each tensor name to
 * `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (offsets into
 * the data section, little-endian row-major data) and may hold
 * `"__metadata__": {string: string}`.
 *
 * Writing matches the reference implementation byte for byte for float32
 * tensors: tensors in name order (by UTF-8 bytes), packed without gaps, compact
 * JSON with `__metadata__` first, the header padded with spaces to a multiple of 8.
 * Reading accepts F32, and converts F64, F16, BF16 and I32 to float32. It is as
 * strict as the reference: the tensors must tile the data section exactly.
 * Every problem with a file is a WeightsFileError naming the tensor and what
 * was expected versus found; hostile input never reaches a bare TypeError.
 *
 * Not here: the texts of those errors (safetensorsMessages, in messages.ts
 * with the runtime's other messages), reading and writing files
 * (src/weights/safetensors.ts), and which tensors a model needs and their
 * shapes (the backends decide).
 */
import { safetensorsMessages } from './messages.js';

export interface WeightTensor {
  shape: number[];
  /** Row-major values; length is the product of `shape`. */
  data: Float32Array;
}

export interface WeightsFile {
  tensors: Map<string, WeightTensor>;
  /** Free-form string pairs from `__metadata__`; a null-prototype object. */
  metadata: Record<string, string>;
}

/** A weights file that cannot be read or written. `file` is its path, when known. */
export class WeightsFileError extends Error {
  override name = 'WeightsFileError';
  constructor(
    readonly detail: string,
    readonly file?: string,
  ) {
    super(`${file ?? 'weights file'}: ${detail}`);
  }
}

function fail(detail: string): never {
  throw new WeightsFileError(detail);
}

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

const elementCount = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);
const utf8 = new TextEncoder();
/** Whether typed arrays hold numbers little-endian, as the format stores them (so F32 data is copied as bytes): every machine Node and browsers run on. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Orders strings by their UTF-8 bytes, as the reference implementation sorts names. */
function byUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

// ---------------------------------------------------------------- writing

export function encodeSafetensors(tensors: Map<string, WeightTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = [...tensors.keys()].sort(byUtf8);
  const entries: string[] = [];
  if (metadata !== undefined) {
    const pairs = Object.keys(metadata)
      .sort(byUtf8)
      .map((key) => {
        const value: unknown = metadata[key];
        if (typeof value !== 'string') fail(safetensorsMessages.metadataNotString(key, value));
        return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
      });
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${pairs.join(',')}}`);
  }
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) fail(safetensorsMessages.reservedName(METADATA_KEY));
    const { shape, data } = tensors.get(name)!;
    checkShape(name, shape);
    const count = elementCount(shape);
    if (data.length !== count) fail(safetensorsMessages.valueCount(name, shape, count, data.length));
    const info = { dtype: 'F32', shape, data_offsets: [offset, offset + data.length * 4] };
    entries.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += data.length * 4;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const bytes = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLength); // pad with spaces, as the reference does
  let at = 8 + headerLength;
  for (const name of names) {
    // A plain array from JavaScript (or a Float32Array of another realm) is copied into one here: its bytes are what is written.
    const given = tensors.get(name)!.data;
    const data = given instanceof Float32Array ? given : Float32Array.from(given);
    if (LITTLE_ENDIAN) bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else for (const [i, x] of data.entries()) view.setFloat32(at + 4 * i, x, true);
    at += data.byteLength;
  }
  return bytes;
}

// ---------------------------------------------------------------- reading

/** The dtypes we read, each with its element size and how to read one element as a number. */
const DTYPES = new Map<string, { size: number; read: (view: DataView, at: number) => number }>([
  ['F32', { size: 4, read: (v, at) => v.getFloat32(at, true) }],
  ['F64', { size: 8, read: (v, at) => v.getFloat64(at, true) }],
  ['F16', { size: 2, read: (v, at) => halfToFloat(v.getUint16(at, true)) }],
  ['BF16', { size: 2, read: (v, at) => bfloat16ToFloat(v.getUint16(at, true)) }],
  ['I32', { size: 4, read: (v, at) => v.getInt32(at, true) }],
]);

interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export function decodeSafetensors(bytes: Uint8Array, alloc?: (floats: number) => Float32Array): WeightsFile {
  return decodeSafetensorsFrom(bytes.length, (at, length) => bytes.subarray(at, at + length), alloc);
}

/** Most bytes of a tensor decoded from one `read`: a reader that copies (a file) holds no more than this at once. */
const DECODE_CHUNK = 1 << 20;

/**
 * decodeSafetensors on `size` bytes given by `read(at, length)` (a view that
 * need only stay valid until the next call), so that a file is read piece by
 * piece, never whole. Each tensor's values go into `alloc(count)` (default: a
 * new array), which may be memory the caller keeps them in (the interpreter's
 * kernel memory).
 */
export function decodeSafetensorsFrom(
  size: number,
  read: (at: number, length: number) => Uint8Array,
  alloc: (floats: number) => Float32Array = (floats) => new Float32Array(floats),
): WeightsFile {
  if (size < 8) fail(safetensorsMessages.tooShort(size));
  const first = read(0, 8);
  const declared = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) fail(safetensorsMessages.headerTooLong(declared, MAX_HEADER_BYTES));
  const headerLength = Number(declared);
  if (8 + headerLength > size) fail(safetensorsMessages.headerCut(headerLength, size - 8));
  const header = parseHeader(read(8, headerLength));
  const dataStart = 8 + headerLength;
  const dataLength = size - dataStart;
  const metadata: Record<string, string> = Object.create(null);
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) readMetadata(value, metadata);
    else entries.push(readEntry(name, value, dataLength));
  }
  checkTiling(entries, dataLength);
  const tensors = new Map<string, WeightTensor>();
  for (const { name, dtype, shape, begin } of entries.sort((a, b) => byUtf8(a.name, b.name))) {
    const { size: width, read: element } = DTYPES.get(dtype)!;
    const data = alloc(elementCount(shape));
    tensors.set(name, { shape, data });
    if (dtype === 'F32' && LITTLE_ENDIAN) {
      // The file's bytes are the array's: copied as bytes, a piece at a time (reading each value through a DataView took 10x as long).
      const into = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      for (let at = 0; at < into.length; at += DECODE_CHUNK) into.set(read(dataStart + begin + at, Math.min(DECODE_CHUNK, into.length - at)), at);
      continue;
    }
    const perChunk = Math.floor(DECODE_CHUNK / width);
    for (let i = 0; i < data.length; i += perChunk) {
      const n = Math.min(perChunk, data.length - i);
      const bytes = read(dataStart + begin + i * width, n * width);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let j = 0; j < n; j++) data[i + j] = element(view, j * width);
    }
  }
  return { tensors, metadata };
}

function parseHeader(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    fail(safetensorsMessages.notUtf8);
  }
  let header: unknown;
  try {
    header = JSON.parse(text); // a "__proto__" key stays an own data property: JSON.parse never sets prototypes
  } catch (e) {
    fail(safetensorsMessages.notJson((e as Error).message));
  }
  if (!isObject(header)) fail(safetensorsMessages.headerNotObject(header));
  return header;
}

function readMetadata(value: unknown, into: Record<string, string>): void {
  if (!isObject(value)) fail(safetensorsMessages.metadataNotObject(METADATA_KEY, value));
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string') fail(safetensorsMessages.metadataEntry(METADATA_KEY, key, text));
    into[key] = text;
  }
}

/** One tensor's header entry, checked on its own: fields, dtype, shape, and offsets against its shape and the data section. */
function readEntry(name: string, value: unknown, dataLength: number): TensorEntry {
  if (!isObject(value)) fail(safetensorsMessages.entryNotObject(name, value));
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') fail(safetensorsMessages.noDtype(name, dtype));
  checkShape(name, shape);
  if (!isIndexList(offsets) || offsets.length !== 2) fail(safetensorsMessages.offsets(name, offsets));
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(safetensorsMessages.beginAfterEnd({ name, begin, end }));
  if (end > dataLength) fail(safetensorsMessages.pastData({ name, begin, end }, dataLength));
  const kind = DTYPES.get(dtype);
  if (kind === undefined) fail(safetensorsMessages.dtype(name, dtype, [...DTYPES.keys()]));
  const needed = elementCount(shape) * kind.size;
  if (end - begin !== needed) fail(safetensorsMessages.byteCount(name, end - begin, shape, dtype, needed));
  return { name, dtype, shape, begin, end };
}

/** The tensors, in offset order, must cover the data section exactly once: no overlap, no gap, nothing left over. */
function checkTiling(entries: TensorEntry[], dataLength: number): void {
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const entry of byOffset) {
    if (entry.begin < covered) fail(safetensorsMessages.overlap(entry, previous!));
    if (entry.begin > covered) fail(safetensorsMessages.gap(entry, covered));
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) fail(safetensorsMessages.unusedData(dataLength, covered));
}

function checkShape(name: string, shape: unknown): asserts shape is number[] {
  if (!isIndexList(shape)) fail(safetensorsMessages.shape(name, shape));
}

const isIndex = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
const isIndexList = (x: unknown): x is number[] => Array.isArray(x) && x.every(isIndex);
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** IEEE 754 half precision: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 is the top half of a float32. */
const scratch = new DataView(new ArrayBuffer(4));
function bfloat16ToFloat(b: number): number {
  scratch.setUint32(0, b << 16);
  return scratch.getFloat32(0);
}
