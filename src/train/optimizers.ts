/**
 * The interpreter's optimizers: update float32 weights in place from their
 * gradients. The update rules, the state they keep, the step size and the
 * weight decay are the runtime's (runtime/optimizers.ts, shared with generated
 * modules); this file applies them elementwise with Float32Array loops,
 * arithmetic in float64 per element, stored as float32. State (velocities,
 * moments) is kept per weight name.
 */
import type { Tensor } from '../runtime/tensor.js';
import { decayFactor, slotCount, stepSize, type OptimizerSpec } from '../runtime/optimizers.js';
import type { Weights } from '../backends/interp/weights.js';
import { internal } from '../diagnostics.js';

export interface Optimizer {
  readonly spec: OptimizerSpec;
  /** Applies one update to every weight that has a gradient. */
  step(weights: Weights, grads: Map<string, Tensor>): void;
}

export function createOptimizer(spec: OptimizerSpec, weightDecay = 0): Optimizer {
  const state = new Map<string, Float32Array[]>();
  const count = slotCount(spec);
  const slots = (name: string, n: number) => {
    let s = state.get(name);
    if (!s) state.set(name, (s = Array.from({ length: count }, () => new Float32Array(n))));
    return s;
  };
  let t = 0;
  return {
    spec,
    step(weights, grads) {
      t++;
      const lr = stepSize(spec, t);
      for (const [name, grad] of grads) {
        const w = weights.get(name)?.data;
        if (!w) throw internal(`optimizer: gradient for unknown weight "${name}"`);
        const g = grad.data;
        const decay = decayFactor(name, weightDecay);
        if (spec.kind === 'sgd') {
          if (count === 0) {
            for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + decay * w[i]);
            continue;
          }
          const [v] = slots(name, w.length);
          for (let i = 0; i < w.length; i++) {
            v[i] = spec.momentum * v[i] - lr * (g[i] + decay * w[i]);
            w[i] += v[i];
          }
        } else {
          const [m, v] = slots(name, w.length);
          const { beta1, beta2, epsilon } = spec;
          for (let i = 0; i < w.length; i++) {
            const gi = g[i] + decay * w[i];
            m[i] += (1 - beta1) * (gi - m[i]);
            v[i] += (1 - beta2) * (gi * gi - v[i]);
            w[i] -= (lr * m[i]) / (Math.sqrt(v[i]) + epsilon);
          }
        }
      }
    },
  };
}
