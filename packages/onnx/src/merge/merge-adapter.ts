import { loraDeltaWeight, staticDeltaWeight } from '@mor/core';
import type { ModelProto } from 'onnx-buf';
import { MergeError } from '../errors.js';
import { GraphIndex, modelGraph } from '../graph/graph-index.js';
import { UniqueNames } from '../graph/unique-names.js';
import { findLinearLayers } from '../match/find-linear-layers.js';
import type { LinearLayer } from '../match/linear-layer.js';
import { matchTargets } from '../match/match-targets.js';
import { applyAdapter, type ApplyAdapterOptions } from '../pass/apply-adapter.js';
import { adapterShapes, type LoraAdapterInput, type MorAdapterInput } from '../pass/adapter-input.js';
import { addWeightDelta, assertMergeable } from './add-weight-delta.js';

/** Options of {@link mergeStaticGate} and {@link mergeLora}. */
export interface MergeOptions {
  /**
   * A target whose base weight is quantized (MatMulNBits, the q8 MatMulInteger chain) cannot take an exact float
   * update. `branch` (default): its weight stays quantized and the adapter is folded in beside it as a constant
   * float32 rank-r branch, `y = base(x) + scaling·(x·Aᵀ)·B_staticᵀ` (MoR under the gate: B ⊙ M), exact up to float
   * rounding — the merged model computes what the live adapter computes under static routing. `refuse`: throw a
   * {@link MergeError} naming the layer.
   */
  quantized?: 'branch' | 'refuse';
}

/** Initializer prefix of the branches a merge folds in beside quantized weights: `merged.<module>.down`, `.up`. */
export const MERGED_BRANCH_PREFIX = 'merged';

function mergeDeltas(
  model: ModelProto,
  adapter: MorAdapterInput | LoraAdapterInput,
  deltaOf: (module: string) => Float32Array,
  branch: ApplyAdapterOptions,
  options: MergeOptions,
): Map<string, LinearLayer> {
  const graph = modelGraph(model);
  const layers = matchTargets(findLinearLayers(model), adapterShapes(adapter));
  const quantized = [...layers.keys()].filter((m) => layers.get(m)!.quantized);
  // Refuse before touching anything, so a failed merge leaves the model as it was.
  if ((options.quantized ?? 'branch') === 'refuse')
    for (const m of quantized) assertMergeable(m, layers.get(m)!);
  const index = new GraphIndex(graph);
  const names = new UniqueNames(graph);
  const packed = new Map<string, { module: string; layer: LinearLayer; delta: Float32Array }>();
  for (const [module, layer] of layers) {
    if (layer.quantized) continue;
    if (!layer.part) {
      addWeightDelta(graph, index, names, module, layer, deltaOf(module));
      continue;
    }
    // Parts of a packed layer (q, k, v of `qkv_proj`): their `[d_out, d_in]` deltas are row blocks of one update.
    const { packedDOut, offset } = layer.part;
    let p = packed.get(layer.output);
    if (!p) {
      const whole = { ...layer, modulePath: layer.part.packed, dOut: packedDOut };
      delete whole.part;
      p = { module, layer: whole, delta: new Float32Array(packedDOut * layer.dIn) };
      packed.set(layer.output, p);
    }
    p.delta.set(deltaOf(module), offset * layer.dIn);
  }
  for (const p of packed.values()) addWeightDelta(graph, index, names, p.module, p.layer, p.delta);
  if (quantized.length > 0) {
    const only = new Map([...adapter.layers].filter(([m]) => quantized.includes(m)));
    applyAdapter(model, { ...adapter, layers: only } as typeof adapter, {
      ...branch,
      prefix: MERGED_BRANCH_PREFIX,
    });
  }
  return layers;
}

/**
 * Merges a MoR adapter under a fixed gate into the base weights (mor-spec.md §3): `W' = W + (alpha/r)(B ⊙ M) A`.
 * Exact: the merged model computes what the patched model computes with static routing. Modifies the model in
 * place (shared weights are cloned, fp16 weights stay fp16); a quantized layer keeps its weight and gets the
 * static branch beside it ({@link MergeOptions}).
 * @returns adapter module → merged layer (`quantized` ones got the branch).
 */
export function mergeStaticGate(
  model: ModelProto,
  adapter: MorAdapterInput,
  gate: ArrayLike<number>,
  options: MergeOptions = {},
): Map<string, LinearLayer> {
  const n = adapter.config.experts;
  if (gate.length !== n)
    throw new MergeError('(all)', `the gate has ${gate.length} values, the adapter has ${n} experts`);
  const g = Float64Array.from(gate);
  return mergeDeltas(
    model,
    adapter,
    (m) => staticDeltaWeight({ weights: adapter.layers.get(m)!, gate: g, config: adapter.config }),
    { routing: 'static', gate: g, foldExperts: true }, // folded: a plain rank-r LoRA with B ⊙ M
    options,
  );
}

/** Merges a plain LoRA adapter into the base weights: `W' = W + scaling · B A`. Same rules as {@link mergeStaticGate}. */
export function mergeLora(
  model: ModelProto,
  adapter: LoraAdapterInput,
  options: MergeOptions = {},
): Map<string, LinearLayer> {
  return mergeDeltas(
    model,
    adapter,
    (m) => loraDeltaWeight(adapter.layers.get(m)!, adapter.scaling),
    {},
    options,
  );
}
