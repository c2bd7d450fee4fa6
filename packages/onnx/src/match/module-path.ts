/**
 * The module path encoded in a TorchScript node name: `/m/model/layers.0/mlp/gate_proj/MatMul` →
 * `m.model.layers.0.mlp.gate_proj`. Undefined for names without a scope (`MatMul_12`, `node_linear`).
 */
export function modulePathFromNodeName(name: string): string | undefined {
  if (!name.startsWith('/')) return undefined;
  const parts = name
    .slice(1)
    .split('/')
    .filter((p) => p !== '');
  if (parts.length < 2) return undefined;
  return parts.slice(0, -1).join('.');
}

/**
 * The module path encoded in a weight initializer name (dynamo exports): `model.layers.0.mlp.gate_proj.weight`
 * → `model.layers.0.mlp.gate_proj`. Undefined for exporter-made names (`onnx::MatMul_123`, `val_12`).
 */
export function modulePathFromInitializer(name: string): string | undefined {
  if (name.startsWith('onnx::') || !name.endsWith('.weight')) return undefined;
  const path = name.slice(0, -'.weight'.length);
  return path === '' ? undefined : path;
}

/**
 * Module names that graph exporters spell differently from Hugging Face (and so from every PEFT/MoR adapter),
 * as `[Hugging Face, graph]` path segments. onnxruntime-genai's model builder (`builders/base.py`) names the
 * attention module `attn` whatever the model calls it: `model.layers.0.self_attn.q_proj` is
 * `/model/layers.0/attn/q_proj/MatMul` in its graphs. docs/adapter-format.md lists these.
 */
export const MODULE_SEGMENT_ALIASES: ReadonlyArray<readonly [string, string]> = [['self_attn', 'attn']];

/** `module` with each Hugging Face segment of {@link MODULE_SEGMENT_ALIASES} spelled the graph's way. */
export function graphSpelling(module: string): string {
  let parts = module.split('.');
  for (const [hf, graph] of MODULE_SEGMENT_ALIASES) parts = parts.map((p) => (p === hf ? graph : p));
  return parts.join('.');
}

/**
 * Whether `path` names the module `module`: equal, or one is the other under an extra leading scope; failing
 * that, `alias` when they agree once `module` is spelled the way the graph exporters of
 * {@link MODULE_SEGMENT_ALIASES} spell it (the weaker match: a graph that has the Hugging Face name keeps it).
 */
export function pathMatches(path: string, module: string): 'exact' | 'scoped' | 'alias' | undefined {
  if (path === module) return 'exact';
  if (path.endsWith(`.${module}`) || module.endsWith(`.${path}`)) return 'scoped';
  const spelled = graphSpelling(module);
  if (
    spelled !== module &&
    (path === spelled || path.endsWith(`.${spelled}`) || spelled.endsWith(`.${path}`))
  )
    return 'alias';
  return undefined;
}
