/**
 * Writing outputs: to a temporary file beside the target, renamed into place
 * once complete, so that a failure never leaves a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ERRNO_TEXT, messages, UserError } from './diagnostics.js';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, data, { flag: 'wx' });
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => {});
    const code = (e as NodeJS.ErrnoException).code;
    throw code ? new UserError(messages.writeFile(path, ERRNO_TEXT[code] ?? code)) : e;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Refuses, before any work starts, a command whose output would replace one
 * of its inputs or another of its outputs (`dlc compile m.dl -o m.dl`,
 * `dlc train --metrics` on the weights path): the same path, or another
 * name (a link) for the same existing file; and an output that is a directory. `outputs` pairs each path with
 * the flag it came from, for the message.
 */
export function checkOutputPaths(inputs: readonly string[], outputs: readonly (readonly [flag: string, path: string])[]): void {
  const identity = (path: string) => {
    try {
      const s = statSync(path);
      return `${s.dev}:${s.ino}`;
    } catch {
      return resolve(path); // not there yet: only its path can collide
    }
  };
  const taken = new Map(inputs.map((path) => [identity(path), { what: 'the input', path }]));
  for (const [flag, path] of outputs) {
    if (isDirectory(path)) throw new UserError(messages.writeFile(path, 'is a directory'));
    const clash = taken.get(identity(path));
    if (clash) throw new UserError(messages.outputCollides(flag, path, clash.what, clash.path));
    taken.set(identity(path), { what: `the ${flag} output`, path });
  }
}
