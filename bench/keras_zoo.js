// The model-zoo examples (examples/resnet50.dl, densenet121.dl,
// inception_v3.dl, mobilenet.dl, mobilenet_v2.dl, squeeze_excite.dl,
// conv_autoencoder.dl, unet.dl) written again with TensorFlow.js's Keras
// layers, following the Keras code they come from (keras.applications'
// resnet.py, densenet.py, inception_v3.py, mobilenet.py and mobilenet_v2.py;
// the SE and U-Net papers; the Keras blog's autoencoder). The tests compare dlc's summaries and
// outputs with these models and the benchmarks time them on tfjs's backends.
//
// Every layer is named as dlc names the same layer (`conv2d`, `conv2d_1`, ...,
// `batchnorm_3`, `relu_7`): op by op in the order the .dl file creates them,
// so a test can pair layers by name and `setWeightsFrom` can load dlc's
// weights (`<layer>.<param>`, Keras's parameter names and order); until then
// kernels are zeros, which saves seconds of random initialisation per model
// (the tests and benchmarks always load dlc's weights). A builder
// that creates layers in another order than the .dl file gives other names,
// and the per-layer comparison in test/examples.test.ts fails.
import * as tf from '@tensorflow/tfjs';

/** dlc's automatic layer names: the op's name, then op_1, op_2, ... in creation order. */
function namer() {
  const counts = new Map();
  return (op) => {
    const n = counts.get(op) ?? 0;
    counts.set(op, n + 1);
    return n === 0 ? op : `${op}_${n}`;
  };
}

/** Layer factories that name each layer as dlc would; each returns the applied symbolic tensor. */
function layers() {
  const name = namer();
  const apply = (layer, x) => layer.apply(x);
  return {
    conv: (x, filters, kernel, { stride = 1, padding = 'valid', bias = true } = {}) =>
      apply(tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding, useBias: bias, kernelInitializer: 'zeros', name: name('conv2d') }), x),
    depthwise: (x, kernel, { stride = 1, padding = 'valid', bias = true } = {}) =>
      apply(tf.layers.depthwiseConv2d({ kernelSize: kernel, strides: stride, padding, useBias: bias, depthwiseInitializer: 'zeros', name: name('depthwise_conv2d') }), x),
    convTranspose: (x, filters, kernel, { stride = 1, padding = 'valid' } = {}) =>
      apply(tf.layers.conv2dTranspose({ filters, kernelSize: kernel, strides: stride, padding, kernelInitializer: 'zeros', name: name('conv2d_transpose') }), x),
    bn: (x, { epsilon = 1e-3, momentum = 0.99, scale = true } = {}) => apply(tf.layers.batchNormalization({ epsilon, momentum, scale, name: name('batchnorm') }), x),
    relu6: (x) => apply(tf.layers.reLU({ maxValue: 6, name: name('relu6') }), x),
    act: (x, activation) => apply(tf.layers.activation({ activation, name: name(activation) }), x),
    pad: (x, padding) => apply(tf.layers.zeroPadding2d({ padding, name: name('zero_padding') }), x),
    crop: (x, cropping) => apply(tf.layers.cropping2D({ cropping, name: name('cropping') }), x),
    dropout: (x, rate) => apply(tf.layers.dropout({ rate, name: name('dropout') }), x),
    maxpool: (x, size, stride = size, padding = 'valid') => apply(tf.layers.maxPooling2d({ poolSize: size, strides: stride, padding, name: name('maxpool') }), x),
    avgpool: (x, size, stride = size, padding = 'valid') => apply(tf.layers.averagePooling2d({ poolSize: size, strides: stride, padding, name: name('avgpool') }), x),
    gap: (x) => apply(tf.layers.globalAveragePooling2d({ name: name('global_avgpool') }), x),
    dense: (x, units) => apply(tf.layers.dense({ units, kernelInitializer: 'zeros', name: name('dense') }), x),
    add: (xs) => apply(tf.layers.add({ name: name('add') }), xs),
    multiply: (xs) => apply(tf.layers.multiply({ name: name('multiply') }), xs),
    concat: (xs) => apply(tf.layers.concatenate({ axis: -1, name: name('concat') }), xs),
    reshape: (x, targetShape) => apply(tf.layers.reshape({ targetShape, name: name('reshape') }), x),
    upsample: (x, size) => apply(tf.layers.upSampling2d({ size: [size, size], name: name('upsampling') }), x),
  };
}

/** keras.applications.ResNet50 (include_top, 1000 classes), its dense layer's softmax as a separate layer as in the .dl file. */
export function resnet50(inputShape = [224, 224, 3]) {
  const L = layers();
  const epsilon = 1.001e-5;
  const convBn = (x, filters, kernel, stride = 1, padding = 'valid') => L.bn(L.conv(x, filters, kernel, { stride, padding }), { epsilon });
  // keras resnet.py block1: a projected (conv_shortcut) or identity skip around 1x1, 3x3, 1x1.
  const block = (x, filters, stride, project) => {
    const shortcut = project ? convBn(x, 4 * filters, 1, stride) : x;
    let h = L.act(convBn(x, filters, 1, stride), 'relu');
    h = L.act(convBn(h, filters, 3, 1, 'same'), 'relu');
    h = convBn(h, 4 * filters, 1);
    return L.act(L.add([shortcut, h]), 'relu');
  };
  // keras resnet.py stack1.
  const stack = (x, filters, blocks, stride = 2) => {
    x = block(x, filters, stride, true);
    for (let i = 1; i < blocks; i++) x = block(x, filters, 1, false);
    return x;
  };
  const input = tf.input({ shape: inputShape });
  let x = L.pad(input, 3);
  x = L.act(L.bn(L.conv(x, 64, 7, { stride: 2 }), { epsilon }), 'relu');
  x = L.maxpool(L.pad(x, 1), 3, 2);
  x = stack(x, 64, 3, 1);
  x = stack(x, 128, 4);
  x = stack(x, 256, 6);
  x = stack(x, 512, 3);
  return tf.model({ inputs: input, outputs: L.act(L.dense(L.gap(x), 1000), 'softmax') });
}

/** keras.applications.DenseNet121 (include_top, 1000 classes). */
export function densenet121(inputShape = [224, 224, 3]) {
  const L = layers();
  const epsilon = 1.001e-5;
  const bnRelu = (x) => L.act(L.bn(x, { epsilon }), 'relu');
  // keras densenet.py conv_block, dense_block and transition_block.
  const convBlock = (x, growth) => {
    let h = L.conv(bnRelu(x), 4 * growth, 1, { bias: false });
    h = L.conv(bnRelu(h), growth, 3, { padding: 'same', bias: false });
    return L.concat([x, h]);
  };
  const denseBlock = (x, blocks) => {
    for (let i = 0; i < blocks; i++) x = convBlock(x, 32);
    return x;
  };
  const transition = (x, reduction) => {
    const channels = x.shape.at(-1);
    return L.avgpool(L.conv(bnRelu(x), Math.floor(channels * reduction), 1, { bias: false }), 2, 2);
  };
  const input = tf.input({ shape: inputShape });
  let x = L.conv(L.pad(input, 3), 64, 7, { stride: 2, bias: false });
  x = L.maxpool(L.pad(bnRelu(x), 1), 3, 2);
  x = transition(denseBlock(x, 6), 0.5);
  x = transition(denseBlock(x, 12), 0.5);
  x = transition(denseBlock(x, 24), 0.5);
  x = bnRelu(denseBlock(x, 16));
  return tf.model({ inputs: input, outputs: L.act(L.dense(L.gap(x), 1000), 'softmax') });
}

/** keras.applications.InceptionV3 (include_top, 1000 classes). */
export function inceptionV3(inputShape = [299, 299, 3]) {
  const L = layers();
  // keras inception_v3.py conv2d_bn: conv without bias, batchnorm without scale, relu.
  const cbn = (x, filters, kernel, stride = 1, padding = 'same') =>
    L.act(L.bn(L.conv(x, filters, kernel, { stride, padding, bias: false }), { scale: false }), 'relu');
  const poolBranch = (x, filters) => cbn(L.avgpool(x, 3, 1, 'same'), filters, 1);
  const mixedA = (x, pool) => {
    const b1 = cbn(x, 64, 1);
    const b5 = cbn(cbn(x, 48, 1), 64, 5);
    const b3 = cbn(cbn(cbn(x, 64, 1), 96, 3), 96, 3);
    return L.concat([b1, b5, b3, poolBranch(x, pool)]);
  };
  const mixedC = (x, c7) => {
    const b1 = cbn(x, 192, 1);
    const b7 = cbn(cbn(cbn(x, c7, 1), c7, [1, 7]), 192, [7, 1]);
    let d7 = cbn(cbn(cbn(x, c7, 1), c7, [7, 1]), c7, [1, 7]);
    d7 = cbn(cbn(d7, c7, [7, 1]), 192, [1, 7]);
    return L.concat([b1, b7, d7, poolBranch(x, 192)]);
  };
  const mixedE = (x) => {
    const b1 = cbn(x, 320, 1);
    const s3 = cbn(x, 384, 1);
    const b3 = L.concat([cbn(s3, 384, [1, 3]), cbn(s3, 384, [3, 1])]);
    const d3 = cbn(cbn(x, 448, 1), 384, 3);
    const b3dbl = L.concat([cbn(d3, 384, [1, 3]), cbn(d3, 384, [3, 1])]);
    return L.concat([b1, b3, b3dbl, poolBranch(x, 192)]);
  };
  const input = tf.input({ shape: inputShape });
  let x = cbn(input, 32, 3, 2, 'valid');
  x = cbn(cbn(x, 32, 3, 1, 'valid'), 64, 3);
  x = L.maxpool(x, 3, 2);
  x = cbn(cbn(x, 80, 1, 1, 'valid'), 192, 3, 1, 'valid');
  x = L.maxpool(x, 3, 2);
  x = mixedA(mixedA(mixedA(x, 32), 64), 64);
  // mixed3
  x = L.concat([cbn(x, 384, 3, 2, 'valid'), cbn(cbn(cbn(x, 64, 1), 96, 3), 96, 3, 2, 'valid'), L.maxpool(x, 3, 2)]);
  x = mixedC(mixedC(mixedC(mixedC(x, 128), 160), 160), 192);
  // mixed8
  const r3 = cbn(cbn(x, 192, 1), 320, 3, 2, 'valid');
  const r7 = cbn(cbn(cbn(cbn(x, 192, 1), 192, [1, 7]), 192, [7, 1]), 192, 3, 2, 'valid');
  x = L.concat([r3, r7, L.maxpool(x, 3, 2)]);
  x = mixedE(mixedE(x));
  return tf.model({ inputs: input, outputs: L.act(L.dense(L.gap(x), 1000), 'softmax') });
}

/** keras.applications.MobileNet (alpha 1, depth multiplier 1, include_top, 1000 classes). */
export function mobilenet(inputShape = [224, 224, 3]) {
  const L = layers();
  // keras mobilenet.py _conv_block; the pointwise convolutions are 1x1 ones.
  const convBlock = (x, filters, kernel = 1, stride = 1) => L.relu6(L.bn(L.conv(x, filters, kernel, { stride, padding: 'same', bias: false })));
  // _depthwise_conv_block: a strided one pads the bottom and right and slides unpadded.
  const dwBlock = (x, filters, stride = 1) => {
    if (stride === 2) x = L.pad(x, [[0, 1], [0, 1]]);
    x = L.relu6(L.bn(L.depthwise(x, 3, { stride, padding: stride === 1 ? 'same' : 'valid', bias: false })));
    return convBlock(x, filters);
  };
  const input = tf.input({ shape: inputShape });
  let x = convBlock(input, 32, 3, 2);
  x = dwBlock(x, 64);
  x = dwBlock(dwBlock(x, 128, 2), 128);
  x = dwBlock(dwBlock(x, 256, 2), 256);
  x = dwBlock(x, 512, 2);
  for (let i = 0; i < 5; i++) x = dwBlock(x, 512);
  x = dwBlock(dwBlock(x, 1024, 2), 1024);
  // The top: the pooled features as a 1x1 image, a 1x1 convolution as the classifier.
  x = L.dropout(L.reshape(L.gap(x), [1, 1, 1024]), 1e-3);
  x = L.reshape(L.conv(x, 1000, 1), [1000]);
  return tf.model({ inputs: input, outputs: L.act(x, 'softmax') });
}

/** keras.applications.MobileNetV2 (alpha 1, include_top, 1000 classes). */
export function mobilenetV2(inputShape = [224, 224, 3]) {
  const L = layers();
  const bn = (x) => L.bn(x, { momentum: 0.999 });
  const convBn = (x, filters, kernel = 1, stride = 1) => L.relu6(bn(L.conv(x, filters, kernel, { stride, padding: 'same', bias: false })));
  // keras mobilenet_v2.py _inverted_res_block: expand (not in block 0), depthwise, linear projection, skip.
  const block = (x, filters, expansion, stride) => {
    const channels = x.shape.at(-1);
    let h = expansion === 1 ? x : convBn(x, expansion * channels);
    if (stride === 2) h = L.pad(h, [[0, 1], [0, 1]]);
    h = L.relu6(bn(L.depthwise(h, 3, { stride, padding: stride === 1 ? 'same' : 'valid', bias: false })));
    h = bn(L.conv(h, filters, 1, { bias: false }));
    return channels === filters && stride === 1 ? L.add([x, h]) : h;
  };
  const input = tf.input({ shape: inputShape });
  let x = convBn(input, 32, 3, 2);
  // The paper's Table 2: expansion t, channels c, repeats n, first stride s.
  for (const [t, c, n, s] of [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]) {
    for (let i = 0; i < n; i++) x = block(x, c, t, i === 0 ? s : 1);
  }
  x = convBn(x, 1280);
  return tf.model({ inputs: input, outputs: L.act(L.dense(L.gap(x), 1000), 'softmax') });
}

/** examples/squeeze_excite.dl: SE-ResNet modules (Hu et al., Fig. 3) in a small network on 32x32x3 images. */
export function seResNet(inputShape = [32, 32, 3]) {
  const L = layers();
  const squeezeExcite = (x, channels, ratio = 16) => {
    let gate = L.act(L.dense(L.gap(x), Math.floor(channels / ratio)), 'relu');
    gate = L.reshape(L.act(L.dense(gate, channels), 'sigmoid'), [1, 1, channels]);
    return L.multiply([x, gate]);
  };
  const seResidual = (x, channels) => {
    let h = L.act(L.conv(x, channels, 3, { padding: 'same' }), 'relu');
    h = squeezeExcite(L.conv(h, channels, 3, { padding: 'same' }), channels);
    return L.act(L.add([x, h]), 'relu');
  };
  const input = tf.input({ shape: inputShape });
  let x = L.act(L.conv(input, 32, 3, { padding: 'same' }), 'relu');
  x = L.maxpool(seResidual(x, 32), 2);
  x = L.act(L.conv(x, 64, 3, { padding: 'same' }), 'relu');
  x = seResidual(seResidual(x, 64), 64);
  return tf.model({ inputs: input, outputs: L.act(L.dense(L.gap(x), 10), 'softmax') });
}

/** The convolutional autoencoder of the Keras blog's "Building Autoencoders in Keras". */
export function convAutoencoder(inputShape = [28, 28, 1]) {
  const L = layers();
  const down = (x, filters) => L.maxpool(L.act(L.conv(x, filters, 3, { padding: 'same' }), 'relu'), 2, 2, 'same');
  const up = (x, filters, padding = 'same') => L.upsample(L.act(L.conv(x, filters, 3, { padding }), 'relu'), 2);
  const input = tf.input({ shape: inputShape });
  const code = down(down(down(input, 16), 8), 8);
  const x = up(up(up(code, 8), 8), 16, 'valid');
  return tf.model({ inputs: input, outputs: L.act(L.conv(x, 1, 3, { padding: 'same' }), 'sigmoid') });
}

/**
 * The U-Net of Ronneberger et al. (Fig. 1): unpadded 3x3 convolutions, 2x2
 * max pools, 2x2 up-convolutions, cropped skips. `base` channels at the top
 * level (64 in the paper), as examples/unet.dl's `const base`.
 */
export function unet(inputShape = [572, 572, 1], base = 64) {
  const L = layers();
  const doubleConv = (x, filters) => L.act(L.conv(L.act(L.conv(x, filters, 3), 'relu'), filters, 3), 'relu');
  const up = (x, skip, filters, crop) => {
    const upsampled = L.convTranspose(x, filters, 2, { stride: 2 });
    return doubleConv(L.concat([L.crop(skip, crop), upsampled]), filters);
  };
  const input = tf.input({ shape: inputShape });
  const level1 = doubleConv(input, base);
  const level2 = doubleConv(L.maxpool(level1, 2), 2 * base);
  const level3 = doubleConv(L.maxpool(level2, 2), 4 * base);
  const level4 = doubleConv(L.maxpool(level3, 2), 8 * base);
  let x = doubleConv(L.maxpool(level4, 2), 16 * base);
  x = up(x, level4, 8 * base, 4);
  x = up(x, level3, 4 * base, 16);
  x = up(x, level2, 2 * base, 40);
  x = up(x, level1, base, 88);
  return tf.model({ inputs: input, outputs: L.conv(x, 2, 1) });
}

/**
 * Loads dlc's weights into a model built above: each layer's weights by
 * `<layer>.<param>` (Keras's parameter names: kernel, bias, gamma, beta,
 * moving_mean, moving_variance, depthwise_kernel). `weight` returns a tensor the caller owns.
 */
export function setWeightsFrom(model, weight) {
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((v) => weight(`${layer.name}.${v.originalName.split('/').at(-1)}`));
    layer.setWeights(values);
    tf.dispose(values);
  }
}
