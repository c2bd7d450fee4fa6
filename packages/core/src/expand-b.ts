import { checkMorLayer } from './check-layer.js';
import type { MorLayerParams } from './layer-weights.js';
import { checkDim, checkShape, tokenCount, type NumArray } from './shape-check.js';

/**
 * The stacked experts `B_exp = [diag(ω_B[0]) B diag(ω_A[0]) | … | diag(ω_B[N-1]) B diag(ω_A[N-1])]`,
 * `[d_out, N·r]`, expert-major columns: `B_exp[o, i·r + k] = ω_B[i,o] · B[o,k] · ω_A[i,k]` (mor-spec.md §2).
 * It depends only on parameters, so an executor forms it once per step.
 */
export function expandB(weights: MorLayerParams): Float32Array {
  checkMorLayer(weights);
  const { dOut, r, experts: n, B, omegaA, omegaB } = weights;
  const out = new Float32Array(dOut * n * r);
  for (let o = 0; o < dOut; o++) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < r; k++)
        out[o * n * r + i * r + k] = omegaB[i * dOut + o] * B[o * r + k] * omegaA[i * r + k];
    }
  }
  return out;
}

/** Inputs of {@link expandedDelta}. */
export interface ExpandedDeltaOptions {
  /** `B_exp` `[d_out, N·r]` from {@link expandB}. */
  bExp: NumArray;
  /** Gates `[T, N]`. */
  gates: NumArray;
  /** `u = A · drop(x)`, `[T, r]`. */
  u: NumArray;
  /** N. */
  experts: number;
  /** r. */
  r: number;
  /** `alpha / r`. */
  scaling: number;
}

/**
 * The MoR branch in the rank-expansion form of mor-spec.md §2: `delta = scaling · B_exp · z` with
 * `z = g ⊗ u` flattened expert-major (`z[i·r + k] = g_i u_k`). Returns `[T, d_out]`.
 */
export function expandedDelta(options: ExpandedDeltaOptions): Float32Array {
  const { bExp, gates, u, experts: n, r, scaling } = options;
  checkDim('experts', n);
  checkDim('r', r);
  const tokens = tokenCount('gates', gates, n);
  checkShape('u', u, [tokens, r]);
  const nr = n * r;
  const dOut = tokenCount('bExp', bExp, nr);
  const out = new Float32Array(tokens * dOut);
  const z = new Float64Array(nr);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < n; i++) for (let k = 0; k < r; k++) z[i * r + k] = gates[t * n + i] * u[t * r + k];
    for (let o = 0; o < dOut; o++) {
      let s = 0;
      for (let c = 0; c < nr; c++) s += bExp[o * nr + c] * z[c];
      out[t * dOut + o] = scaling * s;
    }
  }
  return out;
}
