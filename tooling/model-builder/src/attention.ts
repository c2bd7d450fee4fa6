import { DType, INT64_MAX, type GraphBuilder } from './graph-builder.js';

/** float32's lowest value: what transformers adds for masked positions (a fully masked row stays finite). */
const MASK_MIN = -3.4028234663852886e38;

/** Scalar dimension `axis` of `x` (Shape + Gather with a scalar index, as TorchScript writes `x.size(axis)`). */
export function dimOf(g: GraphBuilder, scope: string, x: string, axis: number): string {
  const shape = g.op(scope, 'Shape', [x]);
  return g.op(scope, 'Gather', [shape, g.constI64(scope, [axis], true)], { axis: { i: 0 } });
}

/** `Range(start, limit, 1)` of int64 scalars. */
export function range(g: GraphBuilder, scope: string, start: string, limit: string): string {
  return g.op(scope, 'Range', [start, limit, g.constI64(scope, [1], true)]);
}

/**
 * The additive causal + padding mask `[batch, 1, seq, total]` (0 where allowed, float32 min elsewhere): query `i`
 * sits at absolute position `past + i` with `past = total - seq`, and sees key `j` iff `j <= past + i` and
 * `attention_mask[b, j] == 1`.
 */
export function causalMaskBias(
  g: GraphBuilder,
  scope: string,
  inputIds: string,
  attentionMask: string,
): string {
  const total = dimOf(g, scope, attentionMask, 1);
  const seq = dimOf(g, scope, inputIds, 1);
  const past = g.op(scope, 'Sub', [total, seq]);
  const qPos = g.op(scope, 'Unsqueeze', [range(g, scope, past, total), g.constI64(scope, [1])]);
  const kPos = g.op(scope, 'Unsqueeze', [
    range(g, scope, g.constI64(scope, [0], true), total),
    g.constI64(scope, [0]),
  ]);
  const causal = g.op(scope, 'LessOrEqual', [kPos, qPos]);
  const pad = g.op(scope, 'Cast', [attentionMask], { to: { i: DType.BOOL } });
  const pad4 = g.op(scope, 'Unsqueeze', [pad, g.constI64(scope, [1, 2])]);
  const allowed = g.op(scope, 'And', [pad4, causal]);
  return g.op(scope, 'Where', [allowed, g.constF32(scope, 0), g.constF32(scope, MASK_MIN)]);
}

/** BERT's extended mask `(1 - mask) * min` as `[batch, 1, 1, total]`. */
export function paddingMaskBias(g: GraphBuilder, scope: string, attentionMask: string): string {
  const m = g.op(scope, 'Unsqueeze', [attentionMask, g.constI64(scope, [1, 2])]);
  const mf = g.op(scope, 'Cast', [m], { to: { i: DType.FLOAT } });
  const inv = g.op(scope, 'Sub', [g.constF32(scope, 1), mf]);
  return g.op(scope, 'Mul', [inv, g.constF32(scope, MASK_MIN)]);
}

/** `[batch, seq, heads·dim]` → `[batch, heads, seq, dim]`. */
export function splitHeads(
  g: GraphBuilder,
  scope: string,
  x: string,
  heads: number,
  headDim: number,
): string {
  const r = g.op(scope, 'Reshape', [x, g.constI64(scope, [0, 0, heads, headDim])], { allowzero: { i: 0 } });
  return g.op(scope, 'Transpose', [r], { perm: { ints: [0, 2, 1, 3] } });
}

/** `[batch, heads, seq, dim]` → `[batch, seq, heads·dim]`. */
export function mergeHeads(g: GraphBuilder, scope: string, x: string, width: number): string {
  const t = g.op(scope, 'Transpose', [x], { perm: { ints: [0, 2, 1, 3] } });
  return g.op(scope, 'Reshape', [t, g.constI64(scope, [0, 0, width])], { allowzero: { i: 0 } });
}

/** GQA `repeat_kv`: `[b, kvH, t, d]` → `[b, kvH·rep, t, d]` via Unsqueeze, Expand, Reshape. */
export function repeatKv(
  g: GraphBuilder,
  scope: string,
  x: string,
  rep: number,
  heads: number,
  headDim: number,
): string {
  if (rep === 1) return x;
  const u = g.op(scope, 'Unsqueeze', [x, g.constI64(scope, [2])]);
  const e = g.op(scope, 'Expand', [u, g.constI64(scope, [1, 1, rep, 1, 1])]);
  return g.op(scope, 'Reshape', [e, g.constI64(scope, [0, heads, -1, headDim])], { allowzero: { i: 0 } });
}

/**
 * Eager attention: softmax(q·kᵀ·scale + bias)·v. `scaleOp` picks how the export writes the scale: Llama/Qwen2 `Mul`
 * by 1/√d, GPT-2 and BERT `Div` by √d.
 */
export function attend(
  g: GraphBuilder,
  scope: string,
  q: string,
  k: string,
  v: string,
  bias: string,
  headDim: number,
  scaleOp: 'Mul' | 'Div',
): string {
  const kt = g.op(scope, 'Transpose', [k], { perm: { ints: [0, 1, 3, 2] } });
  const scores = g.op(scope, 'MatMul', [q, kt]);
  const s = Math.sqrt(headDim);
  const scaled = g.op(scope, scaleOp, [scores, g.constF32(scope, scaleOp === 'Mul' ? 1 / s : s)]);
  const probs = g.op(scope, 'Softmax', [g.op(scope, 'Add', [scaled, bias])], { axis: { i: -1 } });
  return g.op(scope, 'MatMul', [probs, v]);
}

/** Llama's `rotate_half` and `x·cos + rotate_half(x)·sin` on `[b, h, s, d]`. */
export function applyRotary(
  g: GraphBuilder,
  scope: string,
  x: string,
  cos: string,
  sin: string,
  headDim: number,
): string {
  const half = headDim / 2;
  const axes = g.constI64(scope, [3]);
  const x1 = g.op(scope, 'Slice', [
    x,
    g.constI64(scope, [0]),
    g.constI64(scope, [half]),
    axes,
    g.constI64(scope, [1]),
  ]);
  const x2 = g.op(scope, 'Slice', [
    x,
    g.constI64(scope, [half]),
    g.constI64(scope, [INT64_MAX]),
    axes,
    g.constI64(scope, [1]),
  ]);
  const rot = g.op(scope, 'Concat', [g.op(scope, 'Neg', [x2]), x1], { axis: { i: -1 } });
  return g.op(scope, 'Add', [g.op(scope, 'Mul', [x, cos]), g.op(scope, 'Mul', [rot, sin])]);
}

/**
 * Rotary tables `cos`, `sin` of shape `[b, 1, s, d]` from int64 `positionIds` `[b, s]` (or `[1, s]`).
 */
export function rotaryTables(
  g: GraphBuilder,
  scope: string,
  positionIds: string,
  headDim: number,
  theta: number,
): { cos: string; sin: string } {
  const invFreq = Array.from({ length: headDim / 2 }, (_, i) => 1 / theta ** ((2 * i) / headDim));
  const pos = g.op(scope, 'Unsqueeze', [
    g.op(scope, 'Cast', [positionIds], { to: { i: DType.FLOAT } }),
    g.constI64(scope, [2]),
  ]);
  const freqs = g.op(scope, 'Mul', [pos, g.constF32(scope, invFreq)]);
  const emb = g.op(scope, 'Concat', [freqs, freqs], { axis: { i: -1 } });
  const heads = g.constI64(scope, [1]);
  return {
    cos: g.op(scope, 'Unsqueeze', [g.op(scope, 'Cos', [emb]), heads]),
    sin: g.op(scope, 'Unsqueeze', [g.op(scope, 'Sin', [emb]), heads]),
  };
}
