import type { GraphBuilder } from '../graph/graph-builder.js';

/** A branch's output and its parameter-only products (what the inference form folds, by name base). */
export interface BranchValues {
  /** `[..., d_out]` float32 branch output, before the cast back to the layer's dtype. */
  delta: string;
  /** `[..., N]` gates (`[N]` for static routing) when asked for; LoRA: null. */
  gates: string | null;
  /** Parameter-only values by the name their folded constant gets: `down`, `up`, … */
  products: Map<string, string>;
}

/**
 * Emits a plain LoRA branch on float32 input `x` `[..., d_in]`: `delta = (x·A^T) · (scaling·B)^T`.
 * A `[r,d_in]` and B `[d_out,r]` keep PEFT's shapes so they can be trained as they are; folded, `down = A^T`
 * and `up = (scaling·B)^T`.
 */
export function emitLoraBranch(
  b: GraphBuilder,
  x: string,
  p: { A: string; B: string },
  scaling: number,
): BranchValues {
  const down = b.transpose(p.A, [1, 0]);
  const up = b.transpose(b.op1('Mul', [p.B, b.f(scaling, [], 'scaling')]), [1, 0]);
  const delta = b.op1('MatMul', [b.op1('MatMul', [x, down]), up]);
  return {
    delta,
    gates: null,
    products: new Map([
      [down, 'down'],
      [up, 'up'],
    ]),
  };
}
