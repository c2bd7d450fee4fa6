import type { MorLayerWeights } from '@mor/core';
import type { GraphBuilder } from '../graph/graph-builder.js';
import { expandedBTransposed } from '../math/adapter-math.js';
import { gatesFromLogits, type MorRouting } from './mor-branch.js';

/**
 * The constants of a folded MoR branch (see {@link emitFoldedMorBranch}), computed once from the parameters.
 * Shapes are row-major, ready to be the right operand of a MatMul.
 */
export interface FoldedMorWeights {
  /** `[d_in, r + N]`: `[A^T | W_g^T]` (`[d_in, r]`, just `A^T`, for static routing). */
  down: Float32Array;
  /** `[r + N, 2·N·r]` 0/1 selector: `h · expand = [u_rep | logits_rep]` (absent for static routing). */
  expand: Float32Array | null;
  /** `[N·r]` router bias repeated like the logits (only with a router bias, not for static routing). */
  biasRep: Float32Array | null;
  /** `[N·r, d_out]` `r·scaling·B_exp^T`, or for static routing `[r, d_out]` `(scaling·B ⊙ M)^T`. */
  up: Float32Array;
  /** `[N·r, N]` reads the gates back from `g_rep` (`r` at `(i·r, i)`): only needed to expose them. */
  gatesFromRep: Float32Array | null;
}

/**
 * Folds every parameter-only product of a MoR layer into constants for inference. With `rep(v)` repeating each
 * expert's entry r times (expert-major, the layout of `z` in mor-spec.md §2), the branch uses
 * `g ⊗ u = (r · rep(g)) ⊙ tile(u)` and `softmax(rep(logits)) = rep(g) / r`: a softmax over the repeated logits,
 * so the r goes into `up`. Top-k works the same way with k·r kept entries.
 */
export function foldMorWeights(w: MorLayerWeights, routing: MorRouting, scaling: number): FoldedMorWeights {
  const { dIn, r, experts: n } = w;
  if (routing.mode === 'static') {
    // A fixed gate collapses MoR into a rank-r LoRA (mor-spec.md §3): delta = (x·A^T)·(scaling·B ⊙ M)^T.
    const bStatic = staticDeltaFactor(w, routing.gate, scaling);
    return { down: transpose(w.A, r, dIn), expand: null, biasRep: null, up: bStatic, gatesFromRep: null };
  }
  const cols = r + n;
  const down = new Float32Array(dIn * cols);
  for (let c = 0; c < dIn; c++) {
    for (let k = 0; k < r; k++) down[c * cols + k] = w.A[k * dIn + c]!;
    for (let i = 0; i < n; i++) down[c * cols + r + i] = w.routerWeight[i * dIn + c]!;
  }
  const nr = n * r;
  const expand = new Float32Array(cols * 2 * nr);
  const gatesFromRep = new Float32Array(nr * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++) {
      expand[k * 2 * nr + i * r + k] = 1; // u_rep[i·r + k] = u[k]
      expand[(r + i) * 2 * nr + nr + i * r + k] = 1; // logits_rep[i·r + k] = logits[i]
    }
    gatesFromRep[i * r * n + i] = r;
  }
  let biasRep: Float32Array | null = null;
  if (w.routerBias) {
    const bias = w.routerBias;
    biasRep = Float32Array.from({ length: nr }, (_, c) => bias[Math.floor(c / r)]!);
  }
  return { down, expand, biasRep, up: expandedBTransposed(w, r * scaling), gatesFromRep };
}

/** `(scaling · B ⊙ M)^T`, `[r, d_out]`, with `M[j,k] = Σ_i g_i ω_B[i,j] ω_A[i,k]` (mor-spec.md §3). */
function staticDeltaFactor(w: MorLayerWeights, gate: Float32Array, scaling: number): Float32Array {
  const { r, dOut, experts: n } = w;
  const out = new Float32Array(r * dOut);
  for (let j = 0; j < dOut; j++) {
    for (let k = 0; k < r; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += gate[i]! * w.omegaB[i * dOut + j]! * w.omegaA[i * r + k]!;
      out[k * dOut + j] = scaling * w.B[j * r + k]! * m;
    }
  }
  return out;
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j]!;
  return out;
}

/** Value names of a folded branch's constants (initializers). */
export interface FoldedMorValues {
  down: string;
  expand: string | null;
  biasRep: string | null;
  up: string;
  gatesFromRep: string | null;
}

/**
 * Emits the folded MoR branch on float32 `x` `[..., d_in]`: few, shape-agnostic kernels (no Shape, Reshape or
 * Unsqueeze), which is what matters for one-token decode steps, where kernel dispatch costs more than the
 * arithmetic of these small products.
 *
 * - dense: `h = x·down`, `[u_rep, l_rep] = Split(h·expand)`, `z = u_rep ⊙ Softmax(l_rep (+ b_rep))`,
 *   `delta = z·up` — 6 kernels (LoRA: 2; the unfolded form: 11);
 * - top-k: TopK over `l_rep` with k·r entries (copies of one expert tie and stay together; ties between experts go
 *   to the lower index, as in the unfolded form), softmax over them, scattered into zeros;
 * - static: `delta = (x·A^T)·up`, a plain rank-r LoRA.
 */
export function emitFoldedMorBranch(
  b: GraphBuilder,
  x: string,
  v: FoldedMorValues,
  routing: MorRouting,
  dims: { n: number; r: number },
  exposeGates: boolean,
): { delta: string; gates: string | null } {
  const h = b.op1('MatMul', [x, v.down]);
  if (routing.mode === 'static') {
    const delta = b.op1('MatMul', [h, v.up]);
    // An initializer no node reads makes onnxruntime warn, so the constant gate exists only when exposed.
    if (!exposeGates) return { delta, gates: null };
    return { delta, gates: b.f(routing.gate, undefined, 'gate') };
  }
  const nr = dims.n * dims.r;
  const halves = b.op1('MatMul', [h, v.expand!]);
  const axis = { axis: { int: -1 } };
  const [uRep, logitsSplit] =
    b.opset >= 13
      ? b.op('Split', [halves, b.i64([nr, nr])], axis, 2)
      : b.op('Split', [halves], { ...axis, split: { ints: [nr, nr] } }, 2);
  const logits = v.biasRep ? b.op1('Add', [logitsSplit!, v.biasRep]) : logitsSplit!;
  // Copies of one expert tie in the repeated logits and stay together: top-k keeps k·r of them.
  const gRep = gatesFromLogits(
    b,
    logits,
    routing.mode === 'dense' ? routing : { ...routing, k: routing.k * dims.r },
  );
  const delta = b.op1('MatMul', [b.op1('Mul', [uRep!, gRep]), v.up]);
  // The gates themselves are not on the delta path; read them back only when asked.
  const gates = exposeGates ? b.op1('MatMul', [gRep, v.gatesFromRep!]) : null;
  return { delta, gates };
}
