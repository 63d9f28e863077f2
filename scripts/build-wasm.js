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
//
// Both modules have the small float functions of INLINED written into their
// hot callers (Node 20's V8 does not inline WebAssembly calls, and a call
// passing v128 values costs about a dozen vector operations): the same
// operations in the same order, so the same bits.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

const dir = 'src/backends/interp/wasm';
const features = { simd: true, threads: true, bulk_memory: true };
/** The functions whose multiply-adds gemm-fma.wasm fuses: the products' inner loops (micro_row's as micro's, so a short strip's rows keep the 4x8 block's bits), and the polynomials of e^x (softmax, sigmoid, tanh, GELU, the recurrent gates), tanh and the GELUs. */
const FUSED = ['$micro', '$micro_row', '$micro_grad_taps', '$depthwise_conv', '$depthwise4_s1', '$depthwise4_s2', '(export "row_product")', '$exp4', '$tanh4', '$gelu4', '$gelu_tanh4'];

/** The text of `wat` with FUSED's multiply-adds fused; throws if a function is missing or has none. */
function fuseMultiplyAdds(wat) {
  let out = wat;
  for (const name of FUSED) {
    const start = funcStart(out, name);
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

/**
 * Each callee with the functions whose calls to it are replaced by its body:
 * e^x in the gates and softmax (and in tanh and the sigmoid, which the
 * recurrent cells and the activations call), tanh in the recurrent cells,
 * the activations in the activation kernel's loops, relu6 in the epilogues.
 * In order: a callee's own calls are written out before it is.
 */
const INLINED = [
  ['$exp4', ['$sigmoid4', '$tanh4', '$tanh_gate4', '$gelu4', '$softmax_rows', '$lstm_cell', '$gru_cell']],
  ['$tanh4', ['(export "activate")']],
  ['$tanh_gate4', ['$lstm_cell', '$gru_cell']],
  ['$sigmoid4', ['$gelu_tanh4', '(export "activate")']],
  ['$gelu4', ['(export "activate")']],
  ['$gelu_tanh4', ['(export "activate")']],
  ['$relu6_4', ['$micro', '$store', '(export "activate")', '$act4', '(export "winograd_tiles")', '(export "winograd4_tiles")']],
];

/**
 * The text of `wat` with INLINED's calls written out: `(call $f arg)` becomes
 * `(block (result v128) (local.set $f.param arg) ...f's body...)`, f's
 * parameter and locals renamed `$f.name` and declared in the caller (its
 * copies share them: one runs to the end before the next starts). Throws
 * where a callee has more than one parameter, returns early or calls itself
 * in its argument, or where a caller has no call to it.
 */
function inlineCalls(wat) {
  let out = wat;
  for (const [callee, callers] of INLINED) {
    const start = funcStart(out, callee);
    const fn = out.slice(start, closing(out, start));
    const { declarations, end } = splitFunc(fn);
    const variables = declarations.filter((d) => /^\((param|local) /.test(d));
    const body = fn.slice(end, -1);
    if (variables.filter((d) => d.startsWith('(param')).length !== 1 || /\(return\b/.test(body)) throw new Error(`gemm.wat: ${callee} cannot be inlined`);
    // $x -> $exp4.x, in the body and in the declarations the callers take
    const prefix = `$${callee.slice(1)}.`;
    const rename = (text) => variables.reduce((t, d) => t.replace(new RegExp(`\\${d.match(/\$[\w.]+/)[0]}(?![\\w.])`, 'g'), (name) => prefix + name.slice(1)), text);
    const [parameter] = variables.map((d) => rename(d.match(/\$[\w.]+/)[0]));
    const locals = variables.map((d) => rename(d.replace(/^\(param /, '(local '))).join(' ');
    const renamed = rename(body);
    for (const caller of callers) {
      const at = funcStart(out, caller);
      const callerEnd = closing(out, at);
      let text = out.slice(at, callerEnd);
      const calls = new RegExp(`\\(call \\${callee}\\s`);
      if (!calls.test(text)) throw new Error(`gemm.wat: ${caller} has no call to ${callee}`);
      for (let call; (call = text.search(calls)) >= 0; ) {
        const callEnd = closing(text, call);
        const arg = text.slice(call + `(call ${callee}`.length, callEnd - 1).trim();
        if (calls.test(arg)) throw new Error(`gemm.wat: ${callee} called in its own argument in ${caller}`);
        text = `${text.slice(0, call)}(block (result v128) (local.set ${parameter} ${arg})\n${renamed}\n)${text.slice(callEnd)}`;
      }
      const declared = splitFunc(text).end;
      out = `${out.slice(0, at)}${text.slice(0, declared)} ${locals}${text.slice(declared)}${out.slice(callerEnd)}`;
    }
  }
  return out;
}

/** Where `(func name` opens in `wat`; throws if it does not. */
function funcStart(wat, name) {
  const start = wat.search(new RegExp(`\\(func ${name.replace(/[$()"]/g, '\\$&')}\\s`));
  if (start < 0) throw new Error(`no function ${name} in gemm.wat`);
  return start;
}

/** A function's leading (export), (param), (result) and (local) declarations, and the index just past them (where its instructions start). */
function splitFunc(fn) {
  const declarations = [];
  // past the name: `$f`, or none for a function known only by its (export "f"), which the loop takes
  let end = fn.startsWith('(func $') ? fn.indexOf(' ', '(func '.length) : '(func'.length;
  for (let at = end; ; ) {
    const next = at + fn.slice(at).search(/\S/);
    if (fn.startsWith(';;', next)) at = fn.indexOf('\n', next);
    else if (/^\((export|param|result|local)\s/.test(fn.slice(next))) {
      end = at = closing(fn, next);
      declarations.push(fn.slice(next, end));
    } else return { declarations, end };
  }
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
    // Fused before the calls are written out, so that exp4's copies are its fused form.
    ['gemm.wasm', assemble('gemm.wat', inlineCalls(wat), features)],
    ['gemm-fma.wasm', assemble('gemm.wat (fused)', inlineCalls(fuseMultiplyAdds(wat)), { ...features, relaxed_simd: true })],
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
