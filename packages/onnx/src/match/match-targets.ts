import { LayerMatchError } from '../errors.js';
import type { LinearLayer } from './linear-layer.js';
import { pathMatches } from './module-path.js';

/** Expected shape of an adapter module, checked against the layer it lands on. */
export interface ModuleShape {
  dIn: number;
  dOut: number;
}

/**
 * Maps each adapter module path (`model.layers.0.mlp.gate_proj`) to exactly one layer. An exact path match wins;
 * otherwise the layer path may carry an extra leading scope (`m.model.layers.0…`) or lack one the adapter has;
 * failing both, the adapter's Hugging Face names may be the graph exporter's aliases (`self_attn` → `attn` in
 * onnxruntime-genai builder graphs, module-path.ts).
 * Throws {@link LayerMatchError} naming the module when it matches no layer or several, when two modules land on
 * the same layer, or when a given shape disagrees with the layer's.
 */
export function matchTargets(
  layers: readonly LinearLayer[],
  modules: Iterable<string> | ReadonlyMap<string, ModuleShape>,
): Map<string, LinearLayer> {
  const entries: Array<[string, ModuleShape | undefined]> =
    modules instanceof Map
      ? [...modules.entries()]
      : [...(modules as Iterable<string>)].map((m) => [m, undefined]);
  const result = new Map<string, LinearLayer>();
  const claimed = new Map<LinearLayer, string>();
  for (const [module, shape] of entries) {
    const tiers = (['exact', 'scoped', 'alias'] as const).map((tier) =>
      layers.filter((l) => pathMatches(l.modulePath, module) === tier),
    );
    const found = tiers.find((t) => t.length > 0) ?? [];
    if (found.length === 0) {
      const leaf = module.split('.').pop() ?? module;
      const near = layers
        .filter((l) => l.modulePath.endsWith(leaf))
        .slice(0, 3)
        .map((l) => l.modulePath);
      throw new LayerMatchError(
        module,
        `matches no linear layer of the graph (${layers.length} layers found` +
          (near.length ? `; similar: ${near.join(', ')})` : ')'),
      );
    }
    if (found.length > 1) {
      throw new LayerMatchError(
        module,
        `matches several layers: ${found.map((l) => l.modulePath).join(', ')}`,
      );
    }
    const layer = found[0]!;
    const other = claimed.get(layer);
    if (other !== undefined)
      throw new LayerMatchError(module, `lands on the same layer as ${other} (${layer.modulePath})`);
    if (shape && (shape.dIn !== layer.dIn || shape.dOut !== layer.dOut)) {
      throw new LayerMatchError(
        module,
        `adapter expects d_in ${shape.dIn}, d_out ${shape.dOut}; layer ${layer.modulePath} has d_in ${layer.dIn}, d_out ${layer.dOut}`,
      );
    }
    claimed.set(layer, module);
    result.set(module, layer);
  }
  // A packed layer and one of its parts are the same weights: an adapter may target either, not both.
  for (const [module, layer] of result) {
    if (!layer.part) continue;
    const whole = [...result].find(([, l]) => !l.part && l.output === layer.output);
    if (whole)
      throw new LayerMatchError(
        module,
        `is part of the packed layer ${layer.part.packed}, which ${whole[0]} adapts too: target one or the other`,
      );
  }
  return result;
}
