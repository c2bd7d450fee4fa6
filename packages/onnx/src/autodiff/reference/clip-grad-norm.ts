/**
 * Clips gradients by their global L2 norm, pure (torch.nn.utils.clip_grad_norm_): returns the scaled gradients
 * and the norm before clipping.
 */
export function clipGradNormReference(
  grads: Float32Array[],
  maxNorm: number,
): { grads: Float32Array[]; norm: number } {
  // 1. global norm over every gradient element
  let sumSquares = 0;
  for (const g of grads) for (const x of g) sumSquares += x * x;
  const norm = Math.sqrt(sumSquares);
  // 2. scale factor, capped at 1 (torch adds 1e-6 to the norm)
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  // 3. scaled copies
  return { grads: grads.map((g) => g.map((x) => x * scale)), norm };
}
