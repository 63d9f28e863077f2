/**
 * The public API of dlc. Everything the command line does is available here:
 * compile a file, summarize a model, print its IR, run it in the interpreter
 * or (OrtSession, exportOnnx) in ONNX Runtime.
 */
export { compileFile, compileSource, selectModel, readSource } from './compile.js';
export type { CompiledFile } from './compile.js';
export { CompileError, formatDiagnostic } from './diagnostics.js';
export type { Diagnostic } from './diagnostics.js';
export { printGraph } from './ir/print.js';
export type { Graph, Node, TensorType, DType, Dim } from './ir/types.js';
export { summarize, formatSummary, summaryJson } from './summary.js';
export type { Summary, SummaryRow } from './summary.js';
export { OPS } from './ops/index.js';
export type { OpName } from './ops/index.js';
export { optimize, passNames, PIPELINE } from './passes/pipeline.js';
export type { PassStats } from './passes/pipeline.js';
export { kernelBackend, setFastMath, setKernelBackend, setThreads } from './backends/interp/index.js';
export { Interpreter, initWeights, loadWeights, saveWeights, inputsFromJson, tensorToJson, InputError } from './backends/interp/index.js';
export type { Tensor, Weights, RunOptions, RunStats } from './backends/interp/index.js';
export { trainCommand, evalCommand, train, evaluate, trainConfig, tfjsTraining, loadData, TrainError } from './train/index.js';
export { lossAndGradients } from './backends/interp/autodiff.js';
export { renderDiagram, graphToDot, DEFAULT_DIAGRAM_OPTIONS } from './backends/dot/index.js';
export { dotToSvg, svgToPng } from './backends/dot/render.js';
export type { DiagramOptions } from './backends/dot/index.js';
export { UserError } from './diagnostics.js';
export { emitTfjs, tfjsModuleNames } from './backends/tfjs/index.js';
export { exportOnnx, externalDataPath, OPSET } from './backends/onnx/index.js';
export type { OnnxModel, OnnxOptions } from './backends/onnx/index.js';
export { decodeModel } from './backends/onnx/builder.js';
export { OrtSession, loadOrt } from './backends/onnx/ort.js';
export { evaluateWith } from './train/train.js';
export { formatSource, DEFAULT_WIDTH } from './format/index.js';
export type { FormatOptions, FormatResult } from './format/index.js';
