import { routerLogitGrad } from './routing.js';
import { checkShape, tokenCount, type NumArray } from './shape-check.js';

/**
 * The pieces the MoR and MoELoRA references share: both are a frozen linear layer plus a routed low-rank branch
 * whose down-projection reads the (dropped-out) input, so the input checks, the down-projection and base-path
 * backward and the router backward are written once, here.
 */

/** The inputs every adapted linear layer has. */
export interface LinearInputs {
  x: NumArray;
  baseWeight: NumArray;
  baseBias?: NumArray | null;
  dropoutMask?: NumArray | null;
}

/** Checks `x`, the base layer and the dropout mask against `[d_out, d_in]`; returns the token count T. */
export function checkLinearInputs(inputs: LinearInputs, dIn: number, dOut: number): number {
  const { x, baseWeight, baseBias, dropoutMask } = inputs;
  const tokens = tokenCount('x', x, dIn);
  checkShape('baseWeight', baseWeight, [dOut, dIn]);
  if (baseBias !== undefined && baseBias !== null) checkShape('baseBias', baseBias, [dOut]);
  if (dropoutMask !== undefined && dropoutMask !== null)
    checkShape('dropoutMask', dropoutMask, [tokens, dIn]);
  return tokens;
}

/**
 * Token `t` of `u = A · (x ⊙ mask)` (A `[rows, d_in]`) and of the base path `y = W x`, backwards:
 * `dA += du ⊗ (x ⊙ mask)`, `dx += mask ⊙ (Aᵀ du) + Wᵀ dy`.
 */
export function linearPathsBackward(
  t: number,
  gU: Float64Array,
  inputs: LinearInputs & { A: NumArray; upstream: NumArray },
  dIn: number,
  dOut: number,
  gA: Float64Array,
  gX: Float64Array,
): void {
  const { x, A, baseWeight, dropoutMask, upstream } = inputs;
  for (let c = 0; c < gU.length; c++) {
    const du = gU[c];
    if (du === 0) continue;
    for (let j = 0; j < dIn; j++) {
      const m = dropoutMask ? dropoutMask[t * dIn + j] : 1;
      gA[c * dIn + j] += du * x[t * dIn + j] * m;
      gX[t * dIn + j] += du * A[c * dIn + j] * m;
    }
  }
  for (let o = 0; o < dOut; o++) {
    const gy = upstream[t * dOut + o];
    for (let j = 0; j < dIn; j++) gX[t * dIn + j] += gy * baseWeight[o * dIn + j];
  }
}

/** The router's gradients; `logits` is dL/d(router logits) `[T, N]`. */
export interface RouterGradients {
  routerWeight: Float64Array;
  routerBias: Float64Array | null;
  logits: Float64Array;
}

/**
 * The router backward: `gateGrad` (e.g. the load-balance loss's) is added to `gGates` in place, then the
 * softmax / top-k backward, then `dW_g += dz ⊗ x`, `db_g += dz`, `dx += W_gᵀ dz` (into `gX`).
 */
export function routerBackward(
  x: NumArray,
  routerWeight: NumArray,
  hasBias: boolean,
  gates: NumArray,
  gGates: Float64Array,
  gateGrad: NumArray | null | undefined,
  tokens: number,
  n: number,
  dIn: number,
  gX: Float64Array,
): RouterGradients {
  if (gateGrad) for (let j = 0; j < gGates.length; j++) gGates[j] += gateGrad[j];
  const logits = routerLogitGrad(gates, gGates, tokens, n);
  const gW = new Float64Array(n * dIn);
  const gBias = hasBias ? new Float64Array(n) : null;
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < n; i++) {
      const dz = logits[t * n + i];
      if (dz === 0) continue;
      if (gBias) gBias[i] += dz;
      for (let j = 0; j < dIn; j++) {
        gW[i * dIn + j] += dz * x[t * dIn + j];
        gX[t * dIn + j] += dz * routerWeight[i * dIn + j];
      }
    }
  }
  return { routerWeight: gW, routerBias: gBias, logits };
}
