import type { GraphBuilder } from '../graph/graph-builder.js';
import { gatesFromLogits, type MorBranchValues, type MorParamValues, type MorRouting } from './mor-branch.js';

/** Sizes of one MoR layer, and how its down-projection is emitted. */
export interface MorTrainDims {
  n: number;
  r: number;
  /**
   * Keep `x·Aᵀ` its own MatMul: adapter dropout (`@mor/transformers` train/adapter-dropout.ts) drops x on exactly
   * that edge while the router sees x undropped (mor-spec §1). Without dropout A and the router share one MatMul.
   */
  separateDownProjection: boolean;
  /** Dense (the paper's) or top-k routing; static routing keeps the general branch. */
  routing: Exclude<MorRouting, { mode: 'static' }>;
}

/** First opset the training form supports (the autodiff's Softmax rule reads opset-13 semantics). */
export const MOR_TRAIN_BRANCH_MIN_OPSET = 13;

/**
 * The dense or top-k MoR branch for training (parameters are graph inputs): the same function as
 * {@link emitMorBranch} (mor-spec.md §2) in few, shape-agnostic kernels, so forward and backward stay cheap
 * per token and carry no run-time shape logic:
 *
 * ```
 * [u, l] = Split(x · [A; W_g]ᵀ)                one MatMul for the down-projection and the router logits
 * g      = Softmax(l (+ b_g))                  [..., N] (the gates; top-k: over the k largest, 0 elsewhere)
 * u_rep  = u · T_u                             T_u: [r, N·r] 0/1, u_rep[i·r+k] = u[k]
 * g_rep  = g · E                               E: [N, N·r] 0/1, g_rep[i·r+k] = g_i
 * delta  = (u_rep ⊙ g_rep) · up                up = scaling·B_expᵀ  [N·r, d_out]
 * up     = (S · Bᵀ) ⊙ (Eᵀ · ω_B) ⊙ vec(ω_A)    parameter-only, once per step: two small MatMuls and Muls
 * ```
 *
 * `u_rep ⊙ g_rep` is `z = g ⊗ u` flattened expert-major. The softmax runs over the N logits (its backward on
 * `[..., N]`, not `[..., N·r]`). With `separateDownProjection` u and l come from two MatMuls instead.
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
    return b.f(data, [rows, cols], base);
  };
  const expert = (c: number) => Math.floor(c / r); // column c of a repeated vector belongs to expert c / r
  const rank = (c: number) => c % r;

  const [u, l] = downAndRouter(b, x, p, dims);
  const g = gatesFromLogits(b, p.routerBias ? b.op1('Add', [l, p.routerBias]) : l, dims.routing); // [..., N]
  const uRep = b.op1('MatMul', [u, constant('tile_u', r, nr, (k, c) => Number(rank(c) === k))]);
  const gRep = b.op1('MatMul', [g, constant('spread_gates', n, nr, (i, c) => Number(expert(c) === i))]);
  const z = b.op1('Mul', [uRep, gRep]);

  const { B, omegaA, omegaB, scaling } = p.expert;
  const tileB = constant('tile_b', nr, r, (c, k) => (rank(c) === k ? scaling : 0)); // scaling·Bᵀ per expert
  const spreadB = constant('spread_omega_b', nr, n, (c, i) => Number(expert(c) === i));
  const upB = b.op1('MatMul', [tileB, b.transpose(B, [1, 0])]); // [N·r, d_out]
  const upOmegaB = b.op1('MatMul', [spreadB, omegaB]); // [N·r, d_out]
  const omegaACol = b.op1('Reshape', [omegaA, b.i64([nr, 1])]);
  const up = b.op1('Mul', [b.op1('Mul', [upB, upOmegaB]), omegaACol]);
  const delta = b.op1('MatMul', [z, up]);
  return { delta, gates: withGates ? g : null };
}

/** `u = x·Aᵀ` `[..., r]` and the router logits `l = x·W_gᵀ` `[..., N]`. */
function downAndRouter(b: GraphBuilder, x: string, p: MorParamValues, dims: MorTrainDims): [string, string] {
  const down = (w: string) => b.op1('MatMul', [x, b.transpose(w, [1, 0])]);
  if (dims.separateDownProjection) return [down(p.A), down(p.routerWeight!)];
  // Concat of two small parameters (once per step); its gradient is a Split.
  const both = b.op1('Concat', [p.A, p.routerWeight!], { axis: { int: 0 } }); // [r + N, d_in]
  const [u, l] = b.op('Split', [down(both), b.i64([dims.r, dims.n])], { axis: { int: -1 } }, 2);
  return [u!, l!];
}
