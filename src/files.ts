/**
 * Writing outputs: to a temporary file beside the target, renamed into place
 * once complete, so that a failure never leaves a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
