import type { MorConfig } from './config.js';
import { MorShapeError } from './errors.js';
import { checkDim, checkShape } from './shape-check.js';

/**
 * The parameters of one MoELoRA layer (mor-spec.md §7): N independent rank-r LoRAs `B_i A_i` and a softmax
 * router, as row-major float32 arrays. The experts are stacked expert-major, so expert i's slice of `A` is a
 * PEFT `lora_A` `[r, d_in]` and its slice of `B` a PEFT `lora_B` `[d_out, r]`; `A` read as `[N·r, d_in]` is
 * `concat_i(A_i)`, the one down-projection MatMul of the graph.
 */
export interface MoeLoraLayerWeights {
  readonly dIn: number;
  readonly dOut: number;
  readonly r: number;
  readonly experts: number;
  /** `[N, r, d_in]`: expert i's down-projection `A_i` at rows `i·r … i·r + r − 1`. */
  readonly A: Float32Array;
  /** `[N, d_out, r]`: expert i's up-projection `B_i`. */
  readonly B: Float32Array;
  /** `[N, d_in]` router weight. */
  readonly routerWeight: Float32Array;
  /** `[N]` router bias, or null when the config has `routerBias: false`. */
  readonly routerBias: Float32Array | null;
}

/** {@link MoeLoraLayerWeights} with float32 or float64 arrays (float64 copies serve gradient checks). */
export interface MoeLoraLayerParams {
  readonly dIn: number;
  readonly dOut: number;
  readonly r: number;
  readonly experts: number;
  readonly A: Float32Array | Float64Array;
  readonly B: Float32Array | Float64Array;
  readonly routerWeight: Float32Array | Float64Array;
  readonly routerBias: Float32Array | Float64Array | null;
}

/**
 * Throws a {@link MorShapeError} unless every tensor of a MoELoRA layer has the shape its dimensions promise,
 * and — when `config` is given — the rank and expert count agree with it.
 */
export function checkMoeLoraLayer(
  weights: MoeLoraLayerParams,
  config?: Pick<MorConfig, 'r'> & Partial<Pick<MorConfig, 'experts'>>,
): void {
  const { dIn, dOut, r, experts: n } = weights;
  checkDim('weights.dIn', dIn);
  checkDim('weights.dOut', dOut);
  checkDim('weights.r', r);
  checkDim('weights.experts', n);
  if (config !== undefined && config.r !== r) {
    throw new MorShapeError(`weights.r: the layer has rank ${r} but the config says r = ${config.r}`, {
      tensor: 'weights.r',
    });
  }
  if (config?.experts !== undefined && config.experts !== n) {
    throw new MorShapeError(
      `weights.experts: the layer has ${n} experts but the config says ${config.experts}`,
      {
        tensor: 'weights.experts',
      },
    );
  }
  checkShape('weights.A', weights.A, [n, r, dIn]);
  checkShape('weights.B', weights.B, [n, dOut, r]);
  checkShape('weights.routerWeight', weights.routerWeight, [n, dIn]);
  if (weights.routerBias !== null) checkShape('weights.routerBias', weights.routerBias, [n]);
}
