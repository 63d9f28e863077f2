/**
 * inputsFromJsonText, `dlc run`'s reader of its --input file, against the
 * reference it stands in for: JSON.parse followed by inputsFromJson. On every
 * text it takes, the tensors must be the reference's, bit for bit (numbers
 * read as JSON.parse reads them, then rounded to float32); on every text it
 * declines, the reference must either decline with its own message or take it
 * (the reader may decline more than it needs to, never take what the
 * reference would not).
 */
import { describe, expect, it } from 'vitest';
import { InputError, inputsFromJson, inputsFromJsonText, JsonScan } from '../../../src/backends/interp/io.js';
import { compileText } from '../../helpers.js';
import type { Tensor } from '../../../src/backends/interp/tensor.js';
import { createRng } from '../../../src/runtime/random.js';

const graph = compileText(`
model Three {
  input image: [2, 3]
  input ids: [T] int
  input more: [T, 2]
  output y = image -> flatten -> dense(2)
  output z = ids -> embedding(10, 2)
  output w = more -> dense(1)
}
`);

/** The reference's tensors, or the message it refuses the text with (JSON.parse's SyntaxError, or an InputError). */
const reference = (text: string): Record<string, Tensor> | string => {
  try {
    return inputsFromJson(graph, JSON.parse(text));
  } catch (e) {
    if (!(e instanceof SyntaxError || e instanceof InputError)) throw e;
    return e.message;
  }
};

/** The index of the first value that differs (-0 differs from 0), or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectSameTensors(text: string) {
  const fast = inputsFromJsonText(graph, text);
  const ref = reference(text);
  expect(typeof ref, `the reference refused ${text.slice(0, 200)}: ${String(ref)}`).toBe('object');
  expect(fast, `declined ${text.slice(0, 200)}`).not.toBeNull();
  for (const [name, t] of Object.entries(ref as Record<string, Tensor>)) {
    expect(fast![name].shape).toEqual(t.shape);
    expect(firstDifference(fast![name].data, t.data), `${name} in ${text.slice(0, 200)}`).toBe(-1);
  }
  expect(Object.keys(fast!).sort()).toEqual(Object.keys(ref as object).sort());
}

const json = (image: unknown, ids: unknown = [[1, 2]], more: unknown = [[[0, 1], [2, 3]]]) => JSON.stringify({ image, ids, more });
/** A batch of one image, and of two. */
const I1 = [[[1, 2, 3], [4, 5, 6]]];
const I2 = [...I1, [[7, 8, 9], [1, 2, 3]]];

describe('reading --input JSON straight into tensors', () => {
  it('takes what the reference takes, value for value: signs, zeros, exponents, many digits, float32 underflow and its largest value', () => {
    const numbers = [
      '0', '-0', '-0.0', '0.5', '1', '-17', '3.25e2', '3.25E+2', '1e-7', '-1.5e-3', '123456789012345678', '0.1234567890123456789',
      '9007199254740993', '1e22', '1e23', '1e-22', '1e-23', '4.9e-324', '1e-400', '5e-45', '3.4028234e38', '1.1754943508222875e-38', '0.000001',
      '100000000000000000000000000000', '2.5e0',
    ];
    for (let i = 0; i + 6 <= numbers.length; i += 3) {
      const row = numbers.slice(i, i + 3);
      const text = `{"image": [[[${row.join(',')}], [${numbers.slice(i + 3, i + 6).join(' , ')}]]], "ids": [[1, 2]], "more": [[[0,1],[2,3]]]}`;
      expectSameTensors(text);
    }
  });

  it('reads random doubles written every way JavaScript writes them exactly as JSON.parse does', () => {
    const rng = createRng(31);
    const forms = [
      (v: number) => String(v),
      (v: number) => v.toExponential(rng.uniform() < 0.5 ? 3 : 16),
      (v: number) => v.toFixed(Math.floor(rng.uniform() * 12)),
      (v: number) => v.toPrecision(1 + Math.floor(rng.uniform() * 20)),
      (v: number) => String(Math.fround(v)),
    ];
    for (let trial = 0; trial < 300; trial++) {
      const values = Array.from({ length: 6 }, () => {
        const v = (rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 60 - 30);
        return forms[trial % forms.length]!(v);
      });
      expectSameTensors(`{"image":[[[${values.slice(0, 3).join(',')}],[${values.slice(3).join(',')}]]],"ids":[[1,2]],"more":[[[0,1],[2,3]]]}`);
    }
  });

  it('reads each number as the double JSON.parse reads, before float32 rounds it: digits past 2^53, powers of ten past 10^22, subnormals', () => {
    const rng = createRng(32);
    const texts = ['0', '-0', '9007199254740993', '9007199254740992.5', '0.30000000000000004', '1e22', '1e23', '8.98846567431158e307', '2.2250738585072014e-308', '5e-324'];
    for (let i = 0; i < 10_000; i++) {
      const v = (rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 80 - 40);
      const digits = 1 + Math.floor(rng.uniform() * 21);
      texts.push(v.toPrecision(digits), v.toExponential(digits - 1), String(v));
    }
    for (const text of texts) {
      const scan = new JsonScan(text);
      const read = scan.number() ? scan.value[0] : null;
      expect(Object.is(read, JSON.parse(text)), `${text}: ${read} vs ${JSON.parse(text)}`).toBe(true);
    }
  });

  it('takes whitespace anywhere JSON allows it, keys in any order, and dimension variables at any length', () => {
    expectSameTensors(` \n{ "more" :\t[ [ [1,2] , [3,4], [5,6] ] ] ,\r\n "ids": [ [ 7 , 8 , 9 ] ], "image":[[[1,2,3],[4,5,6]]] } \n`);
    expectSameTensors(json(I2, [[1], [2]], [[[1, 2]], [[3, 4]]]));
  });

  it('declines, leaving the message to the reference, whatever is not a flawless input object', () => {
    const declined = [
      '[]', '{}', 'null', '', '{"image": [[[1,2,3],[4,5,6]]]}', // missing inputs
      json([[[1, 2, 3], [4, 5]]]), // ragged
      json([[[1, 2], [4, 5, 6]]]), // ragged, the last row of the right length
      json([[[1, 2, 3], [4, 5, 6], [7, 8]]]),
      json([[1, 2, 3], [4, 5, 6]]), // not batched
      json([[[[1], [2], [3]], [[4], [5], [6]]]]), // too deep
      json([[[1, 2, 3], [4, 5, '6']]]), // a string
      json([[[1, 2, 3], [4, 5, null]]]),
      json([[[1, 2, 3], [4, 5, true]]]),
      json(I1, [[1.5, 2]]), // int takes whole numbers only
      json(I1, [[1, 2], [3, 4]]), // batch sizes differ
      json(I1, [[1, 2]], [[[1, 2], [3, 4], [5, 6]]]), // T is 2 in ids, 3 in more
      json([]), // an empty batch
      json(I1).replace('"ids"', '"id\\u0073"'), // an escaped key
      json(I1).replace(/}$/, ',"other": 1}'), // an unknown key
      json(I1).replace(/}$/, ',"ids": [[1, 2]]}'), // a repeated key
      json(I1) + 'x', // trailing text
      json(I1).replace('1,2,3', '1e39,2,3'), // past float32
      json(I1).replace('1,2,3', '1e400,2,3'),
      json(I1).replace('1,2,3', '01,2,3'), // not JSON numbers
      json(I1).replace('1,2,3', '1.,2,3'),
      json(I1).replace('1,2,3', '.5,2,3'),
      json(I1).replace('1,2,3', '+1,2,3'),
      json(I1).replace('1,2,3', '1e,2,3'),
      json(I1).replace('1,2,3', 'NaN,2,3'),
      json(I1).replace('1,2,3', '1,2,3,'), // a trailing comma
      json(I1).replace('[4,5,6]]]', '[4,5,6],]]'),
    ];
    for (const text of declined) {
      expect(inputsFromJsonText(graph, text), text).toBeNull();
      const ref = reference(text);
      // The reference refuses each with its message, but for two valid texts the reader leaves to it: an escaped key, and a repeated key (JSON.parse keeps the last value).
      if (typeof ref === 'object') expect(text.includes('\\u0073') || text.endsWith(',"ids": [[1, 2]]}'), text).toBe(true);
    }
  });

  it('a deeply nested array is declined at the model\'s rank, without recursion past it', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(inputsFromJsonText(graph, `{"image": ${deep}}`)).toBeNull();
  });
});
