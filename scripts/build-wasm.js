// Assembles src/backends/interp/wasm/gemm.wat into gemm.wasm, next to it and,
// when dist/ exists (after tsc), next to the compiled sources too, so that
// both vitest on src/ and node on dist/ find it. The .wasm is generated, not
// committed; without it the interpreter falls back to its TS kernels.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const dir = 'src/backends/interp/wasm';
const features = { simd: true, threads: true, bulk_memory: true };
const wabt = await wabtInit();
let module;
try {
  module = wabt.parseWat(`${dir}/gemm.wat`, readFileSync(`${dir}/gemm.wat`, 'utf8'), features);
  module.validate(features);
  const { buffer } = module.toBinary({ write_debug_names: true });
  writeFileSync(`${dir}/gemm.wasm`, buffer);
  if (existsSync('dist/src')) {
    mkdirSync(`dist/${dir}`, { recursive: true });
    writeFileSync(`dist/${dir}/gemm.wasm`, buffer);
  }
} catch (e) {
  // wabt's own stack trace quotes its minified source: the message is what matters
  console.error(`build-wasm: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  module?.destroy();
}
