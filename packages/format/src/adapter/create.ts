import type { MorConfig, MorLayerWeights } from '@mor/core';
import type { AdapterDtype, MorAdapter } from './types.js';

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
