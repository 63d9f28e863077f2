// Types of bench/keras_zoo.js, for the tests that import it.
import type * as tf from '@tensorflow/tfjs';

export function resnet50(inputShape?: number[]): tf.LayersModel;
export function densenet121(inputShape?: number[]): tf.LayersModel;
export function inceptionV3(inputShape?: number[]): tf.LayersModel;
export function mobilenet(inputShape?: number[]): tf.LayersModel;
export function mobilenetV2(inputShape?: number[]): tf.LayersModel;
export function unet(inputShape?: number[], base?: number): tf.LayersModel;
export function seResNet(inputShape?: number[]): tf.LayersModel;
export function convAutoencoder(inputShape?: number[]): tf.LayersModel;
export function setWeightsFrom(model: tf.LayersModel, weight: (name: string) => tf.Tensor): void;
