/**
 * Default target modules by `model_type`, as PEFT's `TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING` has
 * them (the attention query and value projections), for the families transformers.js users meet most.
 */
const DEFAULT_TARGETS: Readonly<Record<string, readonly string[]>> = {
  llama: ['q_proj', 'v_proj'],
  mistral: ['q_proj', 'v_proj'],
  qwen2: ['q_proj', 'v_proj'],
  qwen3: ['q_proj', 'v_proj'],
  gemma: ['q_proj', 'v_proj'],
  gemma2: ['q_proj', 'v_proj'],
  phi3: ['qkv_proj'],
  gpt2: ['c_attn'],
  gpt_neox: ['query_key_value'],
  opt: ['q_proj', 'v_proj'],
  bert: ['query', 'value'],
  roberta: ['query', 'value'],
  distilbert: ['q_lin', 'v_lin'],
  t5: ['q', 'v'],
};

/** PEFT's default targets for a model type, or null when PEFT has none we know of (then `--targets` is needed). */
export function defaultTargets(modelType: unknown): string[] | null {
  if (typeof modelType !== 'string') return null;
  const t = DEFAULT_TARGETS[modelType];
  return t ? [...t] : null;
}
