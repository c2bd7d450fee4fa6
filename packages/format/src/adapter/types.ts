import type { LoraLayerWeights, MoeLoraLayerWeights, MorConfig, MorLayerWeights } from '@mor/core';
import type { WritableDtype } from '../safetensors/dtype.js';

/** The float dtype an adapter's tensors are stored in. */
export type AdapterDtype = WritableDtype;

/** A MoR adapter (`peft_type: "MOR"`). */
export interface MorAdapter {
  kind: 'mor';
  config: MorConfig;
  /** The parsed adapter_config.json as read; keys this package does not know are written back unchanged. */
  rawConfig: Record<string, unknown>;
  taskType: string | null;
  baseModel: string | null;
  /** Named fixed gate vectors (`static_gates`), each of length `config.experts`. */
  staticGates: Record<string, number[]>;
  /** By module path without PEFT's `base_model.model.` prefix, e.g. `model.layers.0.mlp.gate_proj`. */
  layers: Map<string, MorLayerWeights>;
  /** Storage dtype of the tensors (F32 when a file mixes dtypes). */
  dtype: AdapterDtype;
}

/** A plain PEFT LoRA adapter (`peft_type: "LORA"`). */
export interface LoraAdapter {
  kind: 'lora';
  r: number;
  alpha: number;
  /** `alpha / r`, or `alpha / sqrt(r)` with `use_rslora`. */
  scaling: number;
  /** PEFT's `use_rslora`. */
  useRslora: boolean;
  /**
   * PEFT's `fan_in_fan_out`: the BASE weight is stored `[d_in, d_out]` (GPT-2 Conv1D). The LoRA tensors keep
   * `A: [r, d_in]`, `B: [d_out, r]` either way; only a merge into the base weight must transpose.
   */
  fanInFanOut: boolean;
  /** Module-name suffixes (`target_modules` as a list), or the last name part of each adapted module when PEFT gave a regex. */
  targets: string[];
  /** `target_modules` when PEFT gave a regex string (full-match against module paths), else null. */
  targetPattern: string | null;
  rawConfig: Record<string, unknown>;
  taskType: string | null;
  baseModel: string | null;
  /** By module path without the `base_model.model.` prefix. */
  layers: Map<string, LoraLayerWeights>;
  dtype: AdapterDtype;
}

/**
 * A MoELoRA adapter (`peft_type: "MOELORA"`, mor-spec.md §7): N independent rank-r LoRAs per module mixed by a
 * softmax router. The config has MoR's fields (`r` is each expert's rank); there are no static gates (the router
 * is part of the adapter).
 */
export interface MoeLoraAdapter {
  kind: 'moelora';
  config: MorConfig;
  rawConfig: Record<string, unknown>;
  taskType: string | null;
  baseModel: string | null;
  /** By module path without the `base_model.model.` prefix; experts stacked expert-major (`MoeLoraLayerWeights`). */
  layers: Map<string, MoeLoraLayerWeights>;
  dtype: AdapterDtype;
}

export type Adapter = MorAdapter | LoraAdapter | MoeLoraAdapter;

/** Each adapter kind's `peft_type` in adapter_config.json. */
export const PEFT_TYPES = { mor: 'MOR', moelora: 'MOELORA', lora: 'LORA' } as const satisfies Record<
  Adapter['kind'],
  string
>;
/** Each adapter kind as messages and model cards name it. */
export const ADAPTER_KIND_LABELS = { mor: 'MoR', moelora: 'MoELoRA', lora: 'LoRA' } as const satisfies Record<
  Adapter['kind'],
  string
>;

/** PEFT's prefix on every adapter tensor name. */
export const PEFT_PREFIX = 'base_model.model.';
/** File names inside an adapter directory. */
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** Highest `format_version` of the MoR format (MOR and MOELORA configs) this reader understands. */
export const MOR_FORMAT_VERSION = 1;

/** Joins a directory and a file name without node:path (this entry is browser-safe). */
export function joinDir(dir: string | undefined, file: string): string {
  if (dir === undefined || dir === '') return file;
  return /[\\/]$/.test(dir) ? `${dir}${file}` : `${dir}/${file}`;
}
