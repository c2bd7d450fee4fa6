import type { MorRouting } from '@mor/core';
import { GraphError } from '../errors.js';
import type { GraphBuilder } from '../graph/graph-builder.js';
import { emitLoraBranch, type BranchValues } from './lora-branch.js';

/** Value names of one layer's MoR parameters (graph inputs for training, else initializers or fold values). */
export interface MorParamValues {
  A: string;
  B: string;
  omegaA: string;
  omegaB: string;
  /** Absent for static routing (no router). */
  routerWeight?: string;
  routerBias?: string;
}

/**
 * Value names of one layer's MoELoRA parameters (mor-spec.md §7): the experts stacked expert-major, as
 * `MoeLoraLayerWeights` holds them.
 */
export interface MoeLoraParamValues {
  kind: 'moelora';
  /** `[N·r, d_in]` = `concat_i(A_i)`. */
  A: string;
  /** `[N, d_out, r]`: `B_i` stacked. */
  B: string;
  routerWeight: string;
  routerBias?: string;
}

/** Sizes and form of one MoR (or MoELoRA) branch. */
export interface MorBranchOptions {
  n: number;
  r: number;
  /** `alpha / r` (`morScaling`). */
  scaling: number;
  routing: MorRouting;
  /**
   * Where the softmax runs. `experts` (training): over the N logits, then 0/1 selector MatMuls spread gates and u
   * to N·r — its backward stays on `[..., N]`. `copies` (inference, and models below opset 13): one selector MatMul
   * spreads `[u | logits]` first and the softmax runs over the N·r copies (`softmax(rep(l)) = rep(g)/r`, the r
   * goes into `up`): one kernel less per layer.
   */
  softmaxOver: 'experts' | 'copies';
  /**
   * Keep `x·Aᵀ` its own MatMul (training with adapter dropout, which drops x on exactly that edge while the router
   * sees x undropped, mor-spec §1); otherwise A and the router share one MatMul.
   */
  separateDownProjection: boolean;
  /** Return the gates `[..., N]` (`[N]` for static routing); else `gates` is null. */
  exposeGates: boolean;
}

/**
 * The gates from router logits: a softmax over all of them (dense), or over the k largest with 0 elsewhere
 * (top-k; ONNX TopK puts the lower index first among equal values, the spec's tie rule). Over logits repeated
 * `copies` times per expert (contiguous), top-k keeps k·copies of them: the copies of one expert tie and stay
 * together.
 */
function gatesFromLogits(b: GraphBuilder, logits: string, routing: MorRouting, copies: number): string {
  if (routing.mode !== 'top-k') return b.softmaxLast(logits);
  b.requireOpset(11, 'top-k routing (TopK with K input, ScatterElements)');
  const topK = { axis: { int: -1 }, largest: { int: 1 }, sorted: { int: 1 } };
  const [values, indices] = b.op('TopK', [logits, b.i64([routing.k * copies])], topK, 2);
  const zeros = b.zerosLike(logits);
  return b.op1('ScatterElements', [zeros, indices!, b.softmaxLast(values!)], { axis: { int: -1 } });
}

/**
 * The one MoR branch (mor-spec.md §2) on float32 `x` `[..., d_in]`, in few, shape-agnostic kernels (no run-time
 * shape logic, cheap per token forward and backward). Parameter-only products are graph ops: training
 * differentiates through them, the inference form folds them into constants (`products`, pass/fold-constants.ts).
 *
 * ```
 * h      = x · [A; W_g]ᵀ                           one MatMul for the down-projection and the router logits
 * experts: [u, l] = Split(h);  g = gates(l + b_g)    [..., N] (top-k: the k largest, 0 elsewhere)
 *          z = (u · T_u) ⊙ (g · (s·E ⊙ vec(ω_A)ᵀ))   T_u [r, N·r], E [N, N·r] 0/1: u_rep[i·r+k] = u[k], g_i
 *          delta = z · up,  up = Reshape(Bᵀ ⊙ ω_B[:, None, :])    [N·r, d_out]: row i·r+k = ω_B[i] ⊙ B[:, k]
 * copies:  [u_rep, l_rep] = Split(h · expand)        expand = diag(T_u, E)
 *          z = u_rep ⊙ gates(l_rep + b_g·E)          = (g ⊗ u) / r (top-k over k·r copies)
 *          delta = z · up,  up = s·B_expᵀ [N·r, d_out], s = scaling·r
 *          up = (S · Bᵀ) ⊙ (Eᵀ · ω_B) ⊙ vec(ω_A)      parameter-only: S [N·r, r] holds s at (i·r+k, k)
 * ```
 *
 * `z` is `g ⊗ u` flattened expert-major (in the training form times `s·vec(ω_A)`: `z·up` is the same
 * `s·B_exp·(g ⊗ u)`). The training form keeps ω_A and s on the token side, `[..., N·r]`, so that the backward
 * holds `up` and no other `[N·r, d_out]` product per projection (the copies form's chain keeps four: ~120 MB at
 * SmolLM2-135M's shape, bench/README.md); putting ω_B there too would cost `[..., N, d_out]` per token.
 * Static routing is the rank-r LoRA of mor-spec.md §3:
 * `B_static = B ⊙ M`, `M = (g ⊙ ω_B)ᵀ · ω_A`, through {@link emitLoraBranch}.
 *
 * MoELoRA (`p.kind === 'moelora'`, mor-spec.md §7) is the same branch with independent experts: `A` is already
 * `concat_i(A_i)` `[N·r, d_in]`, so `u` needs no tiling (`T_u` = identity, dropped), the copies form spreads the
 * router rows instead (`h = x · [A; Eᵀ·W_g]ᵀ`, one MatMul, no `expand`), and `up = s·B_catᵀ` is
 * `s · Reshape(Transpose(B, [0, 2, 1]), [N·r, d_out])`. It has no static routing.
 */
export function emitMorBranch(
  b: GraphBuilder,
  x: string,
  p: MorParamValues | MoeLoraParamValues,
  o: MorBranchOptions,
): BranchValues {
  const { n, r, routing } = o;
  const independent = 'kind' in p;
  if (routing.mode === 'static' && independent)
    throw new GraphError('MoELoRA has no static routing (its router is part of the adapter)');
  if (routing.mode === 'static' && !independent) {
    const gateColumn = b.f(routing.gate, [n, 1], 'gate');
    const m = b.op1('MatMul', [b.transpose(b.op1('Mul', [p.omegaB, gateColumn]), [1, 0]), p.omegaA]);
    const lora = emitLoraBranch(b, x, { A: p.A, B: b.op1('Mul', [p.B, m]) }, o.scaling);
    // An initializer no node reads makes onnxruntime warn, so the constant gate exists only when exposed.
    return { ...lora, gates: o.exposeGates ? b.f(routing.gate, undefined, 'gate') : null };
  }
  const nr = n * r;
  const constant = (base: string, rows: number, cols: number, at: (i: number, k: number) => number) => {
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) data[i * cols + k] = at(i, k);
    return b.f(data, [rows, cols], base);
  };
  const expert = (c: number) => Math.floor(c / r); // column c of a repeated vector belongs to expert c / r
  const rank = (c: number) => c % r;
  const products = new Map<string, string>();
  const product = (value: string, name: string) => (products.set(value, name), value);
  const matmulT = (w: string, base?: string) => {
    const wT = b.transpose(w, [1, 0]);
    return b.op1('MatMul', [x, base ? product(wT, base) : wT]);
  };

  const uWidth = independent ? nr : r; // rows of A
  const concatRows = (parts: string[]) => b.op1('Concat', parts, { axis: { int: 0 } });
  let z: string;
  let gates: string | null = null;
  if (o.softmaxOver === 'experts') {
    const [u, l] = o.separateDownProjection
      ? [matmulT(p.A), matmulT(p.routerWeight!)]
      : b.split(matmulT(concatRows([p.A, p.routerWeight!]), 'down'), [uWidth, n]);
    const g = gatesFromLogits(b, p.routerBias ? b.op1('Add', [l!, p.routerBias]) : l!, routing, 1);
    const uRep = independent
      ? u!
      : b.op1('MatMul', [u!, constant('tile_u', r, nr, (k, c) => Number(rank(c) === k))]);
    // MoR: the scaling and ω_A ride on the gate spread (parameter-only, [N, N·r]), so z carries s·g_i·ω_A[i,k]
    // and the up-projection is B ⊙ ω_B alone (see below).
    const spread = independent
      ? constant('spread_gates', n, nr, (i, c) => Number(expert(c) === i))
      : b.op1('Mul', [
          constant('spread_gates_scaled', n, nr, (i, c) => (expert(c) === i ? o.scaling : 0)),
          b.op1('Reshape', [p.omegaA, b.i64([1, nr])]),
        ]);
    z = b.op1('Mul', [uRep, b.op1('MatMul', [g, spread])]);
    if (o.exposeGates) gates = g;
  } else {
    let uRep: string | undefined;
    let lRep: string | undefined;
    if (independent) {
      // Router rows repeated r times (Eᵀ·W_g, parameter-only): u and the logit copies come out of one MatMul.
      const routerRep = b.op1('MatMul', [
        constant('spread_router', nr, n, (c, i) => Number(expert(c) === i)),
        p.routerWeight,
      ]);
      [uRep, lRep] = b.split(matmulT(concatRows([p.A, routerRep]), 'down'), [nr, nr]);
    } else {
      const h = matmulT(concatRows([p.A, p.routerWeight!]), 'down'); // [..., r + N]
      const expand = constant('expand', r + n, 2 * nr, (k, c) =>
        Number(k < r ? c < nr && rank(c) === k : c >= nr && expert(c - nr) === k - r),
      );
      [uRep, lRep] = b.split(b.op1('MatMul', [h, product(expand, 'expand')]), [nr, nr]);
    }
    let logits = lRep!;
    if (p.routerBias) {
      const spread = constant('spread_gates', n, nr, (i, c) => Number(expert(c) === i));
      logits = b.op1('Add', [logits, product(b.op1('MatMul', [p.routerBias, spread]), 'routerBiasRep')]);
    }
    const gRep = gatesFromLogits(b, logits, routing, r); // rep(g) / r
    z = b.op1('Mul', [uRep!, gRep]);
    if (o.exposeGates) {
      const fromRep = constant('gates_from_rep', nr, n, (c, i) => (c === i * r ? r : 0));
      gates = b.op1('MatMul', [gRep, product(fromRep, 'gatesFromRep')]);
    }
  }

  const s = o.softmaxOver === 'copies' ? o.scaling * r : o.scaling;
  if (independent) {
    // B_catᵀ [N·r, d_out]: row i·r + k is column k of B_i.
    const bCatT = b.op1('Reshape', [b.transpose(p.B, [0, 2, 1]), b.i64([nr, -1])]);
    const up = product(b.op1('Mul', [bCatT, b.f(s, [], 'scaling')]), 'up');
    return { delta: b.op1('MatMul', [z, up]), gates, products };
  }
  if (o.softmaxOver === 'experts') {
    // Training: up = B_expᵀ without ω_A and s (they are in z): row i·r + k is ω_B[i] ⊙ B[:, k], one broadcast Mul
    // [r, d_out] ⊙ [N, 1, d_out] of parameters. Its gradients need only B and ω_B, so the backward keeps no
    // [N·r, d_out] intermediate besides up itself (the selector form below keeps four per projection).
    const up3 = b.op1('Mul', [b.transpose(p.B, [1, 0]), b.op1('Reshape', [p.omegaB, b.i64([n, 1, -1])])]);
    return { delta: b.op1('MatMul', [z, b.op1('Reshape', [up3, b.i64([nr, -1])])]), gates, products };
  }
  const tileB = constant('tile_b', nr, r, (c, k) => (rank(c) === k ? s : 0)); // s·Bᵀ per expert
  const spreadB = constant('spread_omega_b', nr, n, (c, i) => Number(expert(c) === i));
  const upB = b.op1('MatMul', [tileB, b.transpose(p.B, [1, 0])]); // [N·r, d_out]
  const upOmegaB = b.op1('MatMul', [spreadB, p.omegaB]); // [N·r, d_out]
  const omegaACol = b.op1('Reshape', [p.omegaA, b.i64([nr, 1])]);
  const up = product(b.op1('Mul', [b.op1('Mul', [upB, upOmegaB]), omegaACol]), 'up');
  return { delta: b.op1('MatMul', [z, up]), gates, products };
}
