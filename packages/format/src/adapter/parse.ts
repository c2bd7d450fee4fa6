import type { LoraLayerWeights, MoeLoraLayerWeights, MorLayerWeights } from '@mor/core';
import { jsonPreview } from '@mor/core';
import { AdapterFormatError } from '../errors.js';
import { parseSafetensors } from '../safetensors/parse.js';
import { readAdapterConfig } from './config.js';
import { buildLoraLayer, buildMoeLoraLayer, buildMorLayer } from './layers.js';
import { moduleMatchesTargets, moduleSuffixes } from './targets.js';
import {
  LORA_SUFFIXES,
  MOR_SUFFIXES,
  adapterTensorName,
  groupTensors,
  moeLoraExpertSuffix,
} from './tensor-names.js';
import { checkAdapterDtype, commonDtype } from './tensor-values.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, joinDir, type Adapter } from './types.js';

/** Options of {@link parseAdapter}. */
export interface ParseAdapterOptions {
  /** The adapter directory (or Hub path) the bytes came from; error messages name files inside it. */
  dir?: string;
}

/**
 * Parses an adapter (MoR, MoELoRA or PEFT LoRA) from the text of adapter_config.json and the bytes of
 * adapter_model.safetensors, validating everything adapter-format.md lists that does not need the base model:
 * the safetensors header, the config, tensor names, complete tensor groups, shapes against `r`/`num_experts`/
 * `router_bias`, dtypes, and finite values. Layer weights are owned float32 copies.
 *
 * @throws {AdapterFormatError | SafetensorsError} naming the file and, where one is at fault, the tensor.
 */
export function parseAdapter(
  configJsonText: string,
  safetensorsBytes: Uint8Array,
  options: ParseAdapterOptions = {},
): Adapter {
  const configFile = joinDir(options.dir, ADAPTER_CONFIG_FILE);
  const fileName = joinDir(options.dir, ADAPTER_WEIGHTS_FILE);
  const info = readAdapterConfig(configJsonText, configFile);
  const file = parseSafetensors(safetensorsBytes, { fileName });
  for (const tensor of file.tensors.values()) checkAdapterDtype(tensor, fileName);
  const dtype = commonDtype(file.tensors.values());

  if (info.kind === 'mor') {
    const groups = groupTensors(file.tensors.values(), 'mor', fileName);
    const layers = new Map<string, MorLayerWeights>();
    for (const [module, group] of groups) {
      checkTargeted(module, info.config.targets, adapterTensorName(module, MOR_SUFFIXES.A), fileName);
      layers.set(module, buildMorLayer(module, group, info.config, fileName));
    }
    const { config, staticGates, rawConfig, taskType, baseModel } = info;
    return { kind: 'mor', config, rawConfig, taskType, baseModel, staticGates, layers, dtype };
  }

  if (info.kind === 'moelora') {
    const groups = groupTensors(file.tensors.values(), 'moelora', fileName);
    const layers = new Map<string, MoeLoraLayerWeights>();
    for (const [module, group] of groups) {
      checkTargeted(
        module,
        info.config.targets,
        adapterTensorName(module, moeLoraExpertSuffix('A', 0)),
        fileName,
      );
      layers.set(module, buildMoeLoraLayer(module, group, info.config, fileName));
    }
    const { config, rawConfig, taskType, baseModel } = info;
    return { kind: 'moelora', config, rawConfig, taskType, baseModel, layers, dtype };
  }

  const groups = groupTensors(file.tensors.values(), 'lora', fileName);
  const layers = new Map<string, LoraLayerWeights>();
  for (const [module, group] of groups) {
    const targets = info.targetPattern ?? info.targetList;
    if (targets !== null)
      checkTargeted(module, targets, adapterTensorName(module, LORA_SUFFIXES.A), fileName);
    layers.set(module, buildLoraLayer(module, group, info.r, fileName));
  }
  const { r, alpha, scaling, useRslora, fanInFanOut, targetPattern, rawConfig, taskType, baseModel } = info;
  const targets = info.targetList ?? moduleSuffixes(layers.keys());
  return {
    kind: 'lora',
    r,
    alpha,
    scaling,
    useRslora,
    fanInFanOut,
    targets,
    targetPattern,
    rawConfig,
    taskType,
    baseModel,
    layers,
    dtype,
  };
}

function checkTargeted(
  module: string,
  targets: readonly string[] | string,
  tensorName: string,
  fileName: string,
): void {
  if (!moduleMatchesTargets(module, targets)) {
    throw new AdapterFormatError(
      `module '${module}' is not covered by target_modules ${jsonPreview(targets)}`,
      {
        fileName,
        tensorName,
      },
    );
  }
}
