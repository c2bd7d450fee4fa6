/**
 * A small seeded PRNG: xoshiro128** (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
 * seeded through SplitMix32. Pure 32-bit integer arithmetic (`Math.imul`, shifts), so the integer stream and
 * the uniform floats are bit-identical on every JavaScript engine and platform. `normal()` also uses
 * `Math.log`/`Math.cos`, which ECMAScript leaves implementation-approximated: the same on one engine
 * (V8 in Node and Chrome), possibly an ulp apart elsewhere.
 *
 * The whole state is four uint32 words, so a training checkpoint can save it ({@link MorRng.getState}) and
 * resume the exact same stream ({@link MorRng.fromState}).
 */

/** The serialisable state of a {@link MorRng}: JSON-safe, four uint32 words. */
export interface RngState {
  readonly algorithm: 'xoshiro128**';
  readonly s: readonly [number, number, number, number];
}

const TWO_POW_32 = 4294967296;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** SplitMix32: spreads a 32-bit seed over well-mixed words (Vigna's advice for seeding xoshiro). */
function splitMix32(state: { v: number }): number {
  state.v = (state.v + 0x9e3779b9) | 0;
  let z = state.v;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A seeded xoshiro128** generator with uniform and normal sampling. */
export class MorRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(s: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = s.map((w) => w >>> 0) as [number, number, number, number];
  }

  /**
   * A generator for an integer seed in `[0, 2^53)`. Seeds differing in any bit give unrelated streams
   * (the high 32 bits are folded in through a second SplitMix32 round).
   */
  static fromSeed(seed: number): MorRng {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`MorRng seed must be an integer in [0, 2^53), got ${String(seed)}`);
    }
    const hi = Math.floor(seed / TWO_POW_32);
    const sm = { v: seed >>> 0 };
    if (hi !== 0) sm.v = (sm.v ^ splitMix32({ v: hi })) | 0;
    const s: [number, number, number, number] = [
      splitMix32(sm),
      splitMix32(sm),
      splitMix32(sm),
      splitMix32(sm),
    ];
    // xoshiro's one forbidden state; SplitMix32 cannot realistically produce it, but never risk a stuck stream.
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    return new MorRng(s);
  }

  /** Resumes exactly where {@link getState} was taken. */
  static fromState(state: RngState): MorRng {
    if (state.algorithm !== 'xoshiro128**') {
      throw new RangeError(
        `unknown RNG algorithm ${JSON.stringify(state.algorithm)}; expected "xoshiro128**"`,
      );
    }
    const s = state.s;
    if (
      !Array.isArray(s) ||
      s.length !== 4 ||
      s.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)
    ) {
      throw new RangeError('RNG state must hold four uint32 words');
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new RangeError('RNG state must not be all zeros');
    return new MorRng(s);
  }

  /** A snapshot of the state; the generator keeps running independently. */
  getState(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.s0, this.s1, this.s2, this.s3] };
  }

  /** An independent copy at the same position. */
  clone(): MorRng {
    return MorRng.fromState(this.getState());
  }

  /** The next 32-bit output, as an unsigned integer in `[0, 2^32)`. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** A uniform double in `[0, 1)` (32 bits of resolution, exact: `nextUint32() / 2^32`). */
  uniform(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniform double in `[lo, hi)`. */
  uniformRange(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** A normal sample by Box–Muller (two uniforms per sample, no cached spare, so the state stays 4 words). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Fills `out` with uniform samples in `[lo, hi)` (rounded to the array's precision), in index order. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, lo: number, hi: number): T {
    for (let i = 0; i < out.length; i++) out[i] = this.uniformRange(lo, hi);
    return out;
  }

  /** Fills `out` with normal samples, in index order. */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }
}

/** Shorthand for {@link MorRng.fromSeed}. */
export function createRng(seed: number): MorRng {
  return MorRng.fromSeed(seed);
}
