import type { MorConfig } from './config.js';
import { kaimingUniformBound } from './init.js';
import type { MoeLoraLayerWeights } from './moelora-layer.js';
import type { MorRng } from './rng.js';
import { checkDim } from './shape-check.js';

/** Options for {@link initMoeLoraLayer}. */
export interface InitMoeLoraLayerOptions {
  /** Input features of the adapted linear layer. */
  dIn: number;
  /** Output features of the adapted linear layer. */
  dOut: number;
  /** Rank per expert, expert count and whether the router has a bias. */
  config: Pick<MorConfig, 'r' | 'experts' | 'routerBias'>;
  /** Source of randomness; advanced by `N·r·d_in + N·d_in (+ N)` uniform draws. */
  rng: MorRng;
}

/**
 * A freshly initialised MoELoRA layer (mor-spec.md §7): every `A_i` kaiming-uniform (a = √5, fan-in d_in) as
 * PEFT's LoRA A, every `B_i` zeros (the adapter starts as the identity), the router as MoR's (kaiming-uniform
 * weight, bias uniform(±1/√d_in)). Draw order, fixed so a seed reproduces a layer: A (expert by expert,
 * row-major), router weight, router bias. Unlike MoR the experts differ from the start (independent A_i).
 */
export function initMoeLoraLayer(options: InitMoeLoraLayerOptions): MoeLoraLayerWeights {
  const { dIn, dOut, config, rng } = options;
  const { r, experts } = config;
  checkDim('dIn', dIn);
  checkDim('dOut', dOut);
  checkDim('config.r', r);
  checkDim('config.experts', experts);
  const bound = kaimingUniformBound(dIn);
  const A = rng.fillUniform(new Float32Array(experts * r * dIn), -bound, bound);
  const routerWeight = rng.fillUniform(new Float32Array(experts * dIn), -bound, bound);
  const routerBias = config.routerBias ? rng.fillUniform(new Float32Array(experts), -bound, bound) : null;
  return { dIn, dOut, r, experts, A, B: new Float32Array(experts * dOut * r), routerWeight, routerBias };
}
