import { staticCollapse, type LoraLayerWeights } from '@mor/core';
import { AdapterFormatError } from '../errors.js';
import { type LoraAdapter, type MorAdapter } from '../adapter/types.js';
import { createLoraAdapter } from '../adapter/create.js';

/**
 * The PEFT `LoraConfig` keys written for an exported adapter. Only keys every PEFT release since 0.6 knows: an
 * older PEFT passes the whole JSON to `LoraConfig(**kwargs)` and fails on keys it has never heard of.
 */
function peftLoraConfig(mor: MorAdapter): Record<string, unknown> {
  const c = mor.config;
  return {
    base_model_name_or_path: mor.baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: c.r,
    rank_pattern: {},
    alpha_pattern: {},
    revision: null,
    target_modules: [...c.targets],
    task_type: mor.taskType,
    use_dora: false,
    use_rslora: false,
  };
}

/**
 * Collapses a MoR adapter under a fixed gate into the exact rank-r PEFT LoRA it equals (mor-spec.md §3): every
 * layer keeps `A`, and `B_static = B ⊙ M` with `M = (g ⊙ omega_B)ᵀ omega_A`; `lora_alpha` and `r` stay, so the
 * scaling `alpha / r` is the MoR scaling. Saved with `saveAdapter`, the result is a directory PEFT's
 * `PeftModel.from_pretrained` loads (plain `LoraConfig` keys, tensors `base_model.model.MODULE.lora_{A,B}.weight`).
 *
 * @param gate The fixed gate, one finite number per expert (resolve a gate spec such as `'uniform'` first).
 * @throws {AdapterFormatError} when the gate does not have `num_experts` finite values.
 */
export function exportPeftLora(mor: MorAdapter, gate: readonly number[]): LoraAdapter {
  const n = mor.config.experts;
  if (gate.length !== n || !gate.every((g) => Number.isFinite(g))) {
    throw new AdapterFormatError(
      `a gate for this adapter needs ${n} finite numbers (one per expert), got ${JSON.stringify(gate)}`,
    );
  }
  const g = Float64Array.from(gate);
  const layers = new Map<string, LoraLayerWeights>();
  for (const [module, w] of mor.layers) {
    const { bStatic } = staticCollapse({ weights: w, gate: g });
    layers.set(module, { dIn: w.dIn, dOut: w.dOut, r: w.r, A: Float32Array.from(w.A), B: bStatic });
  }
  return createLoraAdapter({
    r: mor.config.r,
    alpha: mor.config.alpha,
    targets: mor.config.targets,
    layers,
    rawConfig: peftLoraConfig(mor),
    taskType: mor.taskType,
    baseModel: mor.baseModel,
    dtype: mor.dtype,
  });
}
