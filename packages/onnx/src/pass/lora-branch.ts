import type { GraphBuilder } from '../graph/graph-builder.js';

/**
 * Emits a plain LoRA branch on float32 input `x` `[..., d_in]`: `delta = (x·A^T) · (scaling·B)^T`.
 * A `[r,d_in]` and B `[d_out,r]` keep PEFT's shapes so they can be trained as they are.
 */
export function emitLoraBranch(
  b: GraphBuilder,
  x: string,
  p: { A: string; B: string },
  scaling: number,
): string {
  const u = b.op1('MatMul', [x, b.transpose(p.A, [1, 0])]);
  return b.op1('MatMul', [u, b.transpose(b.op1('Mul', [p.B, b.f(scaling, [], 'scaling')]), [1, 0])]);
}
