import { checkShape, type NumArray } from './shape-check.js';
import { morForwardF64, type MorForwardOptions } from './forward.js';
import { linearPathsBackward, routerBackward } from './reference-parts.js';

/** Inputs of {@link morBackward}: the forward's inputs plus the upstream gradient. */
export interface MorBackwardOptions extends MorForwardOptions {
  /** dL/dy, `[T, d_out]`. */
  upstream: NumArray;
  /**
   * An extra dL/dgates `[T, N]` added before the router backward, e.g. `coef ·` {@link loadBalanceLoss}'s
   * `gateGrad`. Ignored for static routing (the gates depend on no parameter there).
   */
  gateGrad?: NumArray | null;
}

/** Gradients of the loss; `F` is Float32Array from {@link morBackward}, Float64Array from {@link morBackwardF64}. */
export interface MorGradients<F extends NumArray = Float32Array> {
  /** `[r, d_in]`. */
  readonly A: F;
  /** `[d_out, r]`. */
  readonly B: F;
  /** `[N, r]`. */
  readonly omegaA: F;
  /** `[N, d_out]`. */
  readonly omegaB: F;
  /** `[N, d_in]`; null for static routing. */
  readonly routerWeight: F | null;
  /** `[N]`; null for static routing or a router without bias. */
  readonly routerBias: F | null;
  /** dL/dx `[T, d_in]`: base path `Wᵀ g`, adapter path (through the dropout mask) and router path. */
  readonly x: F;
  /** dL/d(router logits) `[T, N]`; zero for unselected top-k experts; null for static routing. */
  readonly logits: F | null;
}

/**
 * The reference MoR backward, in float64. It recomputes the forward activations itself (one extra forward:
 * this is a reference, not the fast path), then applies the chain rule of mor-spec.md §1 token by token.
 */
export function morBackwardF64(options: MorBackwardOptions): MorGradients<Float64Array> {
  const fwd = morForwardF64(options);
  const { tokens, gates, u } = fwd;
  const { x, weights, config, routing, upstream, gateGrad } = options;
  const { dIn, dOut, r, experts: n, A, B, omegaA, omegaB, routerWeight } = weights;
  checkShape('upstream', upstream, [tokens, dOut]);
  const isStatic = routing.mode === 'static';
  if (!isStatic && gateGrad !== undefined && gateGrad !== null) checkShape('gateGrad', gateGrad, [tokens, n]);
  const scaling = config.alpha / config.r;

  const gA = new Float64Array(r * dIn);
  const gB = new Float64Array(dOut * r);
  const gOmegaA = new Float64Array(n * r);
  const gOmegaB = new Float64Array(n * dOut);
  const gX = new Float64Array(tokens * dIn);
  const gGates = new Float64Array(tokens * n);
  const c = new Float64Array(r);
  const w = new Float64Array(r);
  const gU = new Float64Array(r);

  for (let t = 0; t < tokens; t++) {
    gU.fill(0);
    for (let i = 0; i < n; i++) {
      const g = gates[t * n + i];
      // g = 0 (an unselected top-k expert, or a zero static weight): every term below is scaled by g or only
      // feeds the gate gradient, which the router backward multiplies by g again.
      if (g === 0) continue;
      for (let k = 0; k < r; k++) c[k] = omegaA[i * r + k] * u[t * r + k];
      w.fill(0);
      let dGate = 0;
      for (let o = 0; o < dOut; o++) {
        let v = 0; // (B · (omega_A[i] ⊙ u))[o]
        for (let k = 0; k < r; k++) v += B[o * r + k] * c[k];
        const gy = upstream[t * dOut + o];
        const wb = omegaB[i * dOut + o];
        dGate += scaling * gy * wb * v;
        gOmegaB[i * dOut + o] += scaling * g * gy * v;
        const h = scaling * g * wb * gy; // dL/dv
        for (let k = 0; k < r; k++) {
          gB[o * r + k] += h * c[k];
          w[k] += h * B[o * r + k];
        }
      }
      gGates[t * n + i] = dGate;
      for (let k = 0; k < r; k++) {
        gOmegaA[i * r + k] += w[k] * u[t * r + k];
        gU[k] += w[k] * omegaA[i * r + k];
      }
    }
    // u = A · (x ⊙ mask) and the base path y = W x
    linearPathsBackward(t, gU, { ...options, A }, dIn, dOut, gA, gX);
  }

  if (isStatic) {
    return {
      A: gA,
      B: gB,
      omegaA: gOmegaA,
      omegaB: gOmegaB,
      routerWeight: null,
      routerBias: null,
      x: gX,
      logits: null,
    };
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
  return {
    A: gA,
    B: gB,
    omegaA: gOmegaA,
    omegaB: gOmegaB,
    routerWeight: router.routerWeight,
    routerBias: router.routerBias,
    x: gX,
    logits: router.logits,
  };
}

function f32(a: Float64Array): Float32Array;
function f32(a: Float64Array | null): Float32Array | null;
function f32(a: Float64Array | null): Float32Array | null {
  return a === null ? null : Float32Array.from(a);
}

/**
 * The reference MoR backward: given dL/dy, the gradients of every MoR parameter and of `x`, float64 inside,
 * float32 out. Top-k: only the selected logits get a gradient. Static: router gradients are null.
 */
export function morBackward(options: MorBackwardOptions): MorGradients<Float32Array> {
  const g = morBackwardF64(options);
  return {
    A: f32(g.A),
    B: f32(g.B),
    omegaA: f32(g.omegaA),
    omegaB: f32(g.omegaB),
    routerWeight: f32(g.routerWeight),
    routerBias: f32(g.routerBias),
    x: f32(g.x),
    logits: f32(g.logits),
  };
}
