/** Hyper-parameters of {@link sgdReference} (PyTorch `torch.optim.SGD` semantics, no dampening/nesterov). */
export interface SgdHyper {
  lr: number;
  /** Momentum factor (0 = plain SGD). */
  momentum?: number;
  /** L2 penalty added to the gradient (coupled, as in torch SGD). */
  weightDecay?: number;
}

/**
 * One SGD step on one parameter, pure: returns the new parameter and the new momentum buffer.
 * The buffer starts at zeros, which equals torch's "first step copies the gradient" with dampening 0.
 */
export function sgdReference(
  param: Float32Array,
  grad: Float32Array,
  buffer: Float32Array,
  h: SgdHyper,
): { param: Float32Array; buffer: Float32Array } {
  const momentum = h.momentum ?? 0;
  const wd = h.weightDecay ?? 0;
  const nextParam = new Float32Array(param.length);
  const nextBuffer = new Float32Array(param.length);
  for (let i = 0; i < param.length; i++) {
    // 1. coupled weight decay: g ← g + wd·p
    const g = grad[i]! + wd * param[i]!;
    // 2. momentum buffer: b ← μ·b + g (with μ = 0 this is just g)
    nextBuffer[i] = momentum * buffer[i]! + g;
    // 3. descent: p ← p − lr·b
    nextParam[i] = param[i]! - h.lr * nextBuffer[i]!;
  }
  return { param: nextParam, buffer: nextBuffer };
}
