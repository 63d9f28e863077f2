/**
 * Data sources: what each yields, the seeded split, target encoding per loss,
 * and the messages when data and model do not fit (located in the .dl file)
 * or a CSV file is wrong (naming its line and column).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSources } from './data-helpers.js';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'dlc-data-'));

const { dataOf, errorOf } = dataSources(dir);

const net = (input: string, head: string, section: string) => `model M {\n  input x: ${input}\n  output y = x -> ${head}\n}\ntrain M {\n  ${section}\n}\n`;

describe('mnist', () => {
  it('images [28, 28, 1] in [0, 1], one-hot labels, a seeded split without overlap', () => {
    const data = dataOf(net('[28, 28, 1]', 'flatten -> dense(10) -> softmax', 'data = mnist(300, test = 100)\n  loss = crossentropy'));
    expect([data.train.n, data.test!.n, data.train.xShape, data.train.yShape]).toEqual([300, 100, [28, 28, 1], [10]]);
    expect(data.train.x.reduce((a, b) => Math.max(a, b))).toBeLessThanOrEqual(1);
    expect(data.train.x.reduce((a, b) => Math.min(a, b))).toBe(0);
    for (let i = 0; i < 300; i++) expect(data.train.y.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b)).toBe(1);
    // All ten digits occur; no test image is also a training image.
    const labels = new Set(Array.from({ length: 300 }, (_, i) => data.train.y.subarray(i * 10, i * 10 + 10).indexOf(1)));
    expect(labels.size).toBe(10);
    const key = (x: Float32Array, i: number) => x.subarray(i * 784, i * 784 + 784).join();
    const train = new Set(Array.from({ length: 300 }, (_, i) => key(data.train.x, i)));
    expect(Array.from({ length: 100 }, (_, i) => key(data.test!.x, i)).filter((k) => train.has(k))).toEqual([]);
    // The same seed, the same split.
    const again = dataOf(net('[28, 28, 1]', 'flatten -> dense(10) -> softmax', 'data = mnist(300, test = 100)\n  loss = crossentropy'));
    expect(again.test!.x).toEqual(data.test!.x);
  });

  it('flattened pixels for an input of [784]; class ids for the sparse loss', () => {
    const data = dataOf(net('[784]', 'dense(10) -> softmax', 'data = mnist(50, test = 10)\n  loss = sparse_categorical_crossentropy'));
    expect([data.train.xShape, data.train.yShape, data.train.y.length]).toEqual([[784], [], 50]);
    expect(data.train.y.every((c) => Number.isInteger(c) && c >= 0 && c < 10)).toBe(true);
  });

  it('an input that does not hold a digit', () => {
    expect(errorOf(net('[100]', 'dense(10) -> softmax', 'data = mnist(50, test = 10)\n  loss = crossentropy'))).toBe(
      "6:10 mnist: the digits are images of shape [28, 28, 1] (784 pixels), but model 'M' takes 'x' of shape [100] (declare 'input x: [28, 28, 1]', or 'input x: [784]' for flattened pixels)",
    );
  });

  it('an output without a unit per digit', () => {
    expect(errorOf(net('[784]', 'dense(2) -> softmax', 'data = mnist(50, test = 10)\n  loss = crossentropy'))).toBe(
      "6:10 mnist: the data has 10 classes, but the output 'y' of model 'M' has shape [2] (end the model with 'dense(10) -> softmax')",
    );
  });
});

describe('synthetic data', () => {
  it('xor: the four points, class ids as 0/1 targets for one sigmoid unit', () => {
    const data = dataOf(net('[2]', 'dense(1) -> sigmoid', 'data = xor()\n  loss = binary_crossentropy'));
    expect(Array.from(data.train.x)).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(data.train.y)).toEqual([0, 1, 1, 0]);
    expect(data.test!.n).toBe(4);
  });

  it('spirals: n points in two classes, one-hot for two softmax units, 20% held out', () => {
    const data = dataOf(net('[2]', 'dense(2) -> softmax', 'data = spirals(200)\n  loss = crossentropy'));
    expect([data.train.n, data.test!.n, data.train.yShape]).toEqual([160, 40, [2]]);
    const ones = Array.from({ length: 160 }, (_, i) => data.train.y[i * 2 + 1]).filter((c) => c === 1).length;
    expect(ones).toBeGreaterThan(60);
    expect(ones).toBeLessThan(100);
  });

  it('sine: windows [steps, 1] whose target is the next value', () => {
    const data = dataOf(net('[10, 1]', 'rnn(8) -> dense(1)', 'data = sine(10, n = 50, test = 0.2)\n  loss = mse'));
    expect([data.train.n, data.test!.n, data.train.xShape, data.train.yShape]).toEqual([40, 10, [10, 1], [1]]);
    // The windows are sin(phase + f t): x_{t+1} = 2 cos(f) x_t - x_{t-1}, and the target continues the recurrence.
    const x = data.train.x.subarray(0, 10);
    const twoCos = (x[2] + x[0]) / x[1];
    expect(twoCos * x[9] - x[8]).toBeCloseTo(data.train.y[0], 4);
  });

  it('a regression target on a classifier', () => {
    expect(errorOf(net('[10, 1]', 'rnn(8) -> dense(3) -> softmax', 'data = sine(10)\n  loss = crossentropy'))).toBe(
      "6:10 sine: each target is one value, but the output 'y' of model 'M' has shape [3] and the loss is categorical_crossentropy (end the model with 'dense(1)' and use 'loss = mse')",
    );
  });
});

describe('csv', () => {
  const csv = (name: string, text: string) => writeFileSync(join(dir, name), text);

  it('a header, numeric features, the label column anywhere; one-hot for categorical losses', () => {
    csv('good.csv', 'a, label, b\n1, 0, 2\n3, 1, 4\n\n5, 1, 6\n');
    const data = dataOf(net('[2]', 'dense(2) -> softmax', 'data = csv("good.csv", label = "label", test = 0)\n  loss = crossentropy'));
    expect(data.test).toBeNull();
    expect(Array.from(data.train.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(data.train.y)).toEqual([1, 0, 0, 1, 0, 1]);
  });

  it('values to regress with mse; the label defaults to the last column', () => {
    csv('reg.csv', 'x,y\n0.5,1.25\n-1,3\n');
    const data = dataOf(net('[1]', 'dense(1)', 'data = csv("reg.csv", test = 0)\n  loss = mse'));
    expect(Array.from(data.train.y)).toEqual([1.25, 3]);
  });

  it('a missing label column, located at the label, with a suggestion', () => {
    csv('iris.csv', 'length,width,class\n1,2,0\n');
    expect(errorOf(net('[2]', 'dense(2) -> softmax', 'data = csv("iris.csv", label = "clas")\n  loss = crossentropy'))).toBe(
      "6:34 csv: 'iris.csv' has no column 'clas' (columns: length, width, class) (did you mean 'class'?)",
    );
  });

  it('a value that is not a number, by line and column', () => {
    csv('bad.csv', 'length,width,class\n1,2,0\n3,abc,1\n');
    expect(errorOf(net('[2]', 'dense(2) -> softmax', 'data = csv("bad.csv")\n  loss = crossentropy'))).toBe("bad.csv, line 3, column 'width': 'abc' is not a number");
  });

  it('a missing value and a short row', () => {
    csv('gap.csv', 'length,width,class\n1,,0\n');
    expect(errorOf(net('[2]', 'dense(2) -> softmax', 'data = csv("gap.csv")\n  loss = crossentropy'))).toBe("gap.csv, line 2, column 'width': missing value");
    csv('short.csv', 'length,width,class\n1,2,0\n\n1,2\n');
    expect(errorOf(net('[2]', 'dense(2) -> softmax', 'data = csv("short.csv")\n  loss = crossentropy'))).toBe('short.csv, line 4: expected 3 values (as in the header), got 2');
  });

  it('a label that does not fit the output width, by line and column', () => {
    csv('labels.csv', 'length,width,class\n1,2,0\n3,4,1\n5,6,3\n');
    expect(errorOf(net('[2]', 'dense(2) -> softmax', 'data = csv("labels.csv")\n  loss = crossentropy'))).toBe(
      "labels.csv, line 4, column 'class': label 3 must be a class id from 0 to 1, as the output 'y' of model 'M' has shape [2]",
    );
    expect(errorOf(net('[2]', 'dense(1) -> sigmoid', 'data = csv("labels.csv")\n  loss = binary_crossentropy'))).toBe(
      "labels.csv, line 4, column 'class': label 3 must be between 0 and 1 for binary_crossentropy",
    );
  });

  it('feature columns that do not fit the input', () => {
    csv('three.csv', 'a,b,c,label\n1,2,3,0\n');
    expect(errorOf(net('[2]', 'dense(2) -> softmax', 'data = csv("three.csv")\n  loss = crossentropy'))).toBe(
      "6:10 csv: 'three.csv' has 3 feature columns, but model 'M' takes 'x' of shape [2] (declare 'input x: [3]', or change the columns)",
    );
  });

  it('a file that is not there, located at its name', () => {
    expect(errorOf(net('[2]', 'dense(2) -> softmax', 'data = csv("nope.csv")\n  loss = crossentropy'))).toBe("6:14 csv: cannot read 'nope.csv': no such file or directory");
  });
});
