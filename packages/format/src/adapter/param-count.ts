import type { Adapter } from './types.js';

/**
 * Trainable parameters of an adapter (mor-spec.md §6): per MoR layer `r·d_in + d_out·r + N·(r + d_out) + N·d_in`
 * (`+ N` with a router bias); per LoRA layer `r·(d_in + d_out)`.
 */
export function adapterParameterCount(adapter: Adapter): number {
  let total = 0;
  if (adapter.kind === 'mor') {
    for (const { r, dIn, dOut, experts: n, routerBias } of adapter.layers.values()) {
      total += r * dIn + dOut * r + n * (r + dOut) + n * dIn + (routerBias === null ? 0 : n);
    }
  } else {
    for (const { r, dIn, dOut } of adapter.layers.values()) total += r * (dIn + dOut);
  }
  return total;
}
