import type { MorConfig } from './config.js';
import { checkMorLayer } from './check-layer.js';
import type { MorLayerParams } from './layer-weights.js';
import { checkRouting, routeLogits, type MorRouting } from './routing.js';
import { matmulTransposed } from './linalg.js';
import { checkLinearInputs } from './reference-parts.js';
import type { NumArray } from './shape-check.js';

/** Inputs of the reference MoR forward (mor-spec.md §1); shared by {@link morBackward}. */
export interface MorForwardOptions {
  /** Input `[..., d_in]`, flattened row-major to `[T, d_in]` (T = product of the leading dims). */
  x: NumArray;
  /** Frozen base weight `[d_out, d_in]` (PyTorch nn.Linear layout). */
  baseWeight: NumArray;
  /** Frozen base bias `[d_out]`, if the layer has one. */
  baseBias?: NumArray | null;
  /** The MoR parameters (float32 {@link MorLayerWeights}, or float64 copies for gradient checks). */
  weights: MorLayerParams;
  /** `r` and `alpha` give the scaling `alpha / r`; `r` (and `experts`, if given) must match `weights`. */
  config: Pick<MorConfig, 'r' | 'alpha'> & Partial<Pick<MorConfig, 'experts'>>;
  /** Dense, top-k or static routing; see {@link routingFromConfig}. */
  routing: MorRouting;
  /**
   * Dropout multiplier `[T, d_in]` on the adapter input only (the router and the base layer see `x` undropped):
   * 0 for dropped entries, `1/(1-p)` for kept ones. Omit for inference.
   */
  dropoutMask?: NumArray | null;
}

/** Outputs of the reference forward; `F` is Float32Array from {@link morForward}, Float64Array from {@link morForwardF64}. */
export interface MorForwardResult<F extends NumArray = Float32Array> {
  /** Number of tokens T. */
  readonly tokens: number;
  /** Router logits `W_g x + b_g`, `[T, N]`; null for static routing. */
  readonly logits: F | null;
  /** Gates `[T, N]` (softmax, top-k softmax with zeros, or the static gate repeated). */
  readonly gates: F;
  /** Shared low-rank activation `u = A · drop(x)`, `[T, r]`. */
  readonly u: F;
  /** The MoR branch output `[T, d_out]`. */
  readonly delta: F;
  /** `W x + b + delta`, `[T, d_out]`. */
  readonly y: F;
}

/** Validates every input and returns T. */
function checkForwardInputs(options: MorForwardOptions): number {
  const { weights, config, routing } = options;
  checkMorLayer(weights, config);
  const tokens = checkLinearInputs(options, weights.dIn, weights.dOut);
  checkRouting(routing, weights.experts);
  return tokens;
}

/**
 * The reference forward, computed and returned in float64 (inputs may be float32 or float64). This is the
 * per-expert reading of mor-spec.md §1:
 * `delta = (alpha/r) · Σ_i g_i · omega_B[i] ⊙ (B · (omega_A[i] ⊙ u))`, `u = A · drop(x)`.
 */
export function morForwardF64(options: MorForwardOptions): MorForwardResult<Float64Array> {
  const tokens = checkForwardInputs(options);
  const { x, baseWeight, baseBias, weights, config, routing, dropoutMask } = options;
  const { dIn, dOut, r, experts: n, A, B, omegaA, omegaB } = weights;
  const scaling = config.alpha / config.r;

  let logits: Float64Array | null = null;
  let gates: Float64Array;
  if (routing.mode === 'static') {
    gates = new Float64Array(tokens * n);
    for (let t = 0; t < tokens; t++) for (let i = 0; i < n; i++) gates[t * n + i] = routing.gate[i];
  } else {
    logits = matmulTransposed(x, weights.routerWeight, tokens, dIn, n, weights.routerBias);
    gates = routeLogits(logits, tokens, n, routing);
  }

  let xd: NumArray = x;
  if (dropoutMask) {
    const dropped = new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) dropped[j] = x[j] * dropoutMask[j];
    xd = dropped;
  }
  const u = matmulTransposed(xd, A, tokens, dIn, r);

  const delta = new Float64Array(tokens * dOut);
  const c = new Float64Array(r);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < n; i++) {
      const g = gates[t * n + i];
      if (g === 0) continue; // unselected top-k experts contribute nothing
      for (let k = 0; k < r; k++) c[k] = omegaA[i * r + k] * u[t * r + k];
      for (let o = 0; o < dOut; o++) {
        let v = 0;
        for (let k = 0; k < r; k++) v += B[o * r + k] * c[k];
        delta[t * dOut + o] += scaling * g * omegaB[i * dOut + o] * v;
      }
    }
  }

  const y = matmulTransposed(x, baseWeight, tokens, dIn, dOut, baseBias);
  for (let j = 0; j < y.length; j++) y[j] += delta[j];
  return { tokens, logits, gates, u, delta, y };
}

/**
 * The reference MoR forward (mor-spec.md §1) on typed arrays: float64 accumulation inside, float32 out.
 * Throws {@link MorShapeError} naming the first tensor whose shape does not fit.
 */
export function morForward(options: MorForwardOptions): MorForwardResult<Float32Array> {
  const f = morForwardF64(options);
  return {
    tokens: f.tokens,
    logits: f.logits ? Float32Array.from(f.logits) : null,
    gates: Float32Array.from(f.gates),
    u: Float32Array.from(f.u),
    delta: Float32Array.from(f.delta),
    y: Float32Array.from(f.y),
  };
}
