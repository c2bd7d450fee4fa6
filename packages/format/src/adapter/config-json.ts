import type { Adapter, LoraAdapter, MoeLoraAdapter, MorAdapter } from './types.js';
import { setOwn } from './json-text.js';
import { MOR_FORMAT_VERSION } from './types.js';

/**
 * The adapter_config.json object for an adapter: `rawConfig` with every key this package knows replaced by the
 * adapter's current value. Keys keep their order in `rawConfig` (PEFT sorts them); keys `rawConfig` lacks follow
 * in the order adapter-format.md lists them. Unknown keys pass through unchanged.
 */
export function adapterConfigObject(adapter: Adapter): Record<string, unknown> {
  const known =
    adapter.kind === 'mor'
      ? morKeys(adapter)
      : adapter.kind === 'moelora'
        ? moeLoraKeys(adapter)
        : loraKeys(adapter);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(adapter.rawConfig)) {
    setOwn(out, key, Object.hasOwn(known, key) ? known[key] : adapter.rawConfig[key]);
  }
  for (const [key, value] of Object.entries(known)) if (!Object.hasOwn(out, key)) out[key] = value;
  return out;
}

function morKeys(adapter: MorAdapter): Record<string, unknown> {
  const keys = routedKeys('MOR', adapter);
  if (Object.keys(adapter.staticGates).length > 0 || Object.hasOwn(adapter.rawConfig, 'static_gates')) {
    keys['static_gates'] = adapter.staticGates;
  }
  return keys;
}

function moeLoraKeys(adapter: MoeLoraAdapter): Record<string, unknown> {
  return routedKeys('MOELORA', adapter);
}

/** The keys MOR and MOELORA configs share (the same MorConfig fields under the same names). */
function routedKeys(
  peftType: 'MOR' | 'MOELORA',
  adapter: MorAdapter | MoeLoraAdapter,
): Record<string, unknown> {
  const { config, rawConfig } = adapter;
  const keys: Record<string, unknown> = {
    peft_type: peftType,
    format_version: MOR_FORMAT_VERSION,
    task_type: adapter.taskType,
    base_model_name_or_path: adapter.baseModel,
    r: config.r,
    lora_alpha: config.alpha,
    num_experts: config.experts,
    top_k: config.topK,
    router_bias: config.routerBias,
    lora_dropout: config.dropout,
    target_modules: [...config.targets],
  };
  // Optional keys: written when they carry information or were there already, so a round trip adds nothing.
  if (config.routerAuxLossCoef !== 0 || Object.hasOwn(rawConfig, 'router_aux_loss_coef')) {
    keys['router_aux_loss_coef'] = config.routerAuxLossCoef;
  }
  return keys;
}

function loraKeys(adapter: LoraAdapter): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: adapter.taskType,
    base_model_name_or_path: adapter.baseModel,
    r: adapter.r,
    lora_alpha: adapter.alpha,
    target_modules: adapter.targetPattern ?? [...adapter.targets],
    fan_in_fan_out: adapter.fanInFanOut,
    use_rslora: adapter.useRslora,
  };
}
