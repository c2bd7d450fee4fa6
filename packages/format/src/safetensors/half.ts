// IEEE binary16 (F16) and bfloat16 (BF16) <-> binary32 conversions on raw bit patterns.
// Widening is exact (every F16/BF16 value, NaN payloads included, is a float32). Narrowing rounds to nearest,
// ties to even, as PyTorch's `.half()` / `.bfloat16()` do, so a float32 master copy saved from JS matches one
// saved from PyTorch bit for bit.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bits of a float32 (after rounding `value` to float32). */
export function float32Bits(value: number): number {
  f32[0] = value;
  return u32[0]!;
}

/** The float32 whose bits are `bits`. */
export function float32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/** F16 bits → number (exact). */
export function f16BitsToFloat32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) {
    // Zero or subnormal: mant · 2^-24, exact in float64 and in float32.
    const v = mant * 2 ** -24;
    return sign ? -v : v;
  }
  if (exp === 0x1f) return float32FromBits(sign | 0x7f800000 | (mant << 13)); // ±Inf, or NaN keeping its payload
  return float32FromBits(sign | ((exp + 112) << 23) | (mant << 13)); // rebias 15 → 127
}

/** float32 value → F16 bits, round to nearest even; overflow → ±Inf; NaN stays NaN (quiet). */
export function float32ToF16Bits(value: number): number {
  const x = float32Bits(value);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is an F16 subnormal (or zero). Below 2^-25 everything rounds to zero.
    if (e < -10) return sign;
    const m = mant | 0x800000; // restore the implicit bit (float32 subnormals have e < -10 and never get here)
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h += 1; // a carry into the exponent is still correct
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1; // carry may reach 0x7c00 = Inf: correct
  return sign | h;
}

/** BF16 bits → number (exact). */
export function bf16BitsToFloat32(b: number): number {
  return float32FromBits((b & 0xffff) << 16);
}

/** float32 value → BF16 bits, round to nearest even; NaN stays NaN (quiet bit forced so truncation cannot make Inf). */
export function float32ToBf16Bits(value: number): number {
  const x = float32Bits(value);
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}
