/**
 * The platform of this build: Node's. The playground's bundler resolves this
 * module to browser.ts (see platform.ts).
 */
export { platform } from './node.js';
export type { Platform } from './platform.js';
