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

/** Whether `path` names the module `module`: equal, or one is the other under an extra leading scope. */
export function pathMatches(path: string, module: string): 'exact' | 'scoped' | undefined {
  if (path === module) return 'exact';
  if (path.endsWith(`.${module}`) || module.endsWith(`.${path}`)) return 'scoped';
  return undefined;
}
