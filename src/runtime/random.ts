/**
 * Seeded randomness for parameter initialisation, dropout and the order of
 * training examples (shuffled).
 *
 * The generator is xoshiro128** (Blackman and Vigna), seeded through
 * splitmix32; it uses only 32-bit integer arithmetic (Math.imul, shifts), so
 * a seed gives the same stream on every platform. normal() uses Math.log and
 * Math.cos, which V8 implements itself (fdlibm), so it is stable across
 * machines running the same Node major version.
 *
 * Streams are named, not ordered: `rng.child('dense_1/kernel')` depends only on
 * the parent's seed and the name, never on how much of the parent (or of any
 * sibling) has been consumed. Initialising parameters in another order, or
 * adding a layer, therefore leaves every other parameter's values unchanged.
 */

export interface Rng {
  /** The 32-bit seed this stream started from. */
  readonly seed: number;
  /** Uniform on [0, 1), with 32 random bits. */
  uniform(): number;
  /** The stream's next out.length 32-bit values, as uniform() draws them (uniform() is the next value / 2^32). */
  fill(out: Uint32Array): void;
  /** Standard normal N(0, 1) by Box-Muller; consumes two uniforms per call. */
  normal(): number;
  /** An independent stream determined by this stream's seed and `name` alone. */
  child(name: string): Rng;
}

/** A stream for any integer seed (values beyond 32 bits are folded in, not dropped). */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new Error(`random: seed must be an integer, got ${seed}`);
  const low = seed >>> 0;
  const high = Math.floor(seed / 2 ** 32) >>> 0;
  return new Xoshiro128(high === 0 ? low : mix32(low ^ mix32(high)));
}

/** 0..n-1 in a seeded random order (Fisher-Yates). */
export function shuffled(n: number, rng: Rng): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  return order;
}

class Xoshiro128 implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(readonly seed: number) {
    // splitmix32 spreads the seed over the 128-bit state (which must not be all zero).
    let z = seed >>> 0;
    const next = () => mix32((z = (z + 0x9e3779b9) | 0));
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits, as an unsigned integer. */
  private nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  uniform(): number {
    return this.nextUint32() / 2 ** 32;
  }

  fill(out: Uint32Array): void {
    // nextUint32 with the state in locals: three times faster than a call per value.
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    for (let i = 0; i < out.length; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  child(name: string): Rng {
    // FNV-1a over the UTF-16 code units, started from the parent's seed, then finalised.
    let h = (0x811c9dc5 ^ mix32(this.seed)) >>> 0;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    return new Xoshiro128(mix32(h ^ name.length));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A 32-bit avalanche finaliser (MurmurHash3's fmix32): every input bit affects every output bit. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
