/** Hyper-parameters of {@link adamwReference} (PyTorch `torch.optim.AdamW` defaults). */
export interface AdamWHyper {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (default 0.01, as torch). */
  weightDecay?: number;
}

/** Resolved AdamW hyper-parameters with torch's defaults. */
export function adamwDefaults(h: AdamWHyper): Required<AdamWHyper> {
  return {
    lr: h.lr,
    beta1: h.beta1 ?? 0.9,
    beta2: h.beta2 ?? 0.999,
    eps: h.eps ?? 1e-8,
    weightDecay: h.weightDecay ?? 0.01,
  };
}

/**
 * One AdamW step on one parameter, pure (Loshchilov & Hutter; torch.optim.AdamW). `step` counts from 1.
 * Returns the new parameter and moments.
 */
export function adamwReference(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  step: number,
  hyper: AdamWHyper,
): { param: Float32Array; m: Float32Array; v: Float32Array } {
  const h = adamwDefaults(hyper);
  const out = {
    param: new Float32Array(param.length),
    m: new Float32Array(param.length),
    v: new Float32Array(param.length),
  };
  // bias corrections of the zero-initialised moments
  const c1 = 1 - h.beta1 ** step;
  const c2 = 1 - h.beta2 ** step;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]!;
    // 1. decoupled weight decay: p ← p − lr·wd·p (applied to the parameter, not the gradient)
    const decayed = param[i]! - h.lr * h.weightDecay * param[i]!;
    // 2. first moment: m ← β1·m + (1−β1)·g
    out.m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g;
    // 3. second moment: v ← β2·v + (1−β2)·g²
    out.v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g * g;
    // 4. bias-corrected moments m̂ = m/c1, v̂ = v/c2
    const mHat = out.m[i]! / c1;
    const vHat = out.v[i]! / c2;
    // 5. update: p ← p − lr·m̂ / (√v̂ + ε)
    out.param[i] = decayed - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
  }
  return out;
}
