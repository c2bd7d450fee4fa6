import type { LoraLayerWeights } from './layer-weights.js';
import { matmulTransposed } from './linalg.js';
import { checkDim, checkShape, tokenCount, type NumArray } from './shape-check.js';

/** Inputs of {@link loraForward}. */
export interface LoraForwardOptions {
  /** Input `[..., d_in]`, flattened to `[T, d_in]`. */
  x: NumArray;
  /** Frozen base weight `[d_out, d_in]`. */
  baseWeight: NumArray;
  /** Frozen base bias `[d_out]`, if any. */
  baseBias?: NumArray | null;
  /** The LoRA pair. */
  weights: LoraLayerWeights;
  /** The branch scaling, `alpha / r` for PEFT. */
  scaling: number;
}

/** Reference plain-LoRA forward: `delta = scaling · B · A · x`, `y = W x + b + delta` (float64 inside). */
export function loraForward(options: LoraForwardOptions): { delta: Float32Array; y: Float32Array } {
  const { x, baseWeight, baseBias, weights, scaling } = options;
  const { dIn, dOut, r, A, B } = weights;
  checkDim('weights.dIn', dIn);
  checkDim('weights.dOut', dOut);
  checkDim('weights.r', r);
  checkShape('weights.A', A, [r, dIn]);
  checkShape('weights.B', B, [dOut, r]);
  const tokens = tokenCount('x', x, dIn);
  checkShape('baseWeight', baseWeight, [dOut, dIn]);
  if (baseBias !== undefined && baseBias !== null) checkShape('baseBias', baseBias, [dOut]);
  const u = matmulTransposed(x, A, tokens, dIn, r);
  const delta = matmulTransposed(u, B, tokens, r, dOut);
  for (let j = 0; j < delta.length; j++) delta[j] *= scaling;
  const y = matmulTransposed(x, baseWeight, tokens, dIn, dOut, baseBias);
  for (let j = 0; j < y.length; j++) y[j] += delta[j];
  return { delta: Float32Array.from(delta), y: Float32Array.from(y) };
}
