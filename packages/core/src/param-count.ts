import type { MorConfig } from './config.js';
import { checkDim } from './shape-check.js';

/** The in/out features of one adapted linear layer. */
export interface LayerShape {
  readonly dIn: number;
  readonly dOut: number;
}

/**
 * Trainable parameters of one MoR layer (mor-spec.md §6):
 * `r·d_in + d_out·r + N·(r + d_out) + N·d_in (+ N with a router bias)`.
 */
export function morParamCount(
  shape: LayerShape,
  config: Pick<MorConfig, 'r' | 'experts' | 'routerBias'>,
): number {
  const { dIn, dOut } = shape;
  const { r, experts: n } = config;
  checkDim('dIn', dIn);
  checkDim('dOut', dOut);
  checkDim('config.r', r);
  checkDim('config.experts', n);
  return r * dIn + dOut * r + n * (r + dOut) + n * dIn + (config.routerBias ? n : 0);
}

/**
 * Trainable parameters of one MoELoRA layer (mor-spec.md §6, §7): N rank-r LoRAs and the router,
 * `N·r·(d_in + d_out) + N·d_in (+ N with a router bias)`.
 */
export function moeLoraParamCount(
  shape: LayerShape,
  config: Pick<MorConfig, 'r' | 'experts' | 'routerBias'>,
): number {
  checkDim('config.experts', config.experts);
  const n = config.experts;
  return n * loraParamCount(shape, config.r) + n * shape.dIn + (config.routerBias ? n : 0);
}

/** Trainable parameters of one plain rank-r LoRA layer: `r·(d_in + d_out)`. */
export function loraParamCount(shape: LayerShape, r: number): number {
  checkDim('dIn', shape.dIn);
  checkDim('dOut', shape.dOut);
  checkDim('r', r);
  return r * (shape.dIn + shape.dOut);
}

/** Trainable parameters of a whole MoR adapter: {@link morParamCount} summed over every adapted layer. */
export function totalMorParamCount(
  shapes: readonly LayerShape[],
  config: Pick<MorConfig, 'r' | 'experts' | 'routerBias'>,
): number {
  return shapes.reduce((sum, s) => sum + morParamCount(s, config), 0);
}
