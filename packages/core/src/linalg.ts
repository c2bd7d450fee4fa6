import type { NumArray } from './shape-check.js';

/** `out[t, o] = Σ_k m[o, k] · v[t, k]` (+ bias[o]): a row-major `v · mᵀ`, accumulated in float64. */
export function matmulTransposed(
  v: NumArray,
  m: NumArray,
  tokens: number,
  kDim: number,
  oDim: number,
  bias?: NumArray | null,
): Float64Array {
  const out = new Float64Array(tokens * oDim);
  for (let t = 0; t < tokens; t++) {
    for (let o = 0; o < oDim; o++) {
      let s = bias ? bias[o] : 0;
      for (let k = 0; k < kDim; k++) s += m[o * kDim + k] * v[t * kDim + k];
      out[t * oDim + o] = s;
    }
  }
  return out;
}
