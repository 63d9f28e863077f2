// BERT-base and GPT-2 small (examples/bert_base.dl and gpt2.dl) written again
// with TensorFlow.js, from the papers and Hugging Face's BertModel and
// GPT2Model rather than from dlc: the tests count their parameters layer by
// layer and compare outputs with these, and the benchmarks time them on
// tfjs's backends.
//
// - `bertLayers()`, `gpt2Layers()`: [name, params] of every layer with
//   weights, from tf.layers built to the model's shapes. tf.layers has no
//   multi-head attention: Keras's MultiHeadAttention is four dense
//   projections (query, key, value: d -> heads x 64; output: heads x 64 -> d),
//   counted as four tf.layers.dense; a learned position table [max_len, d]
//   is counted as the tf.layers.embedding of that shape.
// - `bert(w, tokens, segments)`, `gpt2(w, tokens)`: the forward pass in tf
//   ops, as tfjs users write a transformer (heads as a batch axis, fused
//   matmuls), on weights `w(name)` named as dlc names them (`<layer>.<param>`).
//
// Layers are named as dlc names them: in each encoder or decoder layer l,
// `attention_l`, two layernorms and two denses numbered in creation order.
import * as tf from '@tensorflow/tfjs';

const WIDTH = 768;
const HEADS = 12;
const KEY = 64;
const FF = 3072;
const LAYERS = 12;

/** dlc's automatic names: `op` for the first, then `op_1`, `op_2`, ... */
const nth = (op, i) => (i === 0 ? op : `${op}_${i}`);

/** [name, params] of a tf.layers layer built for `shape` (zeros: random initialisation of 124M weights takes seconds and is never used). */
function built(name, layer, shape) {
  layer.build(shape);
  const params = layer.countParams();
  for (const v of layer.weights) v.dispose(); // never applied, so Layer.dispose refuses
  return [name, params];
}
const dense = (name, units, inWidth) => built(name, tf.layers.dense({ units, kernelInitializer: 'zeros' }), [null, inWidth]);
const embedding = (name, rows, width) => built(name, tf.layers.embedding({ inputDim: rows, outputDim: width, embeddingsInitializer: 'zeros' }), [null, 1]);
const layerNorm = (name) => built(name, tf.layers.layerNormalization({}), [null, WIDTH]);
/** Keras's MultiHeadAttention: the sum of its four projections. */
function attention(name) {
  const projections = [dense('q', HEADS * KEY, WIDTH), dense('k', HEADS * KEY, WIDTH), dense('v', HEADS * KEY, WIDTH), dense('o', WIDTH, HEADS * KEY)];
  return [name, projections.reduce((n, [, p]) => n + p, 0)];
}

/** BERT-base's layers with weights: embeddings, 12 post-LN encoder layers, the pooler. */
export function bertLayers() {
  const rows = [embedding('word_embeddings', 30522, WIDTH), embedding('token_type_embeddings', 2, WIDTH), embedding('position_embeddings', 512, WIDTH), layerNorm('layernorm')];
  for (let l = 0; l < LAYERS; l++) {
    rows.push(attention(nth('attention', l)), layerNorm(nth('layernorm', 2 * l + 1)));
    rows.push(dense(nth('dense', 2 * l), FF, WIDTH), dense(nth('dense', 2 * l + 1), WIDTH, FF), layerNorm(nth('layernorm', 2 * l + 2)));
  }
  rows.push(dense('pooler', WIDTH, WIDTH));
  return rows;
}

/** GPT-2 small's layers with weights: wte, wpe, 12 pre-LN decoder blocks, ln_f (the head reuses wte's table and adds none). */
export function gpt2Layers() {
  const rows = [embedding('wte', 50257, WIDTH), embedding('wpe', 1024, WIDTH)];
  for (let l = 0; l < LAYERS; l++) {
    rows.push(layerNorm(nth('layernorm', 2 * l)), attention(nth('attention', l)), layerNorm(nth('layernorm', 2 * l + 1)));
    rows.push(dense(nth('dense', 2 * l), FF, WIDTH), dense(nth('dense', 2 * l + 1), WIDTH, FF));
  }
  rows.push(layerNorm('ln_f'));
  return rows;
}

// ---- forward passes in tf ops ----------------------------------------------

/** x [N, in] W + b through tf.fused.matMul. */
const linear = (w, name, x) => tf.fused.matMul({ a: x, b: w(`${name}.kernel`), bias: w(`${name}.bias`) });

/** Over the last axis, biased variance (Keras's and PyTorch's LayerNorm). */
function norm(w, name, x, epsilon) {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(epsilon))).mul(w(`${name}.gamma`)).add(w(`${name}.beta`));
}

/** Exact GELU, x Phi(x) (BERT), and GPT-2's tanh approximation. */
const gelu = (x) => x.mul(0.5).mul(tf.erf(x.div(Math.SQRT2)).add(1));
const geluTanh = (x) => x.mul(0.5).mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));

/** Multi-head self-attention on rows [B*T, d]: softmax(Q K^T / sqrt(64) (+ causal mask)) V, heads as a batch axis. */
function selfAttention(w, name, rows, B, T, causal) {
  const heads = (role) => linear(w, `${name}.${role}`, rows).reshape([B, T, HEADS, KEY]).transpose([0, 2, 1, 3]);
  let scores = tf.matMul(heads('query').mul(1 / Math.sqrt(KEY)), heads('key'), false, true); // [B, H, T, T]
  if (causal) scores = scores.add(tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9)); // -1e9 above the diagonal
  const context = tf.matMul(tf.softmax(scores), heads('value')).transpose([0, 2, 1, 3]).reshape([B * T, HEADS * KEY]);
  return linear(w, `${name}.output`, context);
}

/**
 * BERT-base on token ids and segment ids (int32 [B, T]): the last encoder
 * layer's states [B, T, 768] and the pooled [CLS] vector [B, 768].
 */
export function bert(w, tokens, segments) {
  return tf.tidy(() => {
    const [B, T] = tokens.shape;
    const positions = w('position_embeddings.embeddings').slice([0, 0], [T, WIDTH]);
    const embedded = tf.gather(w('word_embeddings.embeddings'), tokens).add(tf.gather(w('token_type_embeddings.embeddings'), segments)).add(positions);
    let h = norm(w, 'layernorm', embedded.reshape([B * T, WIDTH]), 1e-12);
    for (let l = 0; l < LAYERS; l++) {
      h = norm(w, nth('layernorm', 2 * l + 1), h.add(selfAttention(w, nth('attention', l), h, B, T, false)), 1e-12);
      const ffn = linear(w, nth('dense', 2 * l + 1), gelu(linear(w, nth('dense', 2 * l), h)));
      h = norm(w, nth('layernorm', 2 * l + 2), h.add(ffn), 1e-12);
    }
    const sequence = h.reshape([B, T, WIDTH]);
    const cls = sequence.slice([0, 0, 0], [B, 1, WIDTH]).reshape([B, WIDTH]);
    return { sequence, pooled: tf.tanh(linear(w, 'pooler', cls)) };
  });
}

/**
 * GPT-2 small on token ids (int32 [B, T]): the final layernorm's states [B, T, 768] and the tied head's logits [B, T, 50257] = states wte^T.
 * `transposed(name)`, when given, is a weight transposed once and kept (as dlc's generated module keeps it): tf.matMul with
 * transposeB transposes the [50257, 768] table on every call in tfjs's CPU and WebAssembly backends.
 */
export function gpt2(w, tokens, transposed) {
  return tf.tidy(() => {
    const [B, T] = tokens.shape;
    const positions = w('wpe.embeddings').slice([0, 0], [T, WIDTH]);
    let h = tf.gather(w('wte.embeddings'), tokens).add(positions).reshape([B * T, WIDTH]);
    for (let l = 0; l < LAYERS; l++) {
      h = h.add(selfAttention(w, nth('attention', l), norm(w, nth('layernorm', 2 * l), h, 1e-5), B, T, true));
      const mlp = linear(w, nth('dense', 2 * l + 1), geluTanh(linear(w, nth('dense', 2 * l), norm(w, nth('layernorm', 2 * l + 1), h, 1e-5))));
      h = h.add(mlp);
    }
    const hidden = norm(w, 'ln_f', h, 1e-5);
    const logits = transposed ? tf.matMul(hidden, transposed('wte.embeddings')) : tf.matMul(hidden, w('wte.embeddings'), false, true);
    return { hidden: hidden.reshape([B, T, WIDTH]), logits: logits.reshape([B, T, -1]) };
  });
}
