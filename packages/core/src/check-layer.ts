import type { MorConfig } from './config.js';
import { MorShapeError } from './errors.js';
import type { MorLayerParams } from './layer-weights.js';
import { checkDim, checkShape } from './shape-check.js';

/**
 * Throws a {@link MorShapeError} unless every tensor of `weights` has the shape its dimensions promise
 * (mor-spec.md §1), and — when `config` is given — the rank and expert count agree with it.
 */
export function checkMorLayer(
  weights: MorLayerParams,
  config?: Pick<MorConfig, 'r'> & Partial<MorConfig>,
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
  checkShape('weights.A', weights.A, [r, dIn]);
  checkShape('weights.B', weights.B, [dOut, r]);
  checkShape('weights.omegaA', weights.omegaA, [n, r]);
  checkShape('weights.omegaB', weights.omegaB, [n, dOut]);
  checkShape('weights.routerWeight', weights.routerWeight, [n, dIn]);
  if (weights.routerBias !== null) checkShape('weights.routerBias', weights.routerBias, [n]);
}
