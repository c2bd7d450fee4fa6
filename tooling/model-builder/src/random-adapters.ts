// Random adapters for tests and benchmarks. Every parameter is random: the spec's init leaves B at zero and the
// omegas at one, under which the adapter is the identity and any wrong merge or graph would still pass.
import {
  createRng,
  initLoraLayer,
  initMorLayer,
  validateMorConfig,
  type LoraLayerWeights,
  type MorLayerWeights,
} from '@mor/core';
import { createLoraAdapter, createMorAdapter, type LoraAdapter, type MorAdapter } from '@mor/format';

/** A layer an adapter can target: its module path and sizes (model-builder's `LinearInfo` has these). */
export interface TargetLayer {
  module: string;
  dIn: number;
  dOut: number;
}

/** What {@link randomMorAdapter} builds. */
export interface RandomMorOptions {
  targets: string[];
  r?: number;
  alpha?: number;
  experts?: number;
  topK?: number | null;
  routerBias?: boolean;
  taskType?: string;
  seed?: number;
}

/**
 * A MoR adapter on `layers` with every parameter random: the spec's init leaves B at zero and the omegas at one
 * (the adapter would be the identity and all experts equal), which would let any wrong merge pass.
 */
export function randomMorAdapter(layers: readonly TargetLayer[], o: RandomMorOptions): MorAdapter {
  const config = validateMorConfig({
    r: o.r ?? 4,
    alpha: o.alpha ?? 8,
    experts: o.experts ?? 4,
    topK: o.topK ?? null,
    routerBias: o.routerBias ?? false,
    targets: o.targets,
  });
  const rng = createRng(o.seed ?? 1);
  const weights = new Map<string, MorLayerWeights>();
  for (const l of layers) {
    const w = initMorLayer({ dIn: l.dIn, dOut: l.dOut, config, rng });
    rng.fillNormal(w.B, 0, 0.2);
    rng.fillUniform(w.omegaA, 0.5, 1.5);
    rng.fillUniform(w.omegaB, 0.5, 1.5);
    rng.fillNormal(w.routerWeight, 0, 1);
    if (w.routerBias) rng.fillNormal(w.routerBias, 0, 1);
    weights.set(l.module, w);
  }
  return createMorAdapter({ config, layers: weights, taskType: o.taskType ?? 'CAUSAL_LM' });
}

/** A PEFT LoRA on `layers` with random A and B (B ≠ 0). */
export function randomLoraAdapter(
  layers: readonly TargetLayer[],
  o: { targets: string[]; r?: number; alpha?: number; fanInFanOut?: boolean; seed?: number },
): LoraAdapter {
  const r = o.r ?? 4;
  const alpha = o.alpha ?? 8;
  const rng = createRng(o.seed ?? 2);
  const weights = new Map<string, LoraLayerWeights>();
  for (const l of layers) {
    const w = initLoraLayer({ dIn: l.dIn, dOut: l.dOut, r, rng });
    rng.fillNormal(w.B, 0, 0.2);
    weights.set(l.module, w);
  }
  return createLoraAdapter({
    r,
    alpha,
    targets: o.targets,
    layers: weights,
    fanInFanOut: o.fanInFanOut ?? false,
  });
}
