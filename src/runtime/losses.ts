/**
 * The losses dlc trains with, by name: the interpreter computes them in
 * backends/interp/losses.ts, generated modules in support.ts (lossOf).
 */
export type LossName = 'mse' | 'binary_crossentropy' | 'categorical_crossentropy' | 'sparse_categorical_crossentropy';

export const LOSSES: readonly LossName[] = ['mse', 'binary_crossentropy', 'categorical_crossentropy', 'sparse_categorical_crossentropy'];
