/**
 * files.ts in the browser: the playground's bundler resolves files.ts to this
 * module. The page has no file system (its source, inputs and weights live in
 * memory), so every reader and writer refuses with one clear message. Each export
 * is typed as files.ts's, so the two cannot drift apart.
 */
import type * as files from '../files.js';
import { messages, UserError } from '../diagnostics.js';

const refuse = (what: string): never => {
  throw new UserError(messages.noFilesInBrowser(what));
};

/** Nothing is read from files here, so no size is accepted. */
export const READ_LIMITS: { readonly [K in keyof typeof files.READ_LIMITS]: number } = { json: 0, csv: 0, weights: 0 };
export class ReadProblem extends Error {}
export const readBounded: typeof files.readBounded = (path) => refuse(`cannot read '${path}'`);
export const readInPieces: typeof files.readInPieces = (path) => refuse(`cannot read '${path}'`);
export const readTextBounded: typeof files.readTextBounded = (path) => refuse(`cannot read '${path}'`);
export const writeFileAtomic: typeof files.writeFileAtomic = async (path) => refuse(`cannot write '${path}'`);
export const writeFileSynced: typeof files.writeFileSynced = async (path) => refuse(`cannot write '${path}'`);
export const temporaryPath: typeof files.temporaryPath = (path) => refuse(`cannot write '${path}'`);
export const removeTemporary: typeof files.removeTemporary = async () => undefined;
export const checkWritable: typeof files.checkWritable = async (paths) => refuse(`cannot write '${paths.join("', '")}'`);
export const checkOutputPaths: typeof files.checkOutputPaths = () => undefined;
