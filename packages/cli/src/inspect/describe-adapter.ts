import { adapterLayerParameterCounts, adapterParameterCount, PEFT_TYPES } from '@mor/format';
import { loadAdapter } from '@mor/format/node';

/** What `mor inspect` reports about an adapter directory (also its `--json` shape). */
export interface AdapterDescription {
  kind: 'adapter';
  path: string;
  adapter_type: 'MOR' | 'MOELORA' | 'LORA';
  base_model: string | null;
  task_type: string | null;
  /** Rank (of each expert, for MoELoRA). */
  r: number;
  lora_alpha: number;
  scaling: number;
  num_experts: number | null;
  top_k: number | null;
  router_bias: boolean | null;
  target_modules: string[];
  adapted_modules: number;
  trainable_parameters: number;
  dtype: string;
  static_gates: string[];
  modules: { module: string; d_in: number; d_out: number; parameters: number }[];
}

/** Loads and validates the adapter in `dir` and summarises it. */
export async function describeAdapter(dir: string): Promise<AdapterDescription> {
  const adapter = await loadAdapter(dir);
  const counts = adapterLayerParameterCounts(adapter);
  const modules = [...adapter.layers].map(([module, l]) => ({
    module,
    d_in: l.dIn,
    d_out: l.dOut,
    parameters: counts.get(module)!,
  }));
  const common = {
    kind: 'adapter' as const,
    path: dir,
    base_model: adapter.baseModel,
    task_type: adapter.taskType,
    adapted_modules: adapter.layers.size,
    trainable_parameters: adapterParameterCount(adapter),
    dtype: adapter.dtype,
    modules,
  };
  if (adapter.kind === 'lora') {
    return {
      ...common,
      adapter_type: 'LORA',
      r: adapter.r,
      lora_alpha: adapter.alpha,
      scaling: adapter.scaling,
      num_experts: null,
      top_k: null,
      router_bias: null,
      target_modules: adapter.targets,
      static_gates: [],
    };
  }
  const c = adapter.config;
  return {
    ...common,
    adapter_type: PEFT_TYPES[adapter.kind],
    r: c.r,
    lora_alpha: c.alpha,
    scaling: c.alpha / c.r,
    num_experts: c.experts,
    top_k: c.topK,
    router_bias: c.routerBias,
    target_modules: [...c.targets],
    static_gates: adapter.kind === 'mor' ? Object.keys(adapter.staticGates) : [],
  };
}
