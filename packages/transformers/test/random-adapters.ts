import { createRng, initMorLayer, validateMorConfig, type MorLayerWeights } from '@mor/core';
import { createMorAdapter, type MorAdapter } from '@mor/format';

/** A layer to adapt (model-builder's `LinearInfo` has these fields). */
export interface TargetLayer {
  module: string;
  dIn: number;
  dOut: number;
}

/**
 * A MoR adapter with random B and omegas (the spec's init has B = 0 and omegas = 1, under which every merge
 * looks right), dense routing unless `topK` is given.
 */
export function randomMorAdapter(
  layers: readonly TargetLayer[],
  o: { targets: string[]; experts?: number; topK?: number | null; routerBias?: boolean; seed?: number },
): MorAdapter {
  const config = validateMorConfig({
    r: 4,
    alpha: 8,
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
    weights.set(l.module, w);
  }
  return createMorAdapter({ config, layers: weights });
}
