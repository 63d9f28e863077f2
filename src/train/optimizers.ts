/**
 * Optimizers: update float32 weights in place from their gradients, with the
 * update rules Keras documents (keras.optimizers.SGD and Adam), g the gradient:
 *
 *   sgd:   v = momentum * v - lr * g;   w += v           (momentum 0: w -= lr * g)
 *   adam:  t += 1;  lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *          m += (1 - beta1) * (g - m);  v += (1 - beta2) * (g^2 - v)
 *          w -= lr_t * m / (sqrt(v) + epsilon)
 *
 * Weight decay is Keras's L2 regulariser on every kernel (weights named
 * `*kernel`, not biases or norms): the loss gains decay * sum(w^2), so the
 * gradient gains 2 * decay * w before the update. State (velocities, moments)
 * is kept per weight name. Arithmetic is float64 per element, stored as float32.
 */
import type { Tensor } from '../backends/interp/tensor.js';
import type { Weights } from '../backends/interp/weights.js';
import type { OptimizerSpec } from './config.js';

export interface Optimizer {
  readonly spec: OptimizerSpec;
  /** Applies one update to every weight that has a gradient. */
  step(weights: Weights, grads: Map<string, Tensor>): void;
}

/** Whether L2 weight decay applies to a weight (kernels only, as Keras's kernel_regularizer). */
export const isDecayed = (name: string): boolean => name.endsWith('kernel');

export function createOptimizer(spec: OptimizerSpec, weightDecay = 0): Optimizer {
  const state = new Map<string, Float32Array[]>();
  const slots = (name: string, n: number, count: number) => {
    let s = state.get(name);
    if (!s) state.set(name, (s = Array.from({ length: count }, () => new Float32Array(n))));
    return s;
  };
  let t = 0;
  return {
    spec,
    step(weights, grads) {
      t++;
      const { lr } = spec;
      // Adam folds both bias corrections into the step size.
      const lrT = spec.kind === 'adam' ? (lr * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t) : lr;
      for (const [name, grad] of grads) {
        const w = weights.get(name)?.data;
        if (!w) throw new Error(`optimizer: gradient for unknown weight "${name}"`);
        const g = grad.data;
        const decay = isDecayed(name) ? 2 * weightDecay : 0;
        if (spec.kind === 'sgd') {
          if (spec.momentum === 0) {
            for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + decay * w[i]);
            continue;
          }
          const [v] = slots(name, w.length, 1);
          for (let i = 0; i < w.length; i++) {
            v[i] = spec.momentum * v[i] - lr * (g[i] + decay * w[i]);
            w[i] += v[i];
          }
        } else {
          const [m, v] = slots(name, w.length, 2);
          const { beta1, beta2, epsilon } = spec;
          for (let i = 0; i < w.length; i++) {
            const gi = g[i] + decay * w[i];
            m[i] += (1 - beta1) * (gi - m[i]);
            v[i] += (1 - beta2) * (gi * gi - v[i]);
            w[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + epsilon);
          }
        }
      }
    },
  };
}
