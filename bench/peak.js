// The machine's WebAssembly SIMD peak on one core (issue 19's yardstick): how
// many f32x4 multiply-adds per second a loop of nothing else sustains, so
// that the GEMM's and the convolutions' GFLOP/s can be read as a share of
// what WebAssembly allows here. A multiply-add is 8 FLOP, written as the
// kernels in use write it: an f32x4.mul and an f32x4.add (gemm.wasm), or
// one fused f32x4.relaxed_madd (gemm-fma.wasm, relaxed SIMD; an x86 FMA).
//
// Two loops, and the peak is the faster:
//   - chains: 12 independent accumulators, each a <- a * c + d, enough to
//     hide the multiply's and the add's latency (nothing is loaded);
//   - block: the shape of gemm.wat's register block, 4 broadcast values of A
//     times 2 vectors of B into 8 accumulators, with B and A loaded from a
//     4 KiB ring each iteration (in L1), as the GEMM's inner loop loads them.
import wabtInit from 'wabt';
import { platform } from '../dist/src/platform/index.js';

const CHAINS = 12;

/** The loops' module; `fused`: each multiply-add one f32x4.relaxed_madd. */
function wat(fused) {
  const madd = (a, b, c) => (fused ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add (f32x4.mul ${a} ${b}) ${c})`);
  const acc = (k) => `$a${k}`;
  const chains = Array.from({ length: CHAINS }, (_, k) => k);
  const block = [0, 1, 2, 3].flatMap((i) => [0, 1].map((j) => `$g${i}${j}`));
  const sum = (names) => names.map((n) => `(local.get ${n})`).reduce((x, y) => `(f32x4.add ${x} ${y})`);
  const blockStep = [
    '(local.set $b0 (v128.load (local.get $p)))',
    '(local.set $b1 (v128.load offset=16 (local.get $p)))',
    ...[0, 1, 2, 3].flatMap((i) => [
      `(local.set $s (v128.load32_splat offset=${32 + 4 * i} (local.get $p)))`,
      ...[0, 1].map((j) => `(local.set $g${i}${j} ${madd('(local.get $s)', `(local.get $b${j})`, `(local.get $g${i}${j})`)})`),
    ]),
  ];
  return `(module
  (memory 1)
  (func (export "chains") (param $n i32) (result f32)
    ${chains.map((k) => `(local ${acc(k)} v128)`).join(' ')} (local $c v128) (local $d v128)
    (local.set $c (f32x4.splat (f32.const 0.5)))
    (local.set $d (f32x4.splat (f32.const 0.25)))
    ${chains.map((k) => `(local.set ${acc(k)} (f32x4.splat (f32.const ${1 + k / 100})))`).join('\n    ')}
    (loop $l
      ${chains.map((k) => `(local.set ${acc(k)} ${madd(`(local.get ${acc(k)})`, '(local.get $c)', '(local.get $d)')})`).join('\n      ')}
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${sum(chains.map(acc))}))
  (func (export "block") (param $n i32) (result f32)
    ${block.map((g) => `(local ${g} v128)`).join(' ')} (local $b0 v128) (local $b1 v128) (local $s v128) (local $p i32)
    (loop $l
      ${blockStep.join('\n      ')}
      (local.set $p (i32.and (i32.add (local.get $p) (i32.const 64)) (i32.const 4095)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (f32x4.extract_lane 0 ${sum(block)})))`;
}

/** FLOP per iteration of each loop: multiply-adds x 4 lanes x 2. */
const FLOP_PER_ITERATION = { chains: CHAINS * 8, block: 8 * 8 };

/**
 * GFLOP/s of each loop on this thread (best of 7 runs of about 0.1 s each),
 * and the peak: the faster. `fused` as the kernels in use (kernelBackend().fused).
 */
export async function measurePeak(fused = false) {
  const wabt = await wabtInit();
  const features = { simd: true, relaxed_simd: fused };
  const parsed = wabt.parseWat('peak.wat', wat(fused), features);
  let bytes;
  try {
    bytes = parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
  if (fused && !WebAssembly.validate(bytes)) platform.allowRelaxedSimd();
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const result = {};
  for (const [name, flop] of Object.entries(FLOP_PER_ITERATION)) {
    const kernel = exports[name];
    kernel(1e6); // compiled and warm
    // About 0.1 s a run at 50 GFLOP/s.
    const iterations = Math.round(5e9 / flop);
    let best = Infinity;
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      kernel(iterations);
      best = Math.min(best, performance.now() - t0);
    }
    result[name] = (iterations * flop) / (best * 1e6);
  }
  return { ...result, peak: Math.max(...Object.values(result)) };
}
