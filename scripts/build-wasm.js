// Assembles src/backends/interp/wasm/gemm.wat into gemm.wasm, and into
// gemm-fma.wasm (below), next to it and, when dist/ exists (after tsc), next
// to the compiled sources too, so that both vitest on src/ and node on dist/
// find them. The .wasm files are generated, not committed; without them the
// interpreter falls back to its TS kernels.
//
// gemm-fma.wasm is the same module with the products' multiply-adds fused:
// in the functions of FUSED, every `(f32x4.add (local.get $acc) (f32x4.mul a
// b))` becomes `(f32x4.relaxed_madd a b (local.get $acc))`, one rounding
// instead of two, and a float's `(f32.add (local.get $acc) (f32.mul a b))`
// lane 0 of the same on splats, so that a row's last columns round as the
// vectors' do; `(f32x4.add (f32x4.mul a b) c)` becomes
// `(f32x4.relaxed_madd a b c)` too (exp4's polynomial, in Horner's form).
// It needs WebAssembly's relaxed SIMD, which the kernel loader (gemm.ts
// loadGemm) asks for and falls back from.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const dir = 'src/backends/interp/wasm';
const features = { simd: true, threads: true, bulk_memory: true };
/** The functions whose multiply-adds gemm-fma.wasm fuses: the products' inner loops, and e^x (softmax, sigmoid, tanh, GELU, the recurrent gates). */
const FUSED = ['$micro', '$micro_grad_taps', '$depthwise_conv', '(export "row_product")', '$exp4'];

/** The text of `wat` with FUSED's multiply-adds fused; throws if a function is missing or has none. */
function fuseMultiplyAdds(wat) {
  let out = wat;
  for (const name of FUSED) {
    const start = out.search(new RegExp(`\\(func ${name.replace(/[$()"]/g, '\\$&')}\\s`));
    if (start < 0) throw new Error(`no function ${name} in gemm.wat`);
    const end = closing(out, start);
    let body = out.slice(start, end);
    let fused = 0;
    for (let at; (at = body.search(/\(f32(x4)?\.add \(local\.get \$\w+\) \(f32(x4)?\.mul /)) >= 0; fused++) {
      const vector = body.startsWith('(f32x4', at);
      const add = vector ? '(f32x4.add ' : '(f32.add ';
      const whole = closing(body, at);
      const accumulator = body.slice(at + add.length, closing(body, at + add.length));
      const product = at + add.length + accumulator.length + 1;
      const [a, b] = operands(body, product + (vector ? '(f32x4.mul ' : '(f32.mul ').length, closing(body, product) - 1);
      // A float's multiply-add (the last columns or channels) is lane 0 of the same instruction's.
      const madd = vector
        ? `(f32x4.relaxed_madd ${a} ${b} ${accumulator})`
        : `(f32x4.extract_lane 0 (f32x4.relaxed_madd (f32x4.splat ${a}) (f32x4.splat ${b}) (f32x4.splat ${accumulator})))`;
      body = `${body.slice(0, at)}${madd}${body.slice(whole)}`;
    }
    // A product added to something else: c is what follows the product, up to the add's closing parenthesis.
    for (let at; (at = body.search(/\(f32x4\.add \(f32x4\.mul /)) >= 0; fused++) {
      const whole = closing(body, at);
      const product = at + '(f32x4.add '.length;
      const productEnd = closing(body, product);
      const [a, b] = operands(body, product + '(f32x4.mul '.length, productEnd - 1);
      const c = body.slice(body.indexOf('(', productEnd), whole - 1).trim();
      body = `${body.slice(0, at)}(f32x4.relaxed_madd ${a} ${b} ${c})${body.slice(whole)}`;
    }
    if (fused === 0) throw new Error(`${name} in gemm.wat has no multiply-add to fuse`);
    out = out.slice(0, start) + body + out.slice(end);
  }
  return out;
}

/** The index just past the parenthesised expression that opens at `open`; a `;;` comment's parentheses (`[a, b)`) do not count. */
function closing(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text.startsWith(';;', i)) i = text.indexOf('\n', i);
    else if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i + 1;
    if (i < 0) break;
  }
  throw new Error(`gemm.wat: unbalanced parentheses at ${open}`);
}

/** The two parenthesised operands in text[from, to). */
function operands(text, from, to) {
  const first = text.indexOf('(', from);
  const firstEnd = closing(text, first);
  const second = text.indexOf('(', firstEnd);
  const secondEnd = closing(text, second);
  if (text.slice(secondEnd, to).trim() !== '') throw new Error(`gemm.wat: f32x4.mul at ${from} does not have two operands`);
  return [text.slice(first, firstEnd), text.slice(second, secondEnd)];
}

const wabt = await wabtInit();

function assemble(file, text, wantFeatures) {
  let module;
  try {
    module = wabt.parseWat(file, text, wantFeatures);
    module.validate(wantFeatures);
    return module.toBinary({ write_debug_names: true }).buffer;
  } finally {
    module?.destroy();
  }
}

try {
  const wat = readFileSync(`${dir}/gemm.wat`, 'utf8');
  const builds = [
    ['gemm.wasm', assemble('gemm.wat', wat, features)],
    ['gemm-fma.wasm', assemble('gemm.wat (fused)', fuseMultiplyAdds(wat), { ...features, relaxed_simd: true })],
  ];
  for (const [name, buffer] of builds) {
    writeFileSync(`${dir}/${name}`, buffer);
    if (existsSync('dist/src')) {
      mkdirSync(`dist/${dir}`, { recursive: true });
      writeFileSync(`dist/${dir}/${name}`, buffer);
    }
  }
} catch (e) {
  // wabt's own stack trace quotes its minified source: the message is what matters
  console.error(`build-wasm: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
}
