/**
 * The ONNX lowerings of the sequence layers: rnn, lstm and gru (ONNX's RNN,
 * LSTM and GRU, gates reordered from Keras's), bidirectional, and attention
 * in standard ops.
 */
import type { RecurrentAttrs } from '../../ops/recurrent.js';
import type { OnnxLayer } from './lower.js';

export function lowerRecurrent(l: OnnxLayer, _a: RecurrentAttrs, _prefix: string): string[] {
  return l.unsupported(`${l.node.op} (not lowered yet)`);
}

export function lowerBidirectional(l: OnnxLayer<'bidirectional'>): string[] {
  return l.unsupported('bidirectional (not lowered yet)');
}

export function lowerAttention(l: OnnxLayer<'attention'>): string[] {
  return l.unsupported('attention (not lowered yet)');
}
