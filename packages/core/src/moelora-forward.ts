import type { MorConfig } from './config.js';
import { MorShapeError } from './errors.js';
import { matmulTransposed } from './linalg.js';
import { checkMoeLoraLayer, type MoeLoraLayerParams } from './moelora-layer.js';
import { checkRouting, routeLogits, type MorRouting } from './routing.js';
import { checkLinearInputs } from './reference-parts.js';
import type { NumArray } from './shape-check.js';

/** MoELoRA's routing: router-driven only (dense softmax, or top-k), as {@link routingFromConfig} gives it. */
export type MoeLoraRouting = Exclude<MorRouting, { mode: 'static' }>;

/** Inputs of the reference MoELoRA forward (mor-spec.md §7); shared by {@link moeLoraBackward}. */
export interface MoeLoraForwardOptions {
  /** Input `[..., d_in]`, flattened row-major to `[T, d_in]`. */
  x: NumArray;
  /** Frozen base weight `[d_out, d_in]`. */
  baseWeight: NumArray;
  /** Frozen base bias `[d_out]`, if the layer has one. */
  baseBias?: NumArray | null;
  /** The MoELoRA parameters (float32 {@link MoeLoraLayerWeights}, or float64 copies for gradient checks). */
  weights: MoeLoraLayerParams;
  /** `alpha / r` is every expert's scaling; `r` (and `experts`, if given) must match `weights`. */
  config: Pick<MorConfig, 'r' | 'alpha'> & Partial<Pick<MorConfig, 'experts'>>;
  /** Dense or top-k, as for MoR (`routingFromConfig`). */
  routing: MoeLoraRouting;
  /** Dropout multiplier `[T, d_in]` on the experts' input only (the router sees `x` undropped). */
  dropoutMask?: NumArray | null;
}

/** Outputs of the reference forward; `F` is Float32Array from {@link moeLoraForward}, Float64Array from the F64 one. */
export interface MoeLoraForwardResult<F extends NumArray = Float32Array> {
  /** Number of tokens T. */
  readonly tokens: number;
  /** Router logits `W_g x + b_g`, `[T, N]`. */
  readonly logits: F;
  /** Gates `[T, N]` (softmax, or top-k softmax with zeros). */
  readonly gates: F;
  /** Every expert's low-rank activation `u_i = A_i · drop(x)`, `[T, N·r]` expert-major. */
  readonly u: F;
  /** The MoELoRA branch output `[T, d_out]`. */
  readonly delta: F;
  /** `W x + b + delta`, `[T, d_out]`. */
  readonly y: F;
}

/** Validates every input and returns T. */
function checkMoeLoraForwardInputs(options: MoeLoraForwardOptions): number {
  const { weights, config, routing } = options;
  checkMoeLoraLayer(weights, config);
  const tokens = checkLinearInputs(options, weights.dIn, weights.dOut);
  if ((routing as MorRouting).mode === 'static') {
    throw new MorShapeError(
      'routing.mode: MoELoRA has no static routing (its router is part of the adapter); use "dense" or "top-k"',
      { tensor: 'routing.mode' },
    );
  }
  checkRouting(routing, weights.experts);
  return tokens;
}

/**
 * The reference forward, computed and returned in float64 (mor-spec.md §7):
 * `u_i = A_i · drop(x)`, `g = route(W_g x + b_g)`, `delta = (alpha/r) · Σ_i g_i · B_i · u_i`.
 */
export function moeLoraForwardF64(options: MoeLoraForwardOptions): MoeLoraForwardResult<Float64Array> {
  const tokens = checkMoeLoraForwardInputs(options);
  const { x, baseWeight, baseBias, weights, config, routing, dropoutMask } = options;
  const { dIn, dOut, r, experts: n, A, B } = weights;
  const scaling = config.alpha / config.r;
  const logits = matmulTransposed(x, weights.routerWeight, tokens, dIn, n, weights.routerBias);
  const gates = routeLogits(logits, tokens, n, routing);
  let xd: NumArray = x;
  if (dropoutMask) xd = Float64Array.from(x, (v, j) => v * dropoutMask[j]);
  const u = matmulTransposed(xd, A, tokens, dIn, n * r); // A read as [N·r, d_in]
  const delta = new Float64Array(tokens * dOut);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < n; i++) {
      const g = gates[t * n + i];
      if (g === 0) continue; // unselected top-k experts contribute nothing
      for (let o = 0; o < dOut; o++) {
        let v = 0;
        for (let k = 0; k < r; k++) v += B[(i * dOut + o) * r + k] * u[t * n * r + i * r + k];
        delta[t * dOut + o] += scaling * g * v;
      }
    }
  }
  const y = matmulTransposed(x, baseWeight, tokens, dIn, dOut, baseBias);
  for (let j = 0; j < y.length; j++) y[j] += delta[j];
  return { tokens, logits, gates, u, delta, y };
}

/**
 * The reference MoELoRA forward on typed arrays: float64 accumulation inside, float32 out.
 * Throws {@link MorShapeError} naming the first tensor whose shape does not fit.
 */
export function moeLoraForward(options: MoeLoraForwardOptions): MoeLoraForwardResult<Float32Array> {
  const f = moeLoraForwardF64(options);
  return {
    tokens: f.tokens,
    logits: Float32Array.from(f.logits),
    gates: Float32Array.from(f.gates),
    u: Float32Array.from(f.u),
    delta: Float32Array.from(f.delta),
    y: Float32Array.from(f.y),
  };
}
