import type { LoraLayerWeights, MorLayerWeights } from '@mor/core';

/**
 * `(scaling · B_exp)^T`, `[N·r, d_out]` (mor-spec.md §2): row `i·r + k` is
 * `scaling · omega_B[i, :] ⊙ B[:, k] · omega_A[i, k]` — the right operand of `delta = z · B_exp^T`.
 */
export function expandedBTransposed(w: MorLayerWeights, scaling: number): Float32Array {
  const { r, dOut, experts: n } = w;
  const out = new Float32Array(n * r * dOut);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++) {
      const s = scaling * w.omegaA[i * r + k]!;
      const row = (i * r + k) * dOut;
      for (let j = 0; j < dOut; j++) out[row + j] = s * w.omegaB[i * dOut + j]! * w.B[j * r + k]!;
    }
  }
  return out;
}

/**
 * The static-gate weight update `scaling · (B ⊙ M) · A`, `[d_out, d_in]`, with
 * `M[j,k] = Σ_i g_i · omega_B[i,j] · omega_A[i,k]` (mor-spec.md §3).
 */
export function staticDeltaWeight(
  w: MorLayerWeights,
  gate: ArrayLike<number>,
  scaling: number,
): Float32Array {
  const { r, dOut, experts: n } = w;
  const bStatic = new Float32Array(dOut * r);
  for (let j = 0; j < dOut; j++) {
    for (let k = 0; k < r; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += gate[i]! * w.omegaB[i * dOut + j]! * w.omegaA[i * r + k]!;
      bStatic[j * r + k] = w.B[j * r + k]! * m;
    }
  }
  return loraDeltaWeight({ dIn: w.dIn, dOut, r, A: w.A, B: bStatic }, scaling);
}

/** The LoRA weight update `scaling · B · A`, `[d_out, d_in]`. */
export function loraDeltaWeight(w: LoraLayerWeights, scaling: number): Float32Array {
  const { r, dIn, dOut } = w;
  const out = new Float32Array(dOut * dIn);
  for (let j = 0; j < dOut; j++) {
    for (let k = 0; k < r; k++) {
      const b = scaling * w.B[j * r + k]!;
      if (b === 0) continue;
      const aRow = k * dIn;
      const oRow = j * dIn;
      for (let c = 0; c < dIn; c++) out[oRow + c] += b * w.A[aRow + c]!;
    }
  }
  return out;
}
