// Types of bench/language_models.js, for the tests that import it.
import type * as tf from '@tensorflow/tfjs';

export function bertLayers(): [string, number][];
export function gpt2Layers(): [string, number][];
export function bert(w: (name: string) => tf.Tensor, tokens: tf.Tensor2D, segments: tf.Tensor2D): { sequence: tf.Tensor3D; pooled: tf.Tensor2D };
export function gpt2(w: (name: string) => tf.Tensor, tokens: tf.Tensor2D): { hidden: tf.Tensor3D };
