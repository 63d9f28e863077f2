/** Modules scripts/build-playground.js generates while bundling. */
declare module 'playground:examples' {
  /** Every examples/*.dl by name (without .dl). */
  const examples: Record<string, string>;
  export default examples;
}
declare module 'playground:worker' {
  /** The compiler worker's bundled code (worker.ts), started from a Blob URL. */
  const code: string;
  export default code;
}
