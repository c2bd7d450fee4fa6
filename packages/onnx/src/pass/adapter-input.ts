import type { LoraLayerWeights, MoeLoraLayerWeights, MorConfig, MorLayerWeights } from '@mor/core';

/**
 * A MoR adapter as `@mor/format` loads it (structural: any object of this shape will do). `layers` is keyed by
 * module path without PEFT's `base_model.model.` prefix, e.g. `model.layers.0.mlp.gate_proj`.
 */
export interface MorAdapterInput {
  kind: 'mor';
  config: Pick<MorConfig, 'r' | 'alpha' | 'experts' | 'topK' | 'routerBias'>;
  layers: ReadonlyMap<string, MorLayerWeights>;
}

/** A plain (PEFT) LoRA adapter: `delta = scaling · B · A · x` (scaling already includes rsLoRA when used). */
export interface LoraAdapterInput {
  kind: 'lora';
  scaling: number;
  /** PEFT's flag for Conv1D-style base weights; the A/B tensors themselves are always `[r,d_in]`, `[d_out,r]`. */
  fanInFanOut: boolean;
  layers: ReadonlyMap<string, LoraLayerWeights>;
}

/** A MoELoRA adapter (mor-spec.md §7): MoR's config fields, N independent LoRAs per module. */
export interface MoeLoraAdapterInput {
  kind: 'moelora';
  config: Pick<MorConfig, 'r' | 'alpha' | 'experts' | 'topK' | 'routerBias'>;
  layers: ReadonlyMap<string, MoeLoraLayerWeights>;
}

/** Any adapter kind. */
export type AdapterInput = MorAdapterInput | LoraAdapterInput | MoeLoraAdapterInput;

/** The `[d_in, d_out]` of each adapter module, for {@link matchTargets}. */
export function adapterShapes(adapter: AdapterInput): Map<string, { dIn: number; dOut: number }> {
  const shapes = new Map<string, { dIn: number; dOut: number }>();
  for (const [module, w] of adapter.layers) shapes.set(module, { dIn: w.dIn, dOut: w.dOut });
  return shapes;
}
