/**
 * The gradient check every op goes through. A model (a few lines of .dl) is
 * compiled, given weights and inputs, and differentiated on
 * L = sum(r * y) with r a fixed random tensor, three ways:
 *
 *   ours       backprop() from autodiff.ts, seeded with dL/dy = r
 *   reference  tf.grads of the same computation written with tf ops or
 *              tf.layers, w.r.t. every float input and trainable weight
 *              (compared to 1e-4 relative/absolute; its forward too)
 *   numeric    central differences of L along a random direction v for each
 *              input and weight, L evaluated by the Interpreter's own
 *              inference kernels in training mode with the same seed:
 *              (L(p + eps v) - L(p - eps v)) / (2 eps) against <grad, v>
 */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { backprop } from '../../../../src/backends/interp/autodiff.js';
import { Interpreter } from '../../../../src/backends/interp/execute.js';
import { createRng, type Rng } from '../../../../src/runtime/random.js';
import type { Tensor } from '../../../../src/backends/interp/tensor.js';
import { initWeights, weightSlots, type Weights } from '../../../../src/backends/interp/weights.js';
import type { Dim, Graph } from '../../../../src/ir/types.js';
import { optimize } from '../../../../src/passes/pipeline.js';
import { compileText } from '../../../helpers.js';
import { expectClose, randTensor, toTf } from '../helpers.js';

export type Reference = (inputs: Record<string, tf.Tensor>, w: Record<string, tf.Tensor>) => tf.Tensor;

export interface GradCase {
  /** The model's body: inputs and one output. */
  body: string;
  /** Source before the model (constants). */
  preamble?: string;
  batch?: number;
  /** Run the training pipeline (fusion, folding) first, and expect these ops in the result. */
  optimized?: string[];
  /** Inputs given explicitly (integer ids); others are uniform on [-1, 1). */
  inputs?: Record<string, Tensor>;
  reference?: Reference;
  /** Tolerance against the reference (default 1e-4) and of the numeric check (default 1e-2). */
  tol?: number;
  fdTol?: number;
  eps?: number;
  /** Float inputs are a shuffled even spread over [-1, 1], so no two are close (no near-ties for a max to flip between). */
  distinct?: boolean;
  /** Skip the numeric check (it runs the Interpreter, which some cases trip up). */
  numeric?: boolean;
  seed?: number;
}

export function modelOf(body: string, optimized?: string[], preamble = ''): Graph {
  const graph = compileText(`${preamble}\nmodel M {\n${body}\n}\n`);
  if (!optimized) return graph;
  const out = optimize(graph, { training: true }).graph;
  const ops = out.nodes.map((n) => n.op);
  for (const op of optimized) expect(ops, `optimized graph should contain ${op}`).toContain(op);
  return out;
}

/** initWeights, plus noise on every tensor initialised to a constant (biases, gamma, beta), so their layout is tested. */
export function weightsFor(graph: Graph, seed: number): Weights {
  const weights = initWeights(graph, { seed });
  const noise = createRng(seed + 1000);
  for (const { name, spec } of weightSlots(graph)) {
    if (spec.init !== 'zeros' && spec.init !== 'ones' && spec.init !== 'lstm_bias') continue;
    const data = weights.get(name)!.data;
    for (let i = 0; i < data.length; i++) data[i] += 0.5 * (2 * noise.uniform() - 1);
  }
  return weights;
}

export function randomIds(shape: number[], vocab: number, rng: Rng): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng.uniform() * vocab);
  return { shape, data };
}

/** The values -1 + 2i/(n-1), shuffled. */
function spread(shape: number[], rng: Rng): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => -1 + (2 * i) / Math.max(n - 1, 1));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [data[i], data[j]] = [data[j], data[i]];
  }
  return { shape, data };
}

const batchShape = (shape: readonly Dim[], batch: number) => [batch, ...(shape.slice(1) as number[])];

/** Runs all three and compares; returns the gradients for further checks. */
export function checkGradients(c: GradCase): { grads: Map<string, Tensor>; inputGrads: Record<string, Tensor>; graph: Graph } {
  const seed = c.seed ?? 1;
  const rng = createRng(seed);
  const batch = c.batch ?? 2;
  const graph = modelOf(c.body, c.optimized, c.preamble);
  const weights = weightsFor(graph, seed);
  const inputs: Record<string, Tensor> = {};
  for (const node of graph.inputs) {
    const shape = batchShape(node.type.shape, batch);
    inputs[node.name] = c.inputs?.[node.name] ?? (c.distinct ? spread(shape, rng) : randTensor(shape, rng));
  }
  const out = graph.outputs[0];
  const r = randTensor(batchShape(out.node.type.shape, batch), rng);
  const ours = backprop(graph, weights, inputs, { outputGrads: { [out.name]: r }, inputGrads: true, seed });

  const floatInputs = graph.inputs.filter((n) => n.type.dtype === 'float32').map((n) => n.name);
  const trainable = [...ours.grads.keys()];
  const ourGrad = (name: string) => (floatInputs.includes(name) ? ours.inputGrads[name] : ours.grads.get(name)!);
  for (const name of trainable) expect(ours.grads.get(name)!.shape, name).toEqual(weights.get(name)!.shape);

  if (c.reference) {
    const reference = c.reference;
    const names = [...floatInputs, ...trainable];
    const fixedInputs = Object.fromEntries(graph.inputs.filter((n) => n.type.dtype !== 'float32').map((n) => [n.name, tf.tensor(inputs[n.name].data, inputs[n.name].shape, 'int32')]));
    const split = (args: tf.Tensor[]) => {
      const ins: Record<string, tf.Tensor> = { ...fixedInputs };
      const w: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => ((floatInputs.includes(n) ? ins : w)[n] = args[i]));
      return { ins, w };
    };
    const args = names.map((n) => toTf(floatInputs.includes(n) ? inputs[n] : weights.get(n)!));
    const { ins, w } = split(args);
    expectClose(ours.outputs[out.name], reference(ins, w), Math.max(c.tol ?? 1e-4, 1e-5) / 10);
    const rt = toTf(r);
    const grads = tf.grads((...xs: tf.Tensor[]) => {
      const parts = split(xs);
      return tf.sum(tf.mul(reference(parts.ins, parts.w), rt));
    })(args);
    names.forEach((n, i) => {
      try {
        expectClose(ourGrad(n), grads[i], c.tol ?? 1e-4);
      } catch (e) {
        throw new Error(`gradient of ${n} vs TensorFlow.js: ${(e as Error).message}`);
      }
    });
  }

  // Numeric: directional central differences, through the interpreter.
  const interp = new Interpreter(graph, weights);
  let magnitude = 0;
  const lossAt = (ins: Record<string, Tensor>) => {
    const y = interp.run(ins, { training: true, seed }).outputs[out.name].data;
    let s = 0;
    magnitude = 0;
    for (let i = 0; i < y.length; i++) {
      s += y[i] * r.data[i];
      magnitude += Math.abs(y[i] * r.data[i]);
    }
    return s;
  };
  const eps = c.eps ?? 1e-3;
  for (const name of c.numeric === false ? [] : [...floatInputs, ...trainable]) {
    const isInput = floatInputs.includes(name);
    const base = isInput ? inputs[name] : weights.get(name)!;
    const g = ourGrad(name);
    const v = Float32Array.from(base.data, () => (rng.uniform() < 0.5 ? -1 : 1));
    const shifted = (sign: number) => {
      const data = Float32Array.from(base.data, (x, i) => x + sign * eps * v[i]);
      return { shape: base.shape, data };
    };
    const at = (sign: number) => {
      if (isInput) return lossAt({ ...inputs, [name]: shifted(sign) });
      const saved = weights.get(name)!;
      weights.set(name, shifted(sign));
      try {
        return lossAt(inputs);
      } finally {
        weights.set(name, saved);
      }
    };
    const numeric = (at(1) - at(-1)) / (2 * eps);
    let analytic = 0, norm = 0;
    for (let i = 0; i < v.length; i++) {
      analytic += g.data[i] * v[i];
      norm += g.data[i] * g.data[i];
    }
    // float32 outputs carry ~1e-7 relative error each: L is known to about 1e-7 sum |r y|, the quotient to that over eps.
    const noise = (1e-7 * magnitude) / eps;
    const scale = Math.max(Math.abs(analytic), Math.sqrt(norm));
    expect(Math.abs(numeric - analytic), `${name}: numeric ${numeric} vs analytic ${analytic}`).toBeLessThanOrEqual((c.fdTol ?? 1e-2) * scale + 3 * noise);
  }
  return { grads: ours.grads, inputGrads: ours.inputGrads, graph };
}

/** A dense layer as tf ops: x W + b over the last axis. */
export function tfDense(x: tf.Tensor, kernel: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const [inDim, units] = kernel.shape;
  const y = tf.matMul(x.reshape([-1, inDim]), kernel as tf.Tensor2D).reshape([...x.shape.slice(0, -1), units]);
  return bias ? tf.add(y, bias) : y;
}

/**
 * tf.conv2d with dilation written as an undilated conv with a spread-out
 * kernel (zeros between the taps): tfjs has no gradient for dilated convs.
 * The spreading is tf ops (pad, reshape, slice), so the gradient reaches `kernel`.
 */
export function tfConv2d(x: tf.Tensor, kernel: tf.Tensor, stride: number | [number, number], padding: 'valid' | 'same', dilation: number | [number, number] = 1): tf.Tensor4D {
  const [dh, dw] = typeof dilation === 'number' ? [dilation, dilation] : dilation;
  const [kh, kw, C, F] = kernel.shape;
  const spread = tf
    .pad(kernel.reshape([kh, 1, kw, 1, C, F]), [[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]])
    .reshape([kh * dh, kw * dw, C, F])
    .slice([0, 0, 0, 0], [dh * (kh - 1) + 1, dw * (kw - 1) + 1, C, F]) as tf.Tensor4D;
  return tf.conv2d(x as tf.Tensor4D, spread, stride, padding);
}

/** conv1d as conv2d with height 1, through tfConv2d. */
export function tfConv1d(x: tf.Tensor, kernel: tf.Tensor, stride: number, padding: 'valid' | 'same', dilation = 1): tf.Tensor3D {
  const [B, L, C] = x.shape;
  const y = tfConv2d(x.reshape([B, 1, L, C]), kernel.reshape([1, ...kernel.shape]), [1, stride], padding, [1, dilation]);
  return y.reshape([B, y.shape[2], y.shape[3]]);
}
