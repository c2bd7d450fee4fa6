import { MorShapeError } from './errors.js';
import { routerLogitGrad } from './routing.js';
import { checkDim, tokenCount, type NumArray } from './shape-check.js';

/** Inputs of {@link loadBalanceLoss}. */
export interface LoadBalanceOptions {
  /** Gates `[T, N]` from the forward. */
  gates: NumArray;
  /** N, the number of experts. */
  experts: number;
}

/** The load-balancing loss and the pieces it is made of. */
export interface LoadBalanceResult {
  /** `N · Σ_i f_i · P_i`; 1 when the load is perfectly balanced, N when one expert gets everything. */
  readonly loss: number;
  /** f_i: share of tokens whose arg-max gate is expert i (ties towards the lower index), `[N]`. */
  readonly tokenShare: Float32Array;
  /** P_i: mean gate of expert i over the tokens, `[N]`. */
  readonly meanGate: Float32Array;
  /**
   * dloss/dgates `[T, N]` = `N · f_i / T`. f is a count, not differentiable, so the gradient goes through P only
   * (the usual Switch-Transformer convention). Scale by the coefficient and pass as `gateGrad` to `morBackward`.
   */
  readonly gateGrad: Float32Array;
  /**
   * dloss/d(router logits) `[T, N]` through the (top-k) softmax; meaningless for static gates, which
   * depend on no logits.
   */
  readonly logitGrad: Float32Array;
}

/** The auxiliary load-balancing loss `N · Σ_i f_i · P_i` of mor-spec.md §1 and its gradient. */
export function loadBalanceLoss(options: LoadBalanceOptions): LoadBalanceResult {
  const { gates, experts: n } = options;
  checkDim('experts', n);
  const tokens = tokenCount('gates', gates, n);
  const count = new Float64Array(n);
  const sum = new Float64Array(n);
  for (let t = 0; t < tokens; t++) {
    let best = 0;
    for (let i = 0; i < n; i++) {
      const g = gates[t * n + i];
      if (!Number.isFinite(g)) {
        throw new MorShapeError(`gates: non-finite value ${g} at token ${t}, expert ${i}`, {
          tensor: 'gates',
        });
      }
      sum[i] += g;
      if (g > gates[t * n + best]) best = i;
    }
    count[best] += 1;
  }
  let loss = 0;
  const tokenShare = new Float32Array(n);
  const meanGate = new Float32Array(n);
  const gateGrad = new Float64Array(tokens * n);
  for (let i = 0; i < n; i++) {
    const f = count[i] / tokens;
    const p = sum[i] / tokens;
    loss += f * p;
    tokenShare[i] = f;
    meanGate[i] = p;
    for (let t = 0; t < tokens; t++) gateGrad[t * n + i] = (n * f) / tokens;
  }
  return {
    loss: n * loss,
    tokenShare,
    meanGate,
    gateGrad: Float32Array.from(gateGrad),
    logitGrad: Float32Array.from(routerLogitGrad(gates, gateGrad, tokens, n)),
  };
}
