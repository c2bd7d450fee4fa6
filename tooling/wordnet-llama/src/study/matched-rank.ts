import { loraParamCount, totalMorParamCount, type LayerShape } from '@mor/core';

/**
 * The LoRA rank whose adapter has MoR's parameter count on the same layers: MoR's total (mor-spec.md §6,
 * `totalMorParamCount`) over LoRA's parameters per unit of rank (`loraParamCount(shape, 1)` summed), rounded to
 * the nearest rank (at least 1).
 */
export function matchedLoraRank(
  shapes: readonly LayerShape[],
  mor: { r: number; experts: number; routerBias?: boolean },
): number {
  if (shapes.length === 0) throw new Error('matched LoRA rank of no layers');
  const total = totalMorParamCount(shapes, {
    r: mor.r,
    experts: mor.experts,
    routerBias: mor.routerBias ?? false,
  });
  const perRank = shapes.reduce((s, sh) => s + loraParamCount(sh, 1), 0);
  return Math.max(1, Math.round(total / perRank));
}
