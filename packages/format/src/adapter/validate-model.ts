import { AdapterFormatError } from '../errors.js';
import { LORA_SUFFIXES, MOR_SUFFIXES, adapterTensorName, moeLoraExpertSuffix } from './tensor-names.js';
import { ADAPTER_WEIGHTS_FILE, type Adapter } from './types.js';

/** A base-model layer an adapter may target, by its mathematical sizes (whatever the weight's storage layout). */
export interface BaseLayerShape {
  dIn: number;
  dOut: number;
}

/** Options of {@link validateAdapterAgainstModel}. */
export interface ValidateAgainstModelOptions {
  /** File named in error messages; defaults to `adapter_model.safetensors`. */
  fileName?: string;
}

/**
 * Refuses an adapter that does not fit a base model: a module that matches no layer of the model, or a layer whose
 * `d_in`/`d_out` differ from the base layer's. `layers` is keyed by module path without PEFT's prefix
 * (`model.layers.0.mlp.gate_proj`), as the adapter's own layers are.
 *
 * @throws {AdapterFormatError} naming the file and the tensor that does not fit.
 */
export function validateAdapterAgainstModel(
  adapter: Adapter,
  layers: ReadonlyMap<string, BaseLayerShape>,
  options: ValidateAgainstModelOptions = {},
): void {
  const fileName = options.fileName ?? ADAPTER_WEIGHTS_FILE;
  // The tensor named when d_in (A) or d_out (B) disagrees; for MoELoRA, expert 0's (every expert's agree).
  const suffixes =
    adapter.kind === 'mor'
      ? MOR_SUFFIXES
      : adapter.kind === 'moelora'
        ? { A: moeLoraExpertSuffix('A', 0), B: moeLoraExpertSuffix('B', 0) }
        : LORA_SUFFIXES;
  for (const [module, layer] of adapter.layers) {
    const aName = adapterTensorName(module, suffixes.A);
    const base = layers.get(module);
    if (base === undefined) {
      throw new AdapterFormatError(`module '${module}' matches no layer of the base model`, {
        fileName,
        tensorName: aName,
      });
    }
    if (layer.dIn !== base.dIn) {
      throw new AdapterFormatError(
        `shape [${layer.r},${layer.dIn}] disagrees with the base layer: d_in ${layer.dIn}, the model's '${module}' takes ${base.dIn}`,
        { fileName, tensorName: aName },
      );
    }
    if (layer.dOut !== base.dOut) {
      throw new AdapterFormatError(
        `shape [${layer.dOut},${layer.r}] disagrees with the base layer: d_out ${layer.dOut}, the model's '${module}' gives ${base.dOut}`,
        { fileName, tensorName: adapterTensorName(module, suffixes.B) },
      );
    }
  }
}
