import { morScaling, type MorConfig } from './config.js';
import { checkMorLayer } from './check-layer.js';
import type { LoraLayerWeights, MorLayerParams } from './layer-weights.js';
import { checkShape, type NumArray } from './shape-check.js';

/** Inputs of the static-gate collapse (mor-spec.md §3). */
export interface StaticCollapseOptions {
  /** The MoR layer. */
  weights: MorLayerParams;
  /** The fixed gate `g`, `[N]`. */
  gate: NumArray;
}

/** `M` and `B_static` of a MoR layer under a fixed gate. */
export interface StaticCollapse {
  /** `M = (g ⊙ omega_B)ᵀ · omega_A`, `[d_out, r]`: `M[j,k] = Σ_i g_i omega_B[i,j] omega_A[i,k]`. */
  readonly M: Float32Array;
  /** `B_static = B ⊙ M`, `[d_out, r]`: the B of the equivalent plain LoRA (same A, same scaling). */
  readonly bStatic: Float32Array;
}

function collapseF64(options: StaticCollapseOptions): { M: Float64Array; bStatic: Float64Array } {
  const { weights, gate } = options;
  checkMorLayer(weights);
  const { dOut, r, experts: n, B, omegaA, omegaB } = weights;
  checkShape('gate', gate, [n]);
  const M = new Float64Array(dOut * r);
  const bStatic = new Float64Array(dOut * r);
  for (let j = 0; j < dOut; j++) {
    for (let k = 0; k < r; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += gate[i] * omegaB[i * dOut + j] * omegaA[i * r + k];
      M[j * r + k] = m;
      bStatic[j * r + k] = B[j * r + k] * m;
    }
  }
  return { M, bStatic };
}

/**
 * With a fixed gate, MoR is exactly the rank-r LoRA `(alpha/r) · (B ⊙ M) · A` (mor-spec.md §3).
 * Returns `M` and `B_static = B ⊙ M`.
 */
export function staticCollapse(options: StaticCollapseOptions): StaticCollapse {
  const { M, bStatic } = collapseF64(options);
  return { M: Float32Array.from(M), bStatic: Float32Array.from(bStatic) };
}

/** The plain LoRA a static gate collapses to: the same A (copied) with `B_static`; its scaling stays `alpha/r`. */
export function staticLoraWeights(options: StaticCollapseOptions): LoraLayerWeights {
  const { weights } = options;
  const { bStatic } = staticCollapse(options);
  return { dIn: weights.dIn, dOut: weights.dOut, r: weights.r, A: Float32Array.from(weights.A), B: bStatic };
}

/** Inputs of {@link staticDeltaWeight}. */
export interface StaticDeltaWeightOptions extends StaticCollapseOptions {
  /** `alpha / r` is the scaling; `r` must match the layer. */
  config: Pick<MorConfig, 'r' | 'alpha'>;
}

/**
 * The merged weight update `(alpha/r) · B_static · A`, `[d_out, d_in]`: adding it to the base weight merges
 * a statically routed MoR layer exactly (`W' = W + ΔW`).
 */
export function staticDeltaWeight(options: StaticDeltaWeightOptions): Float32Array {
  const { weights, config } = options;
  checkMorLayer(weights, config);
  const { bStatic } = collapseF64(options);
  return loraDeltaWeight({ ...weights, B: bStatic }, morScaling(config));
}

/**
 * The LoRA weight update `scaling · B · A`, `[d_out, d_in]` (float64 inside, rounded once): what a merge adds to
 * the base weight (`W' = W + ΔW`).
 */
export function loraDeltaWeight(
  weights: { dIn: number; dOut: number; r: number; A: NumArray; B: NumArray },
  scaling: number,
): Float32Array {
  const { dIn, dOut, r, A, B } = weights;
  checkShape('weights.A', A, [r, dIn]);
  checkShape('weights.B', B, [dOut, r]);
  const out = new Float32Array(dOut * dIn);
  for (let o = 0; o < dOut; o++) {
    for (let j = 0; j < dIn; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += B[o * r + k] * A[k * dIn + j];
      out[o * dIn + j] = scaling * s;
    }
  }
  return out;
}
