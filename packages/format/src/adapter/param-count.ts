import type { Adapter } from './types.js';

/**
 * Trainable parameters of each adapted module (mor-spec.md §6, §7), by module path: per MoR layer
 * `r·d_in + d_out·r + N·(r + d_out) + N·d_in` (`+ N` with a router bias); per MoELoRA layer
 * `N·r·(d_in + d_out) + N·d_in` (`+ N` with a router bias); per LoRA layer `r·(d_in + d_out)`.
 */
export function adapterLayerParameterCounts(adapter: Adapter): Map<string, number> {
  const counts = new Map<string, number>();
  if (adapter.kind === 'mor') {
    for (const [module, { r, dIn, dOut, experts: n, routerBias }] of adapter.layers) {
      counts.set(module, r * dIn + dOut * r + n * (r + dOut) + n * dIn + (routerBias === null ? 0 : n));
    }
  } else if (adapter.kind === 'moelora') {
    for (const [module, { r, dIn, dOut, experts: n, routerBias }] of adapter.layers) {
      counts.set(module, n * r * (dIn + dOut) + n * dIn + (routerBias === null ? 0 : n));
    }
  } else {
    for (const [module, { r, dIn, dOut }] of adapter.layers) counts.set(module, r * (dIn + dOut));
  }
  return counts;
}

/** Trainable parameters of an adapter: {@link adapterLayerParameterCounts} summed. */
export function adapterParameterCount(adapter: Adapter): number {
  let total = 0;
  for (const n of adapterLayerParameterCounts(adapter).values()) total += n;
  return total;
}
