import { describe, expect, it } from 'vitest';
import { bf16BitsToFloat32, f16BitsToFloat32, float32ToBf16Bits, float32ToF16Bits } from '../src/index.js';
import { float32Bits, float32FromBits } from '../src/safetensors/half.js';

const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

/** Every non-negative finite F16 value, indexed by its bits (the order of the bits is the order of the values). */
const F16_VALUES = Array.from({ length: 0x7c00 }, (_, bits) => f16BitsToFloat32(bits));

/** Independent reference: the nearest F16 by search, ties to the even bit pattern, overflow past 65520 to Inf. */
function referenceF16(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = F16_VALUES.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (F16_VALUES[mid]! <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === F16_VALUES.length - 1) return sign | lo;
  const down = a - F16_VALUES[lo]!;
  const up = F16_VALUES[lo + 1]! - a;
  if (down < up || (down === up && lo % 2 === 0)) return sign | lo;
  return sign | (lo + 1);
}

/** Independent reference for BF16: nearest of the two truncation neighbours by value, ties to even. */
function referenceBf16(value: number): number {
  const bits = float32Bits(value);
  const lo = bits & 0xffff0000;
  const loValue = Math.abs(float32FromBits(lo));
  const hiBits = (lo + 0x10000) >>> 0;
  // Past the largest finite BF16 the next "value" is 2^128 (Inf) for rounding purposes.
  const hiValue = (hiBits & 0x7fffffff) === 0x7f800000 ? 2 ** 128 : Math.abs(float32FromBits(hiBits));
  const a = Math.abs(value);
  const down = a - loValue;
  const up = hiValue - a;
  const loHalf = lo >>> 16;
  if (down < up || (down === up && loHalf % 2 === 0)) return loHalf;
  return hiBits >>> 16;
}

/** Deterministic pseudo-random float32 bit patterns (xorshift32), weighted towards the F16 range. */
function* randomFloat32s(count: number, seed = 0x9e3779b9): Generator<number> {
  let s = seed >>> 0;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
  for (let i = 0; i < count; i++) {
    let bits = next();
    if (i % 2 === 0) bits = (bits & 0x807fffff) | ((96 + (next() % 50)) << 23); // exponents 2^-31 … 2^18
    const v = float32FromBits(bits);
    if (Number.isFinite(v)) yield v;
  }
}

describe('F16', () => {
  it('decodes known bit patterns', () => {
    expect(f16BitsToFloat32(0x3c00)).toBe(1);
    expect(f16BitsToFloat32(0xc000)).toBe(-2);
    expect(f16BitsToFloat32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16BitsToFloat32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16BitsToFloat32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16BitsToFloat32(0x7bff)).toBe(65504);
    expect(f16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(f16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(f16BitsToFloat32(0x7e00))).toBe(true);
    expect(Object.is(f16BitsToFloat32(0x8000), -0)).toBe(true);
  });

  it('round-trips every F16 bit pattern through float32 exactly (NaNs stay NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const back = float32ToF16Bits(f16BitsToFloat32(h));
      if (isF16NaN(h)) expect(isF16NaN(back)).toBe(true);
      else if (back !== h) expect(back.toString(16)).toBe(h.toString(16));
    }
  });

  it('rounds to nearest, ties to even, with overflow and underflow', () => {
    expect(float32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(float32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(float32ToF16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above the tie
    expect(float32ToF16Bits(65519)).toBe(0x7bff);
    expect(float32ToF16Bits(65520)).toBe(0x7c00); // tie between 65504 and "65536" → Inf
    expect(float32ToF16Bits(1e6)).toBe(0x7c00);
    expect(float32ToF16Bits(-1e6)).toBe(0xfc00);
    expect(float32ToF16Bits(2 ** -25)).toBe(0x0000); // half the smallest subnormal: tie → 0
    expect(float32ToF16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(float32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // tie between subnormals 1 and 2 → 2
    expect(float32ToF16Bits(-(2 ** -30))).toBe(0x8000); // underflow keeps the sign
    expect(float32ToF16Bits(1023.5 * 2 ** -24)).toBe(0x0400); // rounds up out of the subnormals
    expect(float32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(isF16NaN(float32ToF16Bits(NaN))).toBe(true);
    expect(isF16NaN(float32ToF16Bits(float32FromBits(0x7f800001)))).toBe(true); // low-payload NaN must not become Inf
  });

  it('matches a nearest-value search on 200k float32 values', () => {
    let checked = 0;
    for (const v of randomFloat32s(200_000)) {
      const got = float32ToF16Bits(v);
      const want = referenceF16(v);
      if (got !== want) expect({ v, got: got.toString(16) }).toEqual({ v, got: want.toString(16) });
      checked++;
    }
    expect(checked).toBeGreaterThan(150_000);
  });
});

describe('BF16', () => {
  it('decodes known bit patterns', () => {
    expect(bf16BitsToFloat32(0x3f80)).toBe(1);
    expect(bf16BitsToFloat32(0xc040)).toBe(-3);
    expect(bf16BitsToFloat32(0x0001)).toBe(float32FromBits(0x00010000)); // subnormal
    expect(bf16BitsToFloat32(0x7f80)).toBe(Infinity);
    expect(bf16BitsToFloat32(0xff80)).toBe(-Infinity);
    expect(Number.isNaN(bf16BitsToFloat32(0x7fc0))).toBe(true);
  });

  it('round-trips every BF16 bit pattern exactly (NaNs stay NaN)', () => {
    for (let b = 0; b < 0x10000; b++) {
      const back = float32ToBf16Bits(bf16BitsToFloat32(b));
      if ((b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0)
        expect(Number.isNaN(bf16BitsToFloat32(back))).toBe(true);
      else if (back !== b) expect(back.toString(16)).toBe(b.toString(16));
    }
  });

  it('rounds to nearest, ties to even', () => {
    expect(float32ToBf16Bits(float32FromBits(0x3f808000))).toBe(0x3f80); // tie, even stays
    expect(float32ToBf16Bits(float32FromBits(0x3f818000))).toBe(0x3f82); // tie, odd rounds up
    expect(float32ToBf16Bits(float32FromBits(0x3f808001))).toBe(0x3f81);
    expect(float32ToBf16Bits(float32FromBits(0x7f7fffff))).toBe(0x7f80); // above max + half ulp → Inf
    expect(float32ToBf16Bits(float32FromBits(0x00008000))).toBe(0x0000); // subnormal tie → even
    expect(float32ToBf16Bits(-0)).toBe(0x8000);
    const nan = float32ToBf16Bits(float32FromBits(0x7f800001)); // truncation alone would give Inf
    expect(Number.isNaN(bf16BitsToFloat32(nan))).toBe(true);
  });

  it('matches a nearest-value search on 200k float32 values', () => {
    for (const v of randomFloat32s(200_000, 12345)) {
      const got = float32ToBf16Bits(v);
      const want = referenceBf16(v);
      if (got !== want) expect({ v, got: got.toString(16) }).toEqual({ v, got: want.toString(16) });
    }
  });
});
