import { moeLoraForwardF64, type MoeLoraForwardOptions } from './moelora-forward.js';
import { linearPathsBackward, routerBackward } from './reference-parts.js';
import { checkShape, type NumArray } from './shape-check.js';

/** Inputs of {@link moeLoraBackward}: the forward's inputs plus the upstream gradient. */
export interface MoeLoraBackwardOptions extends MoeLoraForwardOptions {
  /** dL/dy, `[T, d_out]`. */
  upstream: NumArray;
  /** An extra dL/dgates `[T, N]` added before the router backward, e.g. `coef ·` `loadBalanceLoss(...).gateGrad`. */
  gateGrad?: NumArray | null;
}

/** Gradients of the loss; `F` is Float32Array from {@link moeLoraBackward}, Float64Array from the F64 one. */
export interface MoeLoraGradients<F extends NumArray = Float32Array> {
  /** `[N, r, d_in]`. */
  readonly A: F;
  /** `[N, d_out, r]`. */
  readonly B: F;
  /** `[N, d_in]`. */
  readonly routerWeight: F;
  /** `[N]`; null for a router without bias. */
  readonly routerBias: F | null;
  /** dL/dx `[T, d_in]`: base path, expert path (through the dropout mask) and router path. */
  readonly x: F;
  /** dL/d(router logits) `[T, N]`; zero for unselected top-k experts. */
  readonly logits: F;
}

/**
 * The reference MoELoRA backward, in float64: recomputes the forward, then the chain rule of mor-spec.md §7
 * token by token (`dB_i += s·g_i·dy ⊗ u_i`, `du_i = s·g_i·B_iᵀ dy`, `dg_i = s·dy · B_i u_i`, then the router
 * softmax backward shared with MoR).
 */
export function moeLoraBackwardF64(options: MoeLoraBackwardOptions): MoeLoraGradients<Float64Array> {
  const { tokens, gates, u } = moeLoraForwardF64(options);
  const { x, weights, config, upstream, gateGrad } = options;
  const { dIn, dOut, r, experts: n, A, B, routerWeight } = weights;
  checkShape('upstream', upstream, [tokens, dOut]);
  if (gateGrad !== undefined && gateGrad !== null) checkShape('gateGrad', gateGrad, [tokens, n]);
  const scaling = config.alpha / config.r;
  const nr = n * r;

  const gA = new Float64Array(nr * dIn);
  const gB = new Float64Array(n * dOut * r);
  const gX = new Float64Array(tokens * dIn);
  const gGates = new Float64Array(tokens * n);
  const gU = new Float64Array(nr);
  for (let t = 0; t < tokens; t++) {
    gU.fill(0);
    for (let i = 0; i < n; i++) {
      const g = gates[t * n + i];
      if (g === 0) continue; // unselected: no output, and the router backward multiplies its gate gradient by 0
      let dGate = 0;
      for (let o = 0; o < dOut; o++) {
        const gy = upstream[t * dOut + o];
        const row = (i * dOut + o) * r;
        let v = 0; // (B_i u_i)[o]
        for (let k = 0; k < r; k++) {
          const uk = u[t * nr + i * r + k];
          v += B[row + k] * uk;
          gB[row + k] += scaling * g * gy * uk;
          gU[i * r + k] += scaling * g * gy * B[row + k];
        }
        dGate += scaling * gy * v;
      }
      gGates[t * n + i] = dGate;
    }
    // u = A · (x ⊙ mask) with A read as [N·r, d_in], and the base path y = W x
    linearPathsBackward(t, gU, { ...options, A }, dIn, dOut, gA, gX);
  }

  const router = routerBackward(
    x,
    routerWeight,
    weights.routerBias !== null,
    gates,
    gGates,
    gateGrad,
    tokens,
    n,
    dIn,
    gX,
  );
  return { A: gA, B: gB, ...router, x: gX };
}

/** The reference MoELoRA backward: float64 inside, float32 out. Top-k: only the selected logits get a gradient. */
export function moeLoraBackward(options: MoeLoraBackwardOptions): MoeLoraGradients<Float32Array> {
  const g = moeLoraBackwardF64(options);
  return {
    A: Float32Array.from(g.A),
    B: Float32Array.from(g.B),
    routerWeight: Float32Array.from(g.routerWeight),
    routerBias: g.routerBias === null ? null : Float32Array.from(g.routerBias),
    x: Float32Array.from(g.x),
    logits: Float32Array.from(g.logits),
  };
}
