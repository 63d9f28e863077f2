/** The playground's bundler inlines .wasm files as bytes (scripts/build-playground.js). */
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
