import type { MorLayerWeights } from './layer-weights.js';
import type { MoeLoraLayerWeights } from './moelora-layer.js';

/**
 * The MoELoRA layer that computes the same function as a MoR layer (mor-spec.md §7: MoR is the special case
 * `A_i = diag(ω_A[i]) · A`, `B_i = diag(ω_B[i]) · B`), router shared. Lets a MoR golden (PyTorch's logits of a MoR
 * adapter) check a MoELoRA path end to end.
 */
export function moeLoraFromMor(w: MorLayerWeights): MoeLoraLayerWeights {
  const { dIn, dOut, r, experts: n } = w;
  const A = new Float32Array(n * r * dIn);
  const B = new Float32Array(n * dOut * r);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++)
      for (let j = 0; j < dIn; j++) A[(i * r + k) * dIn + j] = w.omegaA[i * r + k]! * w.A[k * dIn + j]!;
    for (let o = 0; o < dOut; o++)
      for (let k = 0; k < r; k++) B[(i * dOut + o) * r + k] = w.omegaB[i * dOut + o]! * w.B[o * r + k]!;
  }
  return { dIn, dOut, r, experts: n, A, B, routerWeight: w.routerWeight, routerBias: w.routerBias };
}
