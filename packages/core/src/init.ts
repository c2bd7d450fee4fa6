import type { MorConfig } from './config.js';
import type { LoraLayerWeights, MorLayerWeights } from './layer-weights.js';
import type { MorRng } from './rng.js';
import { checkDim } from './shape-check.js';

/** Options for {@link initMorLayer}. */
export interface InitMorLayerOptions {
  /** Input features of the adapted linear layer. */
  dIn: number;
  /** Output features of the adapted linear layer. */
  dOut: number;
  /** Rank, expert count and whether the router has a bias. */
  config: Pick<MorConfig, 'r' | 'experts' | 'routerBias'>;
  /** Source of randomness; advanced by `r·dIn + N·dIn (+ N)` uniform draws. */
  rng: MorRng;
}

/** Options for {@link initLoraLayer}. */
export interface InitLoraLayerOptions {
  dIn: number;
  dOut: number;
  r: number;
  rng: MorRng;
}

/**
 * The bound of PyTorch's `kaiming_uniform_(w, a=√5)` for a weight with fan-in `fanIn`:
 * gain = √(2 / (1 + a²)) = √(1/3), bound = √3 · gain / √fanIn = 1 / √fanIn. (nn.Linear's default, and PEFT's LoRA A.)
 */
export function kaimingUniformBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/**
 * A freshly initialised MoR layer (mor-spec.md §1, init column): A and the router weight kaiming-uniform
 * (a = √5, fan-in d_in), B zeros (so the adapter starts as the identity), omegas ones, router bias
 * uniform(±1/√d_in). Draw order, fixed so a seed reproduces a layer: A (row-major), router weight, router bias.
 * The router must be random (mor-spec.md §5): with B = 0 and omega = 1 only the router breaks expert symmetry.
 */
export function initMorLayer(options: InitMorLayerOptions): MorLayerWeights {
  const { dIn, dOut, config, rng } = options;
  const { r, experts } = config;
  checkDim('dIn', dIn);
  checkDim('dOut', dOut);
  checkDim('config.r', r);
  checkDim('config.experts', experts);
  const bound = kaimingUniformBound(dIn);
  const A = rng.fillUniform(new Float32Array(r * dIn), -bound, bound);
  const routerWeight = rng.fillUniform(new Float32Array(experts * dIn), -bound, bound);
  const routerBias = config.routerBias ? rng.fillUniform(new Float32Array(experts), -bound, bound) : null;
  return {
    dIn,
    dOut,
    r,
    experts,
    A,
    B: new Float32Array(dOut * r),
    omegaA: new Float32Array(experts * r).fill(1),
    omegaB: new Float32Array(experts * dOut).fill(1),
    routerWeight,
    routerBias,
  };
}

/** A freshly initialised plain LoRA layer, as PEFT does it: A kaiming-uniform (a = √5), B zeros. */
export function initLoraLayer(options: InitLoraLayerOptions): LoraLayerWeights {
  const { dIn, dOut, r, rng } = options;
  checkDim('dIn', dIn);
  checkDim('dOut', dOut);
  checkDim('r', r);
  const bound = kaimingUniformBound(dIn);
  return {
    dIn,
    dOut,
    r,
    A: rng.fillUniform(new Float32Array(r * dIn), -bound, bound),
    B: new Float32Array(dOut * r),
  };
}
