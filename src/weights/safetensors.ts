/**
 * Weights files in the safetensors format: read and write them on disk.
 * The format itself (encode, decode, validation and its errors) is the pure
 * codec in runtime/safetensors.ts, re-exported here; this file adds only the
 * file system: reading, and writing atomically.
 */
import { READ_LIMITS, readInPieces, ReadProblem, writeFileSynced } from '../files.js';
import { weightMessages } from '../runtime/messages.js';
import { decodeSafetensorsFrom, encodeSafetensors, WeightsFileError } from '../runtime/safetensors.js';
import type { WeightsFile, WeightTensor } from '../runtime/safetensors.js';

export { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, WeightsFileError } from '../runtime/safetensors.js';
export type { WeightsFile, WeightTensor } from '../runtime/safetensors.js';

/**
 * Reads a weights file piece by piece (files.ts readInPieces), each tensor
 * straight into `alloc(count)`'s array: a large file is never held whole
 * beside its tensors.
 */
export async function readWeightsFile(path: string, alloc?: (floats: number) => Float32Array): Promise<WeightsFile> {
  try {
    return readInPieces(path, READ_LIMITS.weights, (size, read) => decodeSafetensorsFrom(size, read, alloc));
  } catch (e) {
    if (e instanceof ReadProblem) throw new WeightsFileError(weightMessages.cannotRead(e.message), path);
    throw e instanceof WeightsFileError ? new WeightsFileError(e.detail, path) : e;
  }
}

/** Writes the file as files.ts's writeFileSynced does: readers see either the old file or the whole new one. */
export async function writeWeightsFile(
  path: string,
  tensors: Map<string, WeightTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = encodeSafetensors(tensors, metadata);
  } catch (e) {
    throw e instanceof WeightsFileError ? new WeightsFileError(e.detail, path) : e;
  }
  await writeFileSynced(path, bytes);
}
