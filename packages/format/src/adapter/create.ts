import {
  loraScaling,
  type LoraLayerWeights,
  type MoeLoraLayerWeights,
  type MorConfig,
  type MorLayerWeights,
} from '@mor/core';
import type { AdapterDtype, LoraAdapter, MoeLoraAdapter, MorAdapter } from './types.js';

/** What {@link createMorAdapter} needs; everything but `config` and `layers` has a default. */
export interface CreateMorAdapterInit {
  config: MorConfig;
  /** By module path without PEFT's prefix. */
  layers: Map<string, MorLayerWeights>;
  /** Default `"CAUSAL_LM"`. */
  taskType?: string | null;
  /** Default null. */
  baseModel?: string | null;
  /** Default `{}`. */
  staticGates?: Record<string, number[]>;
  /** Default `"F32"`. */
  dtype?: AdapterDtype;
  /** Extra adapter_config.json keys to write; default `{}`. */
  rawConfig?: Record<string, unknown>;
}

/** A MoR adapter built in memory (e.g. freshly initialised for training), ready for `serializeAdapter`/`saveAdapter`. */
export function createMorAdapter(init: CreateMorAdapterInit): MorAdapter {
  return {
    kind: 'mor',
    config: init.config,
    rawConfig: init.rawConfig ?? {},
    taskType: init.taskType === undefined ? 'CAUSAL_LM' : init.taskType,
    baseModel: init.baseModel ?? null,
    staticGates: init.staticGates ?? {},
    layers: init.layers,
    dtype: init.dtype ?? 'F32',
  };
}

/** What {@link createMoeLoraAdapter} needs; everything but `config` and `layers` has a default. */
export interface CreateMoeLoraAdapterInit {
  /** MoR's config fields: `r` is each expert's rank, `experts` N. */
  config: MorConfig;
  /** By module path without PEFT's prefix. */
  layers: Map<string, MoeLoraLayerWeights>;
  /** Default `"CAUSAL_LM"`. */
  taskType?: string | null;
  /** Default null. */
  baseModel?: string | null;
  /** Default `"F32"`. */
  dtype?: AdapterDtype;
  /** Extra adapter_config.json keys to write; default `{}`. */
  rawConfig?: Record<string, unknown>;
}

/** A MoELoRA adapter built in memory, ready for `serializeAdapter`/`saveAdapter`. */
export function createMoeLoraAdapter(init: CreateMoeLoraAdapterInit): MoeLoraAdapter {
  return {
    kind: 'moelora',
    config: init.config,
    rawConfig: init.rawConfig ?? {},
    taskType: init.taskType === undefined ? 'CAUSAL_LM' : init.taskType,
    baseModel: init.baseModel ?? null,
    layers: init.layers,
    dtype: init.dtype ?? 'F32',
  };
}

/** What {@link createLoraAdapter} needs; everything but `r`, `alpha`, `targets` and `layers` has a default. */
export interface CreateLoraAdapterInit {
  r: number;
  alpha: number;
  /** Module-name suffixes (`target_modules`). */
  targets: readonly string[];
  /** By module path without PEFT's prefix. */
  layers: Map<string, LoraLayerWeights>;
  /** rsLoRA scaling `alpha / √r`; default false (`alpha / r`). */
  useRslora?: boolean;
  /** PEFT's `fan_in_fan_out` (GPT-2 Conv1D base weights); default false. */
  fanInFanOut?: boolean;
  /** Default `"CAUSAL_LM"`. */
  taskType?: string | null;
  /** Default null. */
  baseModel?: string | null;
  /** Default `"F32"`. */
  dtype?: AdapterDtype;
  /** Extra adapter_config.json keys to write; default `{}`. */
  rawConfig?: Record<string, unknown>;
}

/** A plain PEFT LoRA adapter built in memory (scaling derived from `alpha`, `r` and rsLoRA). */
export function createLoraAdapter(init: CreateLoraAdapterInit): LoraAdapter {
  const useRslora = init.useRslora ?? false;
  return {
    kind: 'lora',
    r: init.r,
    alpha: init.alpha,
    scaling: loraScaling({ alpha: init.alpha, r: init.r, useRslora }),
    useRslora,
    fanInFanOut: init.fanInFanOut ?? false,
    targets: [...init.targets],
    targetPattern: null,
    rawConfig: init.rawConfig ?? {},
    taskType: init.taskType === undefined ? 'CAUSAL_LM' : init.taskType,
    baseModel: init.baseModel ?? null,
    layers: init.layers,
    dtype: init.dtype ?? 'F32',
  };
}
