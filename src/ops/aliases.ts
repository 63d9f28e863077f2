/**
 * Names users bring from Keras, for the unknown-op message: the layers dlc
 * writes under another name, and the layers it does not have yet with the
 * family of ops nearest in meaning (so that `gelu`-like misses are not
 * answered with an edit-distance guess such as `relu`). Keys are normalised:
 * lower case, no underscores.
 */
import { lookupOp, type OpName } from './index.js';
import type { OpFamily } from './op.js';

const KERAS_NAMES: Record<string, OpName> = {
  conv1d: 'conv1d', conv2d: 'conv2d', convolution2d: 'conv2d',
  maxpooling1d: 'maxpool', maxpooling2d: 'maxpool', maxpool1d: 'maxpool', maxpool2d: 'maxpool',
  averagepooling1d: 'avgpool', averagepooling2d: 'avgpool', avgpool1d: 'avgpool', avgpool2d: 'avgpool',
  globalmaxpooling1d: 'global_maxpool', globalmaxpooling2d: 'global_maxpool', globalmaxpool: 'global_maxpool',
  globalaveragepooling1d: 'global_avgpool', globalaveragepooling2d: 'global_avgpool', globalavgpool: 'global_avgpool',
  batchnormalization: 'batchnorm', layernormalization: 'layernorm',
  simplernn: 'rnn', gru: 'gru', multiheadattention: 'attention', concatenate: 'concat',
  zeropadding1d: 'zero_padding', zeropadding2d: 'zero_padding', cropping1d: 'cropping', cropping2d: 'cropping',
  upsampling1d: 'upsampling', upsampling2d: 'upsampling',
  permute: 'permute', transpose: 'permute', repeatvector: 'repeat_vector',
  depthwiseconv2d: 'depthwise_conv2d', separableconv2d: 'separable_conv2d', separableconvolution2d: 'separable_conv2d',
  conv1dtranspose: 'conv1d_transpose', conv2dtranspose: 'conv2d_transpose', convolution2dtranspose: 'conv2d_transpose', deconv2d: 'conv2d_transpose', deconvolution2d: 'conv2d_transpose',
  relu: 'relu', leakyrelu: 'leaky_relu', elu: 'elu', softmax: 'softmax', hardsilu: 'hard_swish', hardswish: 'hard_swish', hardsigmoid: 'hard_sigmoid',
};

const NOT_YET: Record<string, OpFamily> = {
  convlstm2d: 'recurrent',
  // Keras's Activation('relu') layer: dlc calls each activation by its name.
  activation: 'activation', prelu: 'activation', logsoftmax: 'activation',
  conv3d: 'conv',
  groupnormalization: 'norm', unitnormalization: 'norm', rmsnorm: 'norm',
  maxpooling3d: 'pool', averagepooling3d: 'pool',
  dot: 'merge',
};

/** What to tell a user who called `name`: the dlc op Keras's name stands for, or the ops nearest in meaning to a layer dlc lacks. */
export function unknownOpAdvice(name: string, callable: readonly OpName[]): { alias?: OpName; family?: { name: OpFamily; ops: OpName[] } } {
  const key = name.toLowerCase().replace(/_/g, '');
  if (Object.hasOwn(KERAS_NAMES, key)) return { alias: KERAS_NAMES[key] };
  if (Object.hasOwn(NOT_YET, key)) {
    const family = NOT_YET[key]!;
    return { family: { name: family, ops: callable.filter((op) => lookupOp(op)!.family === family) } };
  }
  return {};
}
