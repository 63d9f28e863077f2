/**
 * The `text` data source (src/train/data.ts) and a small GPT trained on it:
 * windows of character ids with the next characters as per-step targets,
 * the vocabulary, the seeded split, the located errors; then `dlc train` as
 * a process on a passage of the lecture notes (test/fixtures/lecture.txt),
 * whose test loss must fall below a unigram model's, the character
 * frequencies of the same training windows.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSources } from './data-helpers.js';
import { describe, expect, it } from 'vitest';
import { MAX_TEXT_BYTES } from '../../src/train/data.js';

const dir = mkdtempSync(join(tmpdir(), 'dlc-text-'));
const write = (name: string, text: string) => writeFileSync(join(dir, name), text);

const { dataOf, errorOf } = dataSources(dir);

/** A per-step classifier over `steps` token ids of a vocabulary of `vocab`, with `out` classes. */
const lm = (steps: number | string, vocab: number, out: number, data: string, loss = 'sparse_categorical_crossentropy', input = 'int') =>
  `model M {\n  input x: [${steps}] ${input}\n  output y = x -> embedding(vocab = ${vocab}, dim = 4) -> dense(${out}) -> softmax\n}\n` +
  `train M {\n  data = ${data}\n  loss = ${loss}\n}\n`;

describe('text: windows of character ids', () => {
  // 'hello world' and more: the distinct characters in code point order are ' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'.
  const text = 'hello world, hello world\n';

  it('ids in code point order; each window of steps characters predicts the characters one further on', () => {
    write('hello.txt', text);
    const data = dataOf(lm(4, 10, 10, 'text("hello.txt", steps = 4, test = 0)'));
    const vocab = [...new Set(text)].sort();
    expect(vocab.length).toBe(10); // ' ', '\n', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w'
    // 25 characters: (25 - 1) / 4 = 6 whole windows with their targets.
    expect([data.train.n, data.train.xShape, data.train.yShape, data.test]).toEqual([6, [4], [4], null]);
    const ids = Array.from(text, (c) => vocab.indexOf(c));
    expect(Array.from(data.train.x).sort()).toEqual(ids.slice(0, 24).sort());
    // Whatever the order of the windows, each input window's targets are the text shifted by one.
    for (let k = 0; k < 6; k++) {
      const x = Array.from(data.train.x.subarray(4 * k, 4 * k + 4));
      const start = [0, 4, 8, 12, 16, 20].find((s) => ids.slice(s, s + 4).join() === x.join() && ids.slice(s + 1, s + 5).join() === Array.from(data.train.y.subarray(4 * k, 4 * k + 4)).join());
      expect(start).toBeDefined();
    }
    expect(data.description).toBe('text: 6 windows of 4 characters of hello.txt (25 characters, 10 distinct)');
  });

  it('a seeded split of whole windows; one-hot rows for categorical crossentropy; CRLF read as LF', () => {
    write('long.txt', 'the quick brown fox jumps over the lazy dog\r\n'.repeat(20));
    const a = dataOf(lm(8, 40, 28, 'text("long.txt", steps = 8, test = 0.25)'));
    // 20 lines of 44 characters (the CR dropped), 28 distinct (26 letters, space, LF): (880 - 1) / 8 = 109 windows, a quarter held out.
    expect([a.train.n, a.test!.n]).toEqual([82, 27]);
    const b = dataOf(lm(8, 40, 28, 'text("long.txt", steps = 8, test = 0.25)'));
    expect(b.test!.x).toEqual(a.test!.x);
    const hot = dataOf(lm(8, 40, 28, 'text("long.txt", steps = 8, test = 0.25)', 'categorical_crossentropy'));
    expect(hot.train.yShape).toEqual([8, 28]);
    for (let r = 0; r < 82 * 8; r++) {
      const row = hot.train.y.subarray(r * 28, r * 28 + 28);
      expect([row.reduce((s, v) => s + v), row.indexOf(1)]).toEqual([1, a.train.y[r]]);
    }
  });

  it('located errors: no file, an empty file, a file too short or too large, a model that does not fit', () => {
    write('hello.txt', text);
    write('empty.txt', '');
    write('huge.txt', '');
    truncateSync(join(dir, 'huge.txt'), MAX_TEXT_BYTES + 1);
    expect(errorOf(lm(4, 10, 10, 'text("nope.txt", steps = 4)'))).toBe("6:15 text: cannot read 'nope.txt': no such file");
    expect(errorOf(lm(4, 10, 10, 'text("empty.txt", steps = 4)'))).toBe(
      "6:15 text: 'empty.txt' has no characters, too few for one window of 4 steps and the character after it (give a file with some text)",
    );
    expect(errorOf(lm(30, 10, 10, 'text("hello.txt", steps = 30)'))).toBe(
      "6:15 text: 'hello.txt' has 25 characters, too few for one window of 30 steps and the character after it (give steps = 24 or fewer, or a longer file)",
    );
    expect(errorOf(lm(4, 10, 10, 'text("huge.txt", steps = 4)'))).toBe(
      `6:15 text: 'huge.txt' has ${MAX_TEXT_BYTES + 1} bytes, more than the ${MAX_TEXT_BYTES} (16 MiB) a text source reads (train on an excerpt of the file)`,
    );
    // The output needs one unit per character, at every step.
    expect(errorOf(lm(4, 10, 12, 'text("hello.txt", steps = 4)'))).toBe(
      "6:10 text: each window has 4 steps, each predicting one of 10 characters, so the output must have shape [4, 10], but the output 'y' of model 'M' has shape [4, 12] (end the model with 'dense(10) -> softmax' applied to every step)",
    );
    // The input takes the window's ids: [steps] int.
    expect(errorOf(lm(5, 10, 10, 'text("hello.txt", steps = 4)'))).toBe(
      "6:10 text: the windows are 4 token ids, but model 'M' takes 'x' of shape [5] (declare 'input x: [4] int', or give steps = 5)",
    );
    // An embedding with fewer rows than the data has characters.
    expect(errorOf(lm(4, 8, 10, 'text("hello.txt", steps = 4)'))).toBe(
      "6:10 text: the data has 10 distinct characters (ids 0 to 9), but the embedding 'embedding' has vocab = 8 (give the embedding vocab = 10)",
    );
    expect(errorOf(lm(4, 10, 10, 'text("hello.txt", steps = 4)', 'mse'))).toBe(
      "6:10 text: the targets are characters, one class of 10 per step, but the loss is mse (use 'loss = sparse_categorical_crossentropy')",
    );
  });
});

describe('a small GPT learns characters of the lecture notes with dlc train', () => {
  // Embedding, learned positions, two pre-LN decoder blocks with causal attention and a GELU MLP, a final layernorm, dense(vocab) softmax at every step.
  const corpus = readFileSync('test/fixtures/lecture.txt', 'utf8');
  const vocab = new Set(corpus.replace(/\r\n/g, '\n')).size;
  const source = `const width = 32

block decoder(heads) {
  input x
  attended = x -> layernorm -> attention(heads = heads, key_dim = width / heads, causal = true)
  h = add(x, attended)
  mlp = h -> layernorm -> dense(4 * width) -> gelu(approximate = true) -> dense(width)
  output add(h, mlp)
}

model CharGPT {
  input tokens: [32] int
  output next = tokens
    -> embedding(vocab = ${vocab}, dim = width)
    -> positional(learned, max_len = 64)
    -> repeat(2, decoder(heads = 2))
    -> layernorm
    -> dense(${vocab}) -> softmax
}

train CharGPT {
  data = text("corpus.txt", steps = 32, test = 0.1)
  loss = sparse_categorical_crossentropy
  optimizer = adam(lr = 0.01)
  epochs = 5
  batch = 16
}
`;

  it('its test loss falls below the unigram model of the training windows', () => {
    write('gpt.dl', source);
    copyFileSync('test/fixtures/lecture.txt', join(dir, 'corpus.txt'));
    const out = join(dir, 'gpt.safetensors');
    const r = spawnSync('node', ['bin/dlc.js', 'train', join(dir, 'gpt.dl'), '-o', out, '--quiet'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const metrics = JSON.parse(readFileSync(join(dir, 'gpt.metrics.json'), 'utf8')) as { epochs: { test_loss: number }[] };
    const testLoss = metrics.epochs.at(-1)!.test_loss;

    // The unigram model: each character's frequency among the training targets (add-one smoothed over
    // the vocabulary, so that a character seen only in the test windows has a finite loss), scored on
    // the test targets. The split is the one dlc train used: the same file, settings and seed.
    const { train, test } = dataOf(source);
    const counts = new Float64Array(vocab).fill(1);
    for (const c of train.y) counts[c]++;
    const total = counts.reduce((a, b) => a + b);
    const unigram = -test!.y.reduce((s, c) => s + Math.log(counts[c] / total), 0) / test!.y.length;
    expect(unigram).toBeGreaterThan(3); // about 3.6 nats: 86 characters, many rare
    expect(testLoss).toBeLessThan(unigram - 0.2);
  }, 60_000);
});
