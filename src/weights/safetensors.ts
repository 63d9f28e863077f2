/**
 * Weights files in the safetensors format: read and write them on disk.
 * The format itself (encode, decode, validation and its errors) is the pure
 * codec in runtime/safetensors.ts, re-exported here; this file adds only the
 * file system: reading, and writing atomically.
 */
import { READ_LIMITS, readBounded, ReadProblem, writeFileSynced } from '../files.js';
import { weightMessages } from '../runtime/messages.js';
import { decodeSafetensors, encodeSafetensors, WeightsFileError } from '../runtime/safetensors.js';
import type { WeightsFile, WeightTensor } from '../runtime/safetensors.js';

export { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, WeightsFileError } from '../runtime/safetensors.js';
export type { WeightsFile, WeightTensor } from '../runtime/safetensors.js';

export async function readWeightsFile(path: string): Promise<WeightsFile> {
  let bytes: Uint8Array;
  try {
    bytes = readBounded(path, READ_LIMITS.weights);
  } catch (e) {
    throw e instanceof ReadProblem ? new WeightsFileError(weightMessages.cannotRead(e.message), path) : e;
  }
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
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
