/** Elementwise activations (relu, sigmoid, tanh) and softmax over the last axis. Shape-preserving, no parameters. */
import { defineOp, OpDef } from './op.js';

function activation(name: string, doc: string): OpDef {
  return defineOp({ name, family: 'activation', doc, inputs: { min: 1, max: 1, names: ['x'] }, attrs: [], infer: (ctx) => ctx.input });
}

export const relu = activation('relu', 'max(0, x)');
export const sigmoid = activation('sigmoid', '1 / (1 + e^-x)');
export const tanh = activation('tanh', '(e^x - e^-x) / (e^x + e^-x)');
export const softmax = activation('softmax', 'e^x / sum(e^x) over the last axis');
