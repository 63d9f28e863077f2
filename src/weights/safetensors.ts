/**
 * Weights files in the safetensors format: read and write them on disk.
 * The format itself (encode, decode, validation and its errors) is the pure
 * codec in runtime/safetensors.ts, re-exported here; this file adds only the
 * file system: reading, and writing atomically.
 */
import { open, readFile, rename, stat } from 'node:fs/promises';
import { safetensorsMessages } from '../runtime/messages.js';
import { removeTemporary, temporaryPath } from '../files.js';
import { decodeSafetensors, encodeSafetensors, WeightsFileError } from '../runtime/safetensors.js';
import type { WeightsFile, WeightTensor } from '../runtime/safetensors.js';

export { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES, WeightsFileError } from '../runtime/safetensors.js';
export type { WeightsFile, WeightTensor } from '../runtime/safetensors.js';

/** The largest weights file read: Node reads at most 2 GiB into one buffer (ERR_FS_FILE_TOO_LARGE past it). */
export const MAX_WEIGHTS_FILE_BYTES = 2 ** 31 - 1;

export async function readWeightsFile(path: string): Promise<WeightsFile> {
  const info = await stat(path);
  if (!info.isFile()) throw new WeightsFileError(safetensorsMessages.notAFile(info.isDirectory()), path);
  if (info.size > MAX_WEIGHTS_FILE_BYTES) throw new WeightsFileError(safetensorsMessages.fileTooLarge(info.size, MAX_WEIGHTS_FILE_BYTES), path);
  const bytes = await readFile(path);
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    throw e instanceof WeightsFileError ? new WeightsFileError(e.detail, path) : e;
  }
}

/**
 * Writes to a temporary file beside `path`, flushes it, then renames it into place,
 * so readers see either the old file or the whole new one, never a half-written one.
 */
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
  const temporary = temporaryPath(path);
  try {
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } finally {
    await removeTemporary(temporary);
  }
}
