// The safetensors reader and writer: the layout byte by byte, round trips, and
// one test per kind of damaged or hostile file, each with its exact message.
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  readWeightsFile,
  WeightsFileError,
  writeWeightsFile,
  type WeightTensor,
} from '../../src/weights/safetensors.js';
import { readInPieces, ReadProblem } from '../../src/files.js';

const tensor = (shape: number[], values: number[]): WeightTensor => ({ shape, data: Float32Array.from(values) });
const bytesOf = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

/** A file with the given header text (its length written for it) and data section. */
function fileWith(header: string | Uint8Array | object, data: number[] = []): Uint8Array {
  const json =
    header instanceof Uint8Array ? header : new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

/** The error that `decodeSafetensors` throws for these bytes; fails the test if it is not a WeightsFileError. */
function decodeError(bytes: Uint8Array): string {
  try {
    decodeSafetensors(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsFileError);
    return (e as Error).message;
  }
  throw new Error('expected decodeSafetensors to throw');
}

const f32 = (dtype = 'F32', shape: unknown = [1], data_offsets: unknown = [0, 4]) => ({ dtype, shape, data_offsets });

describe('layout', () => {
  // Worked out by hand from the format: 138 bytes of JSON padded with 6 spaces to 144 = 0x90,
  // metadata first, tensors in name order, float32 little-endian: 0.5 = 3f000000, 1 = 3f800000, -2 = c0000000.
  const header =
    '{"__metadata__":{"format":"pt"},' +
    '"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
    '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
  const expected = bytesOf(
    [0x90, 0, 0, 0, 0, 0, 0, 0],
    header,
    '      ',
    [0x00, 0x00, 0x00, 0x3f],
    [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0],
  );

  it('writes the bytes of the format exactly', () => {
    expect(header.length).toBe(138);
    const tensors = new Map([
      ['b', tensor([2], [1, -2])],
      ['a', tensor([], [0.5])],
    ]);
    expect(encodeSafetensors(tensors, { format: 'pt' })).toEqual(expected);
  });

  it('writes a plain array (a JavaScript caller\'s) as the same float32 bytes', () => {
    const plain = new Map([
      ['b', { shape: [2], data: [1, -2] as unknown as Float32Array }],
      ['a', { shape: [], data: [0.5] as unknown as Float32Array }],
    ]);
    expect(encodeSafetensors(plain, { format: 'pt' })).toEqual(expected);
  });

  it('reads the hand-made file', () => {
    const { tensors, metadata } = decodeSafetensors(expected);
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect(tensors.get('a')).toEqual(tensor([], [0.5]));
    expect(tensors.get('b')).toEqual(tensor([2], [1, -2]));
    expect({ ...metadata }).toEqual({ format: 'pt' });
  });

  // The byte vectors that the reference implementation's own unit tests expect from its serializer
  // (huggingface/safetensors, safetensors/src/tensor.rs: test_serialization, test_empty,
  // test_serialization_forced_alignement), written here as header text plus float32 bytes.
  const zeroToFive = [0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40];
  it.each([
    [
      'attn.0, header exactly 64 bytes',
      new Map([['attn.0', tensor([1, 2, 3], [0, 1, 2, 3, 4, 5])]]),
      undefined,
      bytesOf([64, 0, 0, 0, 0, 0, 0, 0], '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', zeroToFive),
    ],
    [
      'attn0, padded with 7 spaces',
      new Map([['attn0', tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])]]),
      undefined,
      bytesOf([72, 0, 0, 0, 0, 0, 0, 0], '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}', '       ', zeroToFive),
    ],
    ['no tensors', new Map(), undefined, bytesOf([8, 0, 0, 0, 0, 0, 0, 0], '{}      ')],
    ['metadata only', new Map(), { framework: 'pt' }, bytesOf([40, 0, 0, 0, 0, 0, 0, 0], '{"__metadata__":{"framework":"pt"}}     ')],
  ])('matches the reference serializer: %s', (_, tensors, metadata, expected) => {
    expect(encodeSafetensors(tensors, metadata)).toEqual(expected);
    expect(decodeSafetensors(expected).tensors).toEqual(tensors);
  });

  it('reads the example file from the reference documentation (I32 zeros)', () => {
    const header = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}'; // 60 bytes, unpadded
    const file = bytesOf([60, 0, 0, 0, 0, 0, 0, 0], header, new Array(16).fill(0));
    expect(decodeSafetensors(file).tensors.get('test')).toEqual(tensor([2, 2], [0, 0, 0, 0]));
  });

  it('omits __metadata__ when none is given and pads to a multiple of 8', () => {
    const bytes = encodeSafetensors(new Map([['x', tensor([1], [7])]]));
    // {"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} is 54 bytes, padded to 56.
    expect(new DataView(bytes.buffer).getBigUint64(0, true)).toBe(56n);
    expect(new TextDecoder().decode(bytes.subarray(8, 64))).toBe('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}  ');
    expect(bytes.length).toBe(8 + 56 + 4);
  });

  it('orders names by their UTF-8 bytes, digits and all, whatever the insertion order', () => {
    const names = ['b', '10', '9', 'a.z', 'a_z', 'é', '\u{1F600}', '\uFFFD'];
    const forward = new Map(names.map((n, i) => [n, tensor([1], [i])]));
    const backward = new Map([...forward].reverse());
    const bytes = encodeSafetensors(forward);
    expect(encodeSafetensors(backward)).toEqual(bytes);
    const json = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const order = names.map((n) => json.indexOf(JSON.stringify(n))).sort((x, y) => x - y);
    const sortedByBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(order.map((at) => names.find((n) => json.indexOf(JSON.stringify(n)) === at))).toEqual(sortedByBytes);
    expect(sortedByBytes).toEqual(['10', '9', 'a.z', 'a_z', 'b', 'é', '\uFFFD', '\u{1F600}']);
  });
});

describe('round trip', () => {
  it('keeps names, shapes, values and metadata', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
    const tensors = new Map([
      ['dense.kernel', tensor([784, 128], values(784 * 128))],
      ['dense.bias', tensor([128], values(128))],
      ['scalar', tensor([], [-0])],
      ['empty', tensor([0, 3], [])],
      ['special', tensor([4], [Infinity, -Infinity, NaN, 1e-45])],
      ['ünïcode / "quoted"', tensor([1, 1, 1], [3])],
    ]);
    const decoded = decodeSafetensors(encodeSafetensors(tensors, { framework: 'dlc', note: 'a "quoted"\nline' }));
    expect(decoded.tensors).toEqual(tensors);
    expect([...decoded.tensors.keys()]).toEqual(['dense.bias', 'dense.kernel', 'empty', 'scalar', 'special', 'ünïcode / "quoted"']);
    expect(Object.is(decoded.tensors.get('scalar')!.data[0], -0)).toBe(true);
    expect({ ...decoded.metadata }).toEqual({ framework: 'dlc', note: 'a "quoted"\nline' });
  });

  it('reads an empty file: no tensors, no metadata', () => {
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(new Map()));
    expect(tensors.size).toBe(0);
    expect(Object.keys(metadata)).toEqual([]);
  });

  it('reads a tensor out of an unaligned view of a larger buffer', () => {
    const bytes = encodeSafetensors(new Map([['w', tensor([2], [1.5, 2.5])]]));
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(decodeSafetensors(padded.subarray(3)).tensors.get('w')).toEqual(tensor([2], [1.5, 2.5]));
  });
});

describe('other dtypes convert to float32', () => {
  it.each([
    // F64 -0.25 = bfd0000000000000; F16 1.5 = 3e00, -65504 = fbff, 2^-24 = 0001; BF16 -2.5 = c020; I32 -7.
    ['F64', [1], [0, 0, 0, 0, 0, 0, 0xd0, 0xbf], [-0.25]],
    ['F16', [3], [0x00, 0x3e, 0xff, 0xfb, 0x01, 0x00], [1.5, -65504, 2 ** -24]],
    ['F16', [2], [0x00, 0x7c, 0x00, 0xfc], [Infinity, -Infinity]],
    ['BF16', [2], [0x20, 0xc0, 0x80, 0x3f], [-2.5, 1]],
    ['I32', [2], [0xf9, 0xff, 0xff, 0xff, 0x00, 0x01, 0x00, 0x00], [-7, 256]],
  ])('%s %j', (dtype, shape, data, values) => {
    const file = fileWith({ t: { dtype, shape, data_offsets: [0, data.length] } }, data);
    expect(decodeSafetensors(file).tensors.get('t')).toEqual(tensor(shape, values));
  });

  it('F16 NaN', () => {
    const file = fileWith({ t: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, [0x01, 0x7e]);
    expect(decodeSafetensors(file).tensors.get('t')!.data[0]).toBeNaN();
  });
});

describe('damaged and hostile files', () => {
  const four = [0, 0, 0x80, 0x3f];

  it.each([
    ['truncated before the header length', new Uint8Array(5), 'the file is 5 bytes long, too short for the 8-byte header length'],
    ['empty', new Uint8Array(0), 'the file is 0 bytes long, too short for the 8-byte header length'],
    [
      'header length beyond the end of the file',
      (() => {
        const b = fileWith('{}', [1, 2, 3]);
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      'header length is 1000 bytes but only 5 bytes follow the length field',
    ],
    [
      'absurd header length',
      (() => {
        const b = fileWith('{}');
        new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true);
        return b;
      })(),
      'header length 9223372036854775808 is larger than the limit of 100000000 bytes',
    ],
    ['header not UTF-8', fileWith(bytesOf('{"', [0xff], '":1}')), 'the header is not valid UTF-8'],
    ['header an array', fileWith('[1, 2]'), 'the header must be a JSON object, found an array'],
    ['header null', fileWith('null'), 'the header must be a JSON object, found null'],
    ['header a string', fileWith('"{}"'), 'the header must be a JSON object, found a string'],
    ['entry not an object', fileWith({ a: 5 }), 'tensor "a" must be described by an object, found a number'],
    ['entry without dtype', fileWith({ a: { shape: [1], data_offsets: [0, 4] } }, four), 'tensor "a" has no "dtype" string (found nothing)'],
    [
      'unsupported dtype',
      fileWith({ 'dense.kernel': f32('I64', [1], [0, 8]) }, [...four, ...four]),
      'tensor "dense.kernel" has dtype "I64"; supported dtypes are F32, F64, F16, BF16, I32',
    ],
    [
      'dtype that names an Object.prototype member',
      fileWith({ a: f32('constructor') }, four),
      'tensor "a" has dtype "constructor"; supported dtypes are F32, F64, F16, BF16, I32',
    ],
    [
      'shape and offsets disagree',
      fileWith({ 'dense.kernel': f32('F32', [784, 128], [0, 1200]) }, new Array(1200).fill(0)),
      'tensor "dense.kernel" has 1200 bytes of data but shape [784, 128] F32 needs 401408',
    ],
    [
      'F16 size counted in 2-byte elements',
      fileWith({ h: f32('F16', [3], [0, 4]) }, four),
      'tensor "h" has 4 bytes of data but shape [3] F16 needs 6',
    ],
    ['fractional dimension', fileWith({ a: f32('F32', [2.5]) }, four), 'tensor "a" has shape [2.5]; expected a list of non-negative integers'],
    ['negative dimension', fileWith({ a: f32('F32', [-1, -4]) }, four), 'tensor "a" has shape [-1,-4]; expected a list of non-negative integers'],
    ['dimension as a string', fileWith({ a: f32('F32', ['1']) }, four), 'tensor "a" has shape ["1"]; expected a list of non-negative integers'],
    ['shape missing', fileWith({ a: f32('F32', null) }, four), 'tensor "a" has shape null; expected a list of non-negative integers'],
    [
      'huge dimension',
      fileWith({ a: f32('F32', [2 ** 60]) }, four),
      `tensor "a" has shape [${2 ** 60}]; expected a list of non-negative integers`,
    ],
    [
      'offsets not a pair',
      fileWith({ a: f32('F32', [1], [0]) }, four),
      'tensor "a" has "data_offsets" [0]; expected [begin, end], two non-negative integers',
    ],
    [
      'negative offset',
      fileWith({ a: f32('F32', [1], [-4, 0]) }, four),
      'tensor "a" has "data_offsets" [-4,0]; expected [begin, end], two non-negative integers',
    ],
    [
      'offsets missing',
      fileWith({ a: { dtype: 'F32', shape: [1] } }, four),
      'tensor "a" has "data_offsets" missing; expected [begin, end], two non-negative integers',
    ],
    ['begin after end', fileWith({ a: f32('F32', [1], [4, 0]) }, four), 'tensor "a" has data_offsets [4, 0]: begin is after end'],
    [
      'offsets past the end of the data',
      fileWith({ a: f32('F32', [2], [0, 8]) }, four),
      'tensor "a" has data_offsets [0, 8] but the data section is only 4 bytes long',
    ],
    [
      'overlapping tensors',
      fileWith({ a: f32('F32', [2], [0, 8]), b: f32('F32', [2], [4, 12]) }, [...four, ...four, ...four]),
      'tensor "b" has data_offsets [4, 12], which overlaps tensor "a" [0, 8]',
    ],
    [
      'two tensors on the same bytes',
      fileWith({ a: f32(), b: f32() }, four),
      'tensor "b" has data_offsets [0, 4], which overlaps tensor "a" [0, 4]',
    ],
    [
      'a gap between tensors',
      fileWith({ a: f32(), b: f32('F32', [1], [8, 12]) }, [...four, ...four, ...four]),
      'tensor "b" has data_offsets [8, 12], leaving bytes [4, 8) of the data section unused',
    ],
    [
      'bytes left over after the last tensor',
      fileWith({ a: f32() }, [...four, ...four]),
      'the data section is 8 bytes long but its tensors use only 4',
    ],
    ['metadata not an object', fileWith({ __metadata__: ['x'] }), '"__metadata__" must be an object of strings, found an array'],
    ['metadata value not a string', fileWith({ __metadata__: { epochs: 3 } }), '"__metadata__" entry "epochs" must be a string, found a number'],
  ])('%s', (_, bytes, detail) => {
    expect(decodeError(bytes)).toBe(`weights file: ${detail}`);
  });

  it('quotes hostile names and cuts long values in messages', () => {
    expect(decodeError(fileWith({ 'line\nbreak': f32('F32', [3]) }, four))).toBe(
      'weights file: tensor "line\\nbreak" has 4 bytes of data but shape [3] F32 needs 12',
    );
    const long = 'x'.repeat(10_000);
    expect(decodeError(fileWith({ [long]: f32('F32', new Array(5000).fill(1.5)) }, four))).toBe(
      // Each shown as JSON cut at 100 characters: '"' and 99 x's; '[' and 99 characters of "1.5,1.5,...".
      `weights file: tensor "${'x'.repeat(99)}... has shape [${'1.5,'.repeat(24)}1.5...; expected a list of non-negative integers`,
    );
  });

  it('invalid JSON reports the parser message', () => {
    expect(decodeError(fileWith('{"a": '))).toMatch(/^weights file: the header is not valid JSON \(.+\)$/);
    expect(decodeError(fileWith(''))).toMatch(/^weights file: the header is not valid JSON \(.+\)$/);
  });

  it('names like __proto__ and constructor are plain tensor and metadata names', () => {
    const header =
      '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"constructor":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
      '"__metadata__":{"__proto__":"p","toString":"t"}}';
    const { tensors, metadata } = decodeSafetensors(fileWith(header, [...four, 0, 0, 0, 0x40]));
    expect([...tensors.keys()]).toEqual(['__proto__', 'constructor']);
    expect(tensors.get('__proto__')!.data).toEqual(Float32Array.of(1));
    expect(tensors.get('constructor')!.data).toEqual(Float32Array.of(2));
    expect(Object.getPrototypeOf(metadata)).toBe(null);
    expect(Object.keys(metadata)).toEqual(['__proto__', 'toString']);
    expect(metadata['__proto__']).toBe('p');
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });

  it('writes __proto__ as a name and reads it back', () => {
    const tensors = new Map([['__proto__', tensor([1], [9])]]);
    const decoded = decodeSafetensors(encodeSafetensors(tensors, Object.fromEntries([['__proto__', 'x']])));
    expect(decoded.tensors).toEqual(tensors);
    expect(Object.entries(decoded.metadata)).toEqual([['__proto__', 'x']]);
  });
});

describe('encoding errors', () => {
  const encodeError = (tensors: Map<string, WeightTensor>, metadata?: Record<string, string>) => {
    try {
      encodeSafetensors(tensors, metadata);
    } catch (e) {
      expect(e).toBeInstanceOf(WeightsFileError);
      return (e as Error).message;
    }
    throw new Error('expected encodeSafetensors to throw');
  };

  it('data that does not fill the shape', () => {
    expect(encodeError(new Map([['w', tensor([2, 3], [1, 2, 3, 4, 5])]]))).toBe(
      'weights file: cannot write tensor "w": shape [2, 3] needs 6 values but it has 5',
    );
  });
  it('a bad dimension', () => {
    expect(encodeError(new Map([['w', tensor([1.5], [1])]]))).toBe(
      'weights file: tensor "w" has shape [1.5]; expected a list of non-negative integers',
    );
  });
  it('the reserved name', () => {
    expect(encodeError(new Map([['__metadata__', tensor([1], [1])]]))).toBe(
      'weights file: cannot write a tensor named "__metadata__": the name is reserved for metadata',
    );
  });
  it('a metadata value that is not a string', () => {
    expect(encodeError(new Map(), { epochs: 3 } as unknown as Record<string, string>)).toBe(
      'weights file: cannot write metadata "epochs": values must be strings, found a number',
    );
  });
});

describe('files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dlc-weights-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const weights = new Map([['dense.kernel', tensor([2, 2], [1, 2, 3, 4])]]);

  it('writes and reads back, leaving no temporary file', async () => {
    const path = join(dir, 'model.safetensors');
    await writeWeightsFile(path, weights, { epoch: '3' });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    expect(new Uint8Array(await readFile(path))).toEqual(encodeSafetensors(weights, { epoch: '3' }));
    const back = await readWeightsFile(path);
    expect(back.tensors).toEqual(weights);
    expect({ ...back.metadata }).toEqual({ epoch: '3' });
  });

  it('replaces an existing file whole', async () => {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, 'old contents that are longer than the new file will be, so a plain overwrite would leave a tail');
    await writeWeightsFile(path, weights);
    expect((await readWeightsFile(path)).tensors).toEqual(weights);
  });

  it('reads a file in pieces, each tensor into the array `alloc` gives: tensors larger than a piece, F16 converted, the same as decoding the whole file', async () => {
    const path = join(dir, 'big.safetensors');
    const big = Float32Array.from({ length: 700_001 }, (_, i) => Math.sin(i) * 1e3); // 2.8 MB: three 1 MiB pieces
    const many = new Map([['a.kernel', { shape: [700_001], data: big }], ['b.bias', tensor([3], [1, -2, 3.5])]]);
    await writeWeightsFile(path, many, { model: 'M' });
    const given: Float32Array[] = [];
    const back = await readWeightsFile(path, (floats) => {
      given.push(new Float32Array(floats + 2).subarray(1, floats + 1));
      return given.at(-1)!;
    });
    expect(back.tensors.get('a.kernel')!.data).toBe(given[0]);
    expect(back.tensors.get('b.bias')!.data).toBe(given[1]);
    const whole = decodeSafetensors(new Uint8Array(await readFile(path))).tensors;
    expect([...back.tensors.keys()]).toEqual([...whole.keys()]);
    for (const [name, { shape, data }] of whole) {
      expect(back.tensors.get(name)!.shape).toEqual(shape);
      expect(data.findIndex((v, i) => !Object.is(v, back.tensors.get(name)!.data[i])), name).toBe(-1);
    }
    expect(big.findIndex((v, i) => v !== given[0]![i])).toBe(-1);
    expect({ ...back.metadata }).toEqual({ model: 'M' });
    // Another dtype converts element by element across pieces too.
    const halves = new Uint8Array(2 * 600_000);
    for (let i = 0; i < 600_000; i++) halves.set([0x00, i % 2 ? 0xbc : 0x3c], 2 * i); // 1, -1, 1, ...
    await writeFile(path, fileWith({ h: { dtype: 'F16', shape: [600_000], data_offsets: [0, halves.length] } }, Array.from(halves)));
    const h = (await readWeightsFile(path)).tensors.get('h')!.data;
    expect([h[0], h[1], h[599_998], h[599_999], h.length]).toEqual([1, -1, 1, -1, 600_000]);
  });

  it('a file that ends sooner than its size said when it was opened is a read error naming it', async () => {
    const path = join(dir, 'shrinking.safetensors');
    await writeWeightsFile(path, new Map([['w', { shape: [300_000], data: new Float32Array(300_000) }]]));
    const problem = (() => {
      try {
        readInPieces(path, 1 << 30, (size, read) => {
          truncateSync(path, size - 100);
          return read(size - 200, 200);
        });
      } catch (e) {
        return e;
      }
    })();
    expect(problem).toBeInstanceOf(ReadProblem);
    expect((problem as Error).message).toMatch(/^it was 1,200,\d+ bytes when opened, and ended sooner while being read$/);
  });

  it('names the file in read errors', async () => {
    const path = join(dir, 'broken.safetensors');
    await writeFile(path, fileWith({ a: f32('F32', [2]) }, [0, 0, 0x80, 0x3f]));
    await expect(readWeightsFile(path)).rejects.toThrow(`${path}: tensor "a" has 4 bytes of data but shape [2] F32 needs 8`);
  });

  it('an encoding error touches nothing on disk', async () => {
    const path = join(dir, 'model.safetensors');
    await writeWeightsFile(path, weights);
    const before = await readFile(path);
    const bad = new Map([['w', tensor([3], [1])]]);
    await expect(writeWeightsFile(path, bad)).rejects.toThrow(
      `${path}: cannot write tensor "w": shape [3] needs 3 values but it has 1`,
    );
    expect(await readFile(path)).toEqual(before);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a failed rename removes the temporary file', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x'); // a non-empty directory cannot be replaced by a file
    await expect(writeWeightsFile(path, weights)).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('a missing directory is an ordinary file-system error', async () => {
    await expect(writeWeightsFile(join(dir, 'no', 'such', 'dir.safetensors'), weights)).rejects.toThrow(/ENOENT/);
  });
});
