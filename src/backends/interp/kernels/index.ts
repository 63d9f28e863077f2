/** The interpreter's kernels: functions from Tensors to a Tensor, written into a planned `out` buffer when given. See each file for its contract. */
export * from './activation.js';
export * from './matmul.js';
export * from './dense.js';
export * from './window.js';
export * from './conv.js';
export * from './conv_transpose.js';
export * from './pool.js';
export * from './elementwise.js';
export * from './embedding.js';
export * from './positional.js';
export * from './recurrent.js';
export * from './layernorm.js';
export * from './attention.js';
export * from './batchnorm.js';
export * from './resize.js';
export * from './merge.js';
