/**
 * The file system at the command line's edge. Reading: only regular files, of
 * bounded size, so that `/dev/zero`, a FIFO or a directory is a clear error
 * and never a hang. Writing: to a temporary file beside the target, renamed
 * into place once complete, so that a failure never leaves a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ERRNO_TEXT, messages, UserError } from './diagnostics.js';

/** Largest files each reader accepts (the README's limits table). */
export const READ_LIMITS = {
  /** `--inputs` JSON for `dlc run`. */
  json: 256 * 2 ** 20,
  /** CSV data sets. */
  csv: 256 * 2 ** 20,
  /** safetensors weights (read in pieces, each tensor into its own array). */
  weights: 2 ** 31 - 1,
} as const;

/** Why a file cannot be read, worded to follow "cannot read 'PATH': ". */
export class ReadProblem extends Error {}

const KINDS: [(s: Stats) => boolean, string][] = [
  [(s) => s.isDirectory(), 'a directory'],
  [(s) => s.isFIFO(), 'a FIFO (named pipe)'],
  [(s) => s.isCharacterDevice(), 'a character device'],
  [(s) => s.isBlockDevice(), 'a block device'],
  [(s) => s.isSocket(), 'a socket'],
];

/** A limit as messages give it: exact, then rounded (`8,388,608 bytes (8 MiB)`). */
const limitText = (n: number): string =>
  `${n.toLocaleString('en-US')} bytes (${n >= 2 ** 30 ? `${+(n / 2 ** 30).toFixed(1)} GiB` : `${+(n / 2 ** 20).toFixed(1)} MiB`})`;

/**
 * `fn` on a regular file of at most `limit` bytes, read piece by piece: the
 * checks of readBounded, then `read(at, length)` gives bytes [at, at + length)
 * in a buffer reused by the next call, for a file too large to hold whole
 * beside what it decodes to (weights). A file that ends sooner than its size
 * said when opened is a ReadProblem.
 */
export function readInPieces<T>(path: string, limit: number, fn: (size: number, read: (at: number, length: number) => Uint8Array) => T): T {
  const fd = openRegular(path);
  try {
    const size = fstatSync(fd).size;
    if (size > limit) throw new ReadProblem(messages.fileTooLarge(size, limitText(limit)));
    let buffer = Buffer.alloc(0);
    const read = (at: number, length: number) => {
      if (buffer.length < length) buffer = Buffer.allocUnsafe(length);
      for (let done = 0; done < length; ) {
        const n = readSync(fd, buffer, done, length - done, at + done);
        if (n === 0) throw new ReadProblem(messages.fileShrank(size));
        done += n;
      }
      return buffer.subarray(0, length);
    };
    return fn(size, read);
  } catch (e) {
    throw asReadProblem(e);
  } finally {
    closeSync(fd);
  }
}

/**
 * A regular file's bytes, at most `limit` of them; anything else throws a
 * ReadProblem. Opened without blocking (a FIFO with no writer would wait
 * forever), checked with fstat on the open descriptor (no race with a rename),
 * and read with a bound even if the file grows while we read.
 */
export function readBounded(path: string, limit: number): Buffer {
  const fd = openRegular(path);
  try {
    const stat = fstatSync(fd);
    if (stat.size > limit) throw new ReadProblem(messages.fileTooLarge(stat.size, limitText(limit)));
    const buffer = Buffer.allocUnsafe(Math.min(stat.size + 1, limit + 1));
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > limit) throw new ReadProblem(messages.fileGrew(limitText(limit)));
    return buffer.subarray(0, length);
  } catch (e) {
    throw asReadProblem(e);
  } finally {
    closeSync(fd);
  }
}

/** A descriptor of `path` opened for reading, without blocking (a FIFO with no writer would wait forever); a ReadProblem unless it is a regular file. */
function openRegular(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw asReadProblem(e);
  }
  try {
    const stat = fstatSync(fd);
    const kind = KINDS.find(([is]) => is(stat))?.[1];
    if (!stat.isFile()) throw new ReadProblem(kind ? `it is ${kind}, not a regular file` : 'it is not a regular file');
    return fd;
  } catch (e) {
    closeSync(fd);
    throw asReadProblem(e);
  }
}

/** A system error as a ReadProblem (its errno's text); ReadProblems and other errors (a decoder's) pass through. */
function asReadProblem(e: unknown): unknown {
  if (e instanceof ReadProblem) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? new ReadProblem(ERRNO_TEXT[code] ?? code) : e;
}

/**
 * Standard input's bytes, at most `limit` of them: a larger input is a
 * ReadProblem as soon as it passes the limit, not after it has all arrived.
 */
export async function readStdinBounded(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > limit) {
      process.stdin.destroy();
      throw new ReadProblem(messages.streamTooLarge(limitText(limit)));
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

/** A bounded file as UTF-8 text. */
export const readTextBounded = (path: string, limit: number): string => readBounded(path, limit).toString('utf8');

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporaryPath(path);
  try {
    await writeFile(temporary, data, { flag: 'wx' });
    await rename(temporary, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw code ? new UserError(messages.writeFile(path, ERRNO_TEXT[code] ?? code)) : e;
  } finally {
    await removeTemporary(temporary);
  }
}

/**
 * Writes to a temporary file beside `path`, flushes it to the disk, then renames it into place,
 * so readers see either the old file or the whole new one, never a half-written one.
 * Errors are Node's own (the weights writer's callers word them).
 */
export async function writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
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

/**
 * Temporary files being written. Until each is renamed into place or removed,
 * SIGINT, SIGTERM and SIGHUP remove them before the process ends as the
 * signal would have ended it (exit 128 + the signal's number), and so does any
 * exit. SIGKILL runs no code: a `.<name>.<hex>.tmp` it leaves is garbage, never
 * a half-written output. The handlers are installed only while a temporary
 * file exists, so that a signal still stops a long synchronous run at once.
 */
const temporaries = new Set<string>();
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

const removeAll = () => {
  for (const path of temporaries) {
    try {
      unlinkSync(path);
    } catch {
      // already gone, or never created
    }
  }
  temporaries.clear();
};
const onSignal = (signal: keyof typeof SIGNALS) => {
  removeAll();
  process.exit(128 + SIGNALS[signal]);
};

/** A new temporary name beside `path`, removed on a signal or at exit until removeTemporary. */
export function temporaryPath(path: string): string {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  if (temporaries.size === 0) {
    for (const signal of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(signal, onSignal);
    process.on('exit', removeAll);
  }
  temporaries.add(temporary);
  return temporary;
}

/** Removes a temporary file if it is still there (renamed into place, it is not) and stops tracking it. */
export async function removeTemporary(temporary: string): Promise<void> {
  await unlink(temporary).catch(() => {});
  temporaries.delete(temporary);
  if (temporaries.size === 0) {
    for (const signal of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.off(signal, onSignal);
    process.off('exit', removeAll);
  }
}

/**
 * Makes each output's directory and checks that a file can be created in it,
 * before long work starts: `dlc train` found an unwritable path only after
 * the whole run. The probe is a temporary file, removed at once.
 */
export async function checkWritable(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const probe = temporaryPath(path);
    try {
      await mkdir(dirname(path), { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        throw e.code === 'EEXIST' ? { code: 'ENOTDIR' } : e; // a file stands where a directory should
      });
      await writeFile(probe, '', { flag: 'wx' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw code ? new UserError(messages.writeFile(path, ERRNO_TEXT[code] ?? code)) : e;
    } finally {
      await removeTemporary(probe);
    }
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
