import type { MorConfig } from './config.js';
import { MorShapeError } from './errors.js';
import { checkShape, type NumArray } from './shape-check.js';

/**
 * How a MoR layer mixes its experts (mor-spec.md §1, "Routing modes"):
 * `dense` = softmax over all router logits (the paper's); `top-k` = softmax over the k largest logits, 0 for the
 * rest (ties towards the lower expert index); `static` = a fixed gate vector `[N]` for every token, no router.
 */
export type MorRouting =
  | { readonly mode: 'dense' }
  | { readonly mode: 'top-k'; readonly k: number }
  | { readonly mode: 'static'; readonly gate: NumArray };

/** The router-driven routing a config asks for: `dense` when `topK` is null, else `top-k`. */
export function routingFromConfig(config: Pick<MorConfig, 'topK'>): MorRouting {
  return config.topK === null ? { mode: 'dense' } : { mode: 'top-k', k: config.topK };
}

/** A gate giving every one of `experts` experts the same weight 1/N (a neutral static gate). */
export function uniformGate(experts: number): Float32Array {
  if (!Number.isInteger(experts) || experts < 1) {
    throw new MorShapeError(`uniformGate: expected a positive integer expert count, got ${String(experts)}`, {
      tensor: 'gate',
    });
  }
  return new Float32Array(experts).fill(1 / experts);
}

/** Throws a {@link MorShapeError} unless `routing` fits `experts` experts. */
export function checkRouting(routing: MorRouting, experts: number): void {
  if (routing.mode === 'top-k') {
    if (!Number.isInteger(routing.k) || routing.k < 1 || routing.k > experts) {
      throw new MorShapeError(`routing.k: expected an integer in [1, ${experts}], got ${String(routing.k)}`, {
        tensor: 'routing.k',
      });
    }
  } else if (routing.mode === 'static') {
    checkShape('routing.gate', routing.gate, [experts]);
  } else if (routing.mode !== 'dense') {
    throw new MorShapeError(
      `routing.mode: expected "dense", "top-k" or "static", got ${JSON.stringify(routing)}`,
      {
        tensor: 'routing.mode',
      },
    );
  }
}

/**
 * Gates `[T, N]` (float64) from router logits `[T, N]`. For `top-k`, the k largest logits of each token are
 * chosen by repeated arg-max with a strict `>`, so equal logits go to the lower index; the rest get gate 0.
 * Softmax subtracts the row maximum first, so large logits do not overflow.
 */
export function routeLogits(
  logits: NumArray,
  tokens: number,
  experts: number,
  routing: Exclude<MorRouting, { mode: 'static' }>,
): Float64Array {
  const k = routing.mode === 'top-k' ? routing.k : experts;
  const gates = new Float64Array(tokens * experts);
  const chosen = new Uint8Array(experts);
  for (let t = 0; t < tokens; t++) {
    const row = t * experts;
    chosen.fill(k === experts ? 1 : 0);
    for (let pick = 0; pick < k && k < experts; pick++) {
      let best = -1;
      for (let i = 0; i < experts; i++) {
        if (!chosen[i] && (best < 0 || logits[row + i] > logits[row + best])) best = i;
      }
      chosen[best] = 1;
    }
    let max = -Infinity;
    for (let i = 0; i < experts; i++) if (chosen[i]) max = Math.max(max, logits[row + i]);
    let sum = 0;
    for (let i = 0; i < experts; i++) {
      if (!chosen[i]) continue;
      const e = Math.exp(logits[row + i] - max);
      gates[row + i] = e;
      sum += e;
    }
    for (let i = 0; i < experts; i++) gates[row + i] /= sum;
  }
  return gates;
}

/**
 * Backward of {@link routeLogits}: dL/dlogits `[T, N]` from the gates and dL/dgates. For a softmax over the
 * selected set S, dL/dz_j = g_j (dL/dg_j − Σ_{k∈S} g_k dL/dg_k); unselected experts have g_j = 0, so the same
 * formula gives them 0 — the gradient flows only through the selected logits.
 */
export function routerLogitGrad(
  gates: NumArray,
  gateGrad: NumArray,
  tokens: number,
  experts: number,
): Float64Array {
  checkShape('gates', gates, [tokens, experts]);
  checkShape('gateGrad', gateGrad, [tokens, experts]);
  const out = new Float64Array(tokens * experts);
  for (let t = 0; t < tokens; t++) {
    const row = t * experts;
    let dot = 0;
    for (let i = 0; i < experts; i++) dot += gates[row + i] * gateGrad[row + i];
    for (let i = 0; i < experts; i++) {
      const g = gates[row + i];
      out[row + i] = g === 0 ? 0 : g * (gateGrad[row + i] - dot); // exact +0 for unselected experts
    }
  }
  return out;
}
