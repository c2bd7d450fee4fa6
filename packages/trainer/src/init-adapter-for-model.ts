import {
  DEFAULT_MOR_CONFIG,
  createRng,
  initLoraLayer,
  initMoeLoraLayer,
  initMorLayer,
  validateMorConfig,
  type LoraLayerWeights,
  type MoeLoraLayerWeights,
  type MorLayerWeights,
} from '@mor/core';
import { createLoraAdapter, createMoeLoraAdapter, createMorAdapter, type Adapter } from '@mor/format';
import { findLinearLayers, type LinearLayer, type ModelProto } from '@mor/onnx';
import { TrainConfigError } from './errors.js';

/** Options of {@link initAdapterForModel}. */
export interface InitAdapterForModelOptions {
  /** The base model's ONNX graph (decoded), or its linear layers as `findLinearLayers` lists them. */
  model: ModelProto | readonly LinearLayer[];
  /** Module-name suffixes to adapt (`q_proj`, `mlp.down_proj`); PEFT's matching: the path equals it or ends with `.name`. */
  targets: readonly string[];
  /** Rank r (default 8). */
  rank?: number;
  /** Scaling numerator (default 2·r). */
  alpha?: number;
  /** Experts N of MoR or MoELoRA (default 4). */
  experts?: number;
  /** Top-k routing (default dense). */
  topK?: number | null;
  /** Router bias (default false). */
  routerBias?: boolean;
  /** Adapter-input dropout recorded in the config (default 0). */
  dropout?: number;
  /** Seed of the init generator (default 0). Layers are drawn in graph order, so a seed reproduces the adapter. */
  seed?: number;
  /**
   * `mor` (default), `moelora` (N independent rank-r LoRAs and MoR's router, mor-spec.md §7) or a plain PEFT
   * `lora` adapter of the same rank and targets.
   */
  kind?: 'mor' | 'moelora' | 'lora';
  /** `task_type` written to adapter_config.json (default `CAUSAL_LM`). */
  taskType?: string;
  /** `base_model_name_or_path` (default null). */
  baseModel?: string | null;
}

/**
 * Exports made through a wrapper module put an extra scope before every path (`m.model.layers.0…`, `m.lm_head`).
 * Adapters use the Hugging Face paths, so a first segment that every layer shares, above several distinct
 * children, is dropped (the graph pass's matcher accepts either form).
 */
export function wrapperScope(paths: readonly string[]): string | null {
  const first = new Set(paths.map((p) => p.split('.')[0]));
  const second = new Set(paths.map((p) => p.split('.')[1] ?? ''));
  if (paths.length < 2 || first.size !== 1 || second.size < 2 || second.has('')) return null;
  return [...first][0]!;
}

/** The target layers, keyed by Hugging Face module path, in graph order. */
export function targetLayers(
  layers: readonly LinearLayer[],
  targets: readonly string[],
): Map<string, LinearLayer> {
  const scope = wrapperScope(layers.map((l) => l.modulePath));
  const named = layers.map(
    (l) => [scope === null ? l.modulePath : l.modulePath.slice(scope.length + 1), l] as const,
  );
  const hits = (t: string) => named.filter(([path]) => path === t || path.endsWith(`.${t}`));
  for (const t of targets) {
    if (hits(t).length > 0) continue;
    const leaves = [...new Set(named.map(([path]) => path.split('.').pop()!))];
    throw new TrainConfigError(
      `target "${t}" matches no linear layer of the model; its layers end in: ${leaves.join(', ')}`,
    );
  }
  return new Map(named.filter(([path]) => targets.some((t) => path === t || path.endsWith(`.${t}`))));
}

/**
 * A freshly initialised adapter for a model (mor-spec.md §1 init: A and router kaiming-uniform, B zeros, omegas
 * ones; MoELoRA §7: every A_i kaiming-uniform, B_i zeros), with one layer per linear layer whose path matches a
 * target. The shapes come from the graph itself.
 *
 * @throws {TrainConfigError} for a target that matches no layer; `MorConfigError` for bad sizes.
 */
export function initAdapterForModel(options: InitAdapterForModelOptions): Adapter {
  const layers = Array.isArray(options.model)
    ? (options.model as LinearLayer[])
    : findLinearLayers(options.model as ModelProto);
  const rank = options.rank ?? DEFAULT_MOR_CONFIG.r;
  const config = validateMorConfig({
    r: rank,
    alpha: options.alpha ?? 2 * rank,
    experts: options.experts ?? DEFAULT_MOR_CONFIG.experts,
    topK: options.topK ?? null,
    routerBias: options.routerBias ?? false,
    dropout: options.dropout ?? 0,
    targets: [...options.targets],
  });
  const found = targetLayers(layers, config.targets);
  const rng = createRng(options.seed ?? 0);
  const taskType = options.taskType ?? 'CAUSAL_LM';
  const baseModel = options.baseModel ?? null;
  if (options.kind === 'lora') {
    const loraLayers = new Map<string, LoraLayerWeights>();
    for (const [path, l] of found)
      loraLayers.set(path, initLoraLayer({ dIn: l.dIn, dOut: l.dOut, r: config.r, rng }));
    return createLoraAdapter({
      r: config.r,
      alpha: config.alpha,
      targets: config.targets,
      layers: loraLayers,
      taskType,
      baseModel,
    });
  }
  if (options.kind === 'moelora') {
    const moeLayers = new Map<string, MoeLoraLayerWeights>();
    for (const [path, l] of found)
      moeLayers.set(path, initMoeLoraLayer({ dIn: l.dIn, dOut: l.dOut, config, rng }));
    return createMoeLoraAdapter({ config, layers: moeLayers, taskType, baseModel });
  }
  const morLayers = new Map<string, MorLayerWeights>();
  for (const [path, l] of found) morLayers.set(path, initMorLayer({ dIn: l.dIn, dOut: l.dOut, config, rng }));
  return createMorAdapter({ config, layers: morLayers, taskType, baseModel });
}
