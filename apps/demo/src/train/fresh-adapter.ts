import type { MorAdapter } from '@mor/format';
import { decodeModel } from '@mor/onnx';
import { defaultTargets, initAdapterForModel } from '@mor/trainer';
import type { BaseModelSource } from '../model/base-model-source.js';

/** Options of {@link freshMorAdapter}. */
export interface FreshAdapterOptions {
  base: BaseModelSource;
  /** The model's `config.model_type` (picks PEFT's default targets when `targets` is absent). */
  modelType?: string;
  /** Module-name suffixes to adapt; default: those of `like`, else PEFT's defaults for the model type. */
  targets?: readonly string[];
  /** An adapter whose r / alpha / experts / targets the fresh one copies (the loaded adapter). */
  like?: MorAdapter | null;
  seed: number;
  /** Written as `base_model_name_or_path`. */
  baseModel?: string;
}

/**
 * A freshly initialised MoR adapter for the loaded model (`initAdapterForModel`: A and router kaiming-uniform from
 * the seeded generator, B zeros, so it starts as the base model). Sizes come from the model graph itself.
 */
export async function freshMorAdapter(options: FreshAdapterOptions): Promise<MorAdapter> {
  const like = options.like?.config;
  const targets = options.targets ?? like?.targets ?? defaultTargets(options.modelType);
  if (!targets || targets.length === 0)
    throw new Error(`no default target modules for model type ${JSON.stringify(options.modelType)}`);
  const graph = await decodeModel(options.base.bytes, {
    externalData: (location) => {
      const data = options.base.externalData.get(location);
      if (!data) throw new Error(`the model's external data file ${location} was not loaded`);
      return data;
    },
  });
  const adapter = initAdapterForModel({
    model: graph,
    targets,
    kind: 'mor',
    seed: options.seed,
    baseModel: options.baseModel ?? null,
    ...(like
      ? {
          rank: like.r,
          alpha: like.alpha,
          experts: like.experts,
          topK: like.topK,
          routerBias: like.routerBias,
        }
      : {}),
  });
  if (adapter.kind !== 'mor') throw new Error('initAdapterForModel returned a LoRA adapter for kind "mor"');
  return adapter;
}
