/**
 * The unknown-op message: Keras's name for an op dlc has points at dlc's
 * name; a layer dlc lacks is said to be missing, with the ops of its family
 * (nearest in meaning, not in spelling); anything else gets a did-you-mean.
 */
import { describe, expect, it } from 'vitest';
import { errorsOf } from '../helpers.js';

const only = (call: string, input = '[8, 8, 3]') => {
  const [e, ...rest] = errorsOf(`model M {\n  input x: ${input}\n  output y = x -> ${call}\n}\n`);
  expect(rest).toEqual([]);
  return { at: e.at, message: e.message, hint: e.hint };
};

describe('unknown ops', () => {
  it("Keras's layer names point at dlc's", () => {
    expect(only('BatchNormalization')).toEqual({ at: '3:19', message: "unknown op or block 'BatchNormalization'", hint: "dlc calls Keras's BatchNormalization 'batchnorm'" });
    expect(only('MaxPooling2D(2)').hint).toBe("dlc calls Keras's MaxPooling2D 'maxpool'");
    expect(only('GRU(16)', '[10, 4]').hint).toBe("dlc calls Keras's GRU 'gru'");
    expect(only('global_average_pooling2d').hint).toBe("dlc calls Keras's global_average_pooling2d 'global_avgpool'");
    expect(only('DepthwiseConv2D(3)').hint).toBe("dlc calls Keras's DepthwiseConv2D 'depthwise_conv2d'");
    expect(only('SeparableConv2D(8, 3)').hint).toBe("dlc calls Keras's SeparableConv2D 'separable_conv2d'");
  });

  it('a layer dlc does not have is named as missing, with the ops of its family, not a look-alike', () => {
    expect(only('prelu')).toEqual({
      at: '3:19',
      message: "'prelu' is not an op dlc has",
      hint: 'the activation ops it has: relu, sigmoid, tanh, relu6, leaky_relu, elu, selu, softplus, softsign, silu, swish, gelu, mish, hard_sigmoid, hard_swish, softmax',
    });
    expect(only('ConvLSTM2D(16, 3)', '[10, 4]')).toMatchObject({ message: "'ConvLSTM2D' is not an op dlc has", hint: 'the recurrent ops it has: rnn, lstm, gru, bidirectional' });
    expect(only('conv3d(8, 3)')).toMatchObject({
      hint: 'the conv ops it has: conv1d, conv2d, depthwise_conv2d, separable_conv2d, conv1d_transpose, conv2d_transpose',
    });
  });

  it('anything else gets a did-you-mean by spelling', () => {
    expect(only('rellu')).toEqual({ at: '3:19', message: "unknown op or block 'rellu'", hint: "did you mean 'relu'?" });
  });
});
