/** The built-in interpreter: reference semantics, weights, JSON tensors. */
export { Interpreter, KERNELS } from './execute.js';
export type { RunOptions, RunStats } from './execute.js';
export { initWeights, loadWeights, saveWeights, weightProblems, weightSlots } from './weights.js';
export type { Weights } from './weights.js';
export { inputsFromJson, inputsFromJsonText, tensorFromJson, tensorToJson, InputError } from './io.js';
export type { Tensor } from './tensor.js';
export { kernelBackend, setFastMath, setKernelBackend, setThreads } from './wasm/index.js';
export type { KernelChoice, KernelBackend } from './wasm/index.js';
