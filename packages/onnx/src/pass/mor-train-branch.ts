import type { GraphBuilder } from '../graph/graph-builder.js';
import { floatTensor } from '../graph/tensor-data.js';
import type { MorBranchValues, MorParamValues } from './mor-branch.js';

/** Sizes of one MoR layer. */
export interface MorTrainDims {
  n: number;
  r: number;
}

/** First opset the training form supports (the autodiff's Softmax rule reads opset-13 semantics). */
export const MOR_TRAIN_BRANCH_MIN_OPSET = 13;

/**
 * The dense MoR branch for training (parameters are graph inputs): the same function as
 * {@link emitMorBranch} (mor-spec.md §2) in few, shape-agnostic kernels, so forward and backward stay cheap
 * per token and carry no run-time shape logic:
 *
 * ```
 * u_rep  = (x · Aᵀ) · T_u                     T_u: [r, N·r] 0/1, u_rep[i·r+k] = u[k]
 * l_rep  = (x · W_gᵀ) · E                      E: [N, N·r] 0/1, l_rep[i·r+k] = logit_i
 * g_rep  = Softmax(l_rep (+ b_g · E))          = g_i / r   (r copies of each logit)
 * delta  = (u_rep ⊙ g_rep) · up               up = r·scaling·B_expᵀ  [N·r, d_out]
 * up     = (R_r · Bᵀ) ⊙ (E_N · ω_B) ⊙ vec(ω_A)  parameter-only, once per step: two small MatMuls and Muls
 * ```
 *
 * `z = g ⊗ u` is `r · u_rep ⊙ g_rep`; the factor r sits in R_r. The gates, when asked for, are
 * `g = g_rep · G` (G sums each expert's r copies).
 */
export function emitMorTrainBranch(
  b: GraphBuilder,
  x: string,
  p: MorParamValues,
  dims: MorTrainDims,
  withGates: boolean,
): MorBranchValues | { delta: string; gates: null } {
  const { n, r } = dims;
  const nr = n * r;
  const constant = (base: string, rows: number, cols: number, at: (i: number, k: number) => number) => {
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) data[i * cols + k] = at(i, k);
    return b.initializer(base, (name) => floatTensor(name, [rows, cols], data));
  };
  const expert = (c: number) => Math.floor(c / r); // column c of a repeated vector belongs to expert c / r
  const rank = (c: number) => c % r;

  // x·Aᵀ stays its own MatMul: adapter dropout (train/adapter-dropout.ts) drops x on exactly that edge.
  const u = b.op1('MatMul', [x, b.transpose(p.A, [1, 0])]); // [..., r]
  const l = b.op1('MatMul', [x, b.transpose(p.routerWeight!, [1, 0])]); // [..., N]
  const uRep = b.op1('MatMul', [u, constant('tile_u', r, nr, (k, c) => Number(rank(c) === k))]);
  const spread = constant('spread_logits', n, nr, (i, c) => Number(expert(c) === i));
  let logits = b.op1('MatMul', [l, spread]);
  if (p.routerBias) logits = b.op1('Add', [logits, b.op1('MatMul', [p.routerBias, spread])]);
  const gRep = b.softmaxLast(logits);
  const z = b.op1('Mul', [uRep, gRep]);

  const { B, omegaA, omegaB, scaling } = p.expert;
  const tileB = constant('tile_b', nr, r, (c, k) => (rank(c) === k ? r * scaling : 0)); // r·scaling·Bᵀ per expert
  const spreadB = constant('spread_omega_b', nr, n, (c, i) => Number(expert(c) === i));
  const upB = b.op1('MatMul', [tileB, b.transpose(B, [1, 0])]); // [N·r, d_out]
  const upOmegaB = b.op1('MatMul', [spreadB, omegaB]); // [N·r, d_out]
  const omegaACol = b.op1('Reshape', [omegaA, b.ints('omega_a_col', [nr, 1])]);
  const up = b.op1('Mul', [b.op1('Mul', [upB, upOmegaB]), omegaACol]);
  const delta = b.op1('MatMul', [z, up]);
  if (!withGates) return { delta, gates: null };
  const gather = constant('gates_from_rep', nr, n, (c, i) => Number(expert(c) === i));
  return { delta, gates: b.op1('MatMul', [gRep, gather]) };
}
